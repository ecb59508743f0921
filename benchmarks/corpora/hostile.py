"""A hostile input corpus, generated (never stored as binaries), and what must become of each file.

``write_corpus(folder)`` writes every case and returns ``{file name: expectation}`` where an
expectation is ``"article"`` (at least one row in articles/), ``"article|rejected"`` (either,
with a reason), or ``"rejected:<stage>.<reason>"`` (that exact rejection must be among its rows).
Used by tests/test_hostile.py and benchmarks/hostile.py.
"""
from __future__ import annotations

import gzip
import json
import os

from benchmarks.corpora.textgen import paragraph

ARTICLE = (
    "The regional council met on Thursday to discuss the new harbour bridge, which engineers say "
    "will cut travel times across the bay by half once it opens next spring.\n"
    "Council members approved an extra budget for inspections after a report found cracks in two "
    "of the older supporting pillars near the northern shore.\n"
)
ARABIC = ("\u200fأعلن مجلس المدينة يوم الخميس عن خطة جديدة لتوسيع شبكة الحافلات في الأحياء الشمالية "
          "وتحسين الخدمة للركاب خلال ساعات الذروة.\u200f\n"
          "وقال رئيس\u200c المجلس إن المشروع سيكتمل خلال عامين وإن التمويل متوفر بالكامل.\n")
MB = 1 << 20


def article(case: str) -> str:
    """A different story per case (the sample's first sentence, then text of the case's own), so
    that cases are neither exact nor near copies of each other."""
    first = ARTICLE.splitlines()[0]
    return (f"{first}\n{paragraph(case, sentences=5)}\n"
            f"The inspection report for case {case} was published on the council website.\n")


def _gzip_bomb(path: str, expanded_bytes: int) -> None:
    """A small .gz of many identical gzip members (a valid multi-member file) of zeros."""
    member = gzip.compress(b"\0" * (64 * MB), compresslevel=9)
    with open(path, "wb") as handle:
        for _ in range(max(1, expanded_bytes // (64 * MB))):
            handle.write(member)


def write_corpus(folder: str, bomb_bytes: int = 6 << 30) -> dict[str, str]:
    os.makedirs(folder, exist_ok=True)
    expect: dict[str, str] = {}

    def put(name: str, data: bytes, expectation: str) -> None:
        with open(os.path.join(folder, name), "wb") as handle:
            handle.write(data)
        expect[name] = expectation

    put("invalid-utf8.txt", article("invalid-utf8.txt").replace("bay", "ba\xff").encode("cp1252", "replace")
        .replace(b"ba?", b"ba\xff\xfe"), "article")
    put("nul-bytes.txt", article("nul-bytes.txt").replace("bridge", "bri\0dge").encode(), "article")
    put("binary.txt", bytes(range(256)) * 64, "rejected:validate.binary_content")
    put("bom-utf8.txt", b"\xef\xbb\xbf" + article("bom-utf8.txt").encode(), "article")
    put("bom-utf16.txt", article("bom-utf16.txt").encode("utf-16"), "article")
    put("crlf.txt", article("crlf.txt").replace("\n", "\r\n").encode(), "article")
    put("empty.txt", b"", "rejected:validate.empty_text")
    put("whitespace-only.txt", b"  \n\t\r\n   \n", "rejected:validate.empty_text")
    put("fifty-mb-line.txt", b"x" * (50 * MB), "rejected:read.record_too_large")
    put("fifty-mb-line.jsonl", b'{"text": "' + b"y" * (50 * MB) + b'"}\n{"text": ' + json.dumps(article("fifty-mb-line.jsonl")).encode() + b"}\n",
        "rejected:read.record_too_large")
    put("million-one-char-lines.txt", b"a\n" * 1_000_000, "article|rejected")
    with open(os.path.join(folder, "bomb.txt.gz"), "wb"):
        pass
    _gzip_bomb(os.path.join(folder, "bomb.txt.gz"), bomb_bytes)
    expect["bomb.txt.gz"] = "rejected:read.decompressed_too_large"
    whole = gzip.compress(b"".join(json.dumps({"id": f"t{i}", "text": article(f"gzip-{i}")}).encode() + b"\n"
                                   for i in range(3000)))
    put("truncated.jsonl.gz", whole[: len(whole) // 2], "rejected:read.truncated_file")
    bad_lines = [
        b"not json at all",
        b"[1, 2, 3]",
        b"42",
        b'{"text": 5}',
        b'{"text": ["a", "list"]}',
        b'{"text": null}',
        b'{"text": {"nested": true}}',
        b"",
        b"[" * 200_000 + b"]" * 200_000,
        json.dumps({"text": article("huge-title"), "title": "t" * 100_000}).encode(),
        b'{"text": "\\ud800 lone surrogate then a real sentence about the harbour bridge and the council."}',
        json.dumps({"text": article("path"), "source": "../../escape", "id": "../../../etc/passwd"}).encode(),
        json.dumps({"text": article("bad-date"), "published_at": "31/02/2024"}).encode(),
    ]
    put("malformed.jsonl", b"\n".join(bad_lines) + b"\n", "rejected:validate.malformed_json")
    put("no-letters.txt", b"12345 67890 2024-01-01 10:00 +44 20 7946 0000\n" * 20, "article|rejected")
    put("emoji-only.txt", ("\U0001F600\U0001F680\U0001F30D " * 200).encode(), "article|rejected")
    put("rtl-zero-width.txt", ARABIC.encode(), "article")
    put("mixed-scripts.txt", (article("mixed-scripts.txt") + "Совет также обсудил бюджет на следующий год и новые автобусные линии.\n"
                              "評議会は来年度の予算についても議論した。\n").encode(), "article")
    put("not-really.parquet", b"this is not a parquet file", "rejected:read.unreadable_file")
    put("control-chars.jsonl", json.dumps({"text": article("control-chars.jsonl") + "\x1b[31mred\x1b[0m \x07\x08"}).encode() + b"\n", "article")
    return expect
