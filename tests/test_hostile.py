"""Hostile input through the real command line: the run completes, nothing is lost, nothing escapes."""
import glob
import json
import os
import subprocess
from collections import defaultdict

import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.hostile import write_corpus
from support import NEWSBEAM, PROJECT_ROOT


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "in"
    # A 1 GiB bomb against a 256 MiB limit keeps the test quick; benchmarks/hostile.py uses the defaults.
    expect = write_corpus(str(corpus), bomb_bytes=1 << 30)
    out = base / "out"
    proc = subprocess.run([NEWSBEAM, "run", "--input", str(corpus), "--output", str(out),
                           "--max-decompressed-bytes", str(256 << 20)],
                          capture_output=True, text=True, timeout=900)
    return base, expect, out, proc


def outcomes(out):
    by_file = defaultdict(set)
    for row in pq.read_table(out / "articles").to_pylist():
        by_file[os.path.basename(row["source_file"])].add("article")
    for row in pq.read_table(out / "duplicates").to_pylist():
        by_file[os.path.basename(row["source_file"])].add("duplicate")
    for row in pq.read_table(out / "rejected").to_pylist():
        by_file[os.path.basename(row["source_file"])].add(f"rejected:{row['stage']}.{row['reason']}")
    return by_file


@pytest.mark.slow
def test_run_completes_and_counts_reconcile(hostile_run):
    _, _, out, proc = hostile_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "run.json").read_text())
    assert summary["reconciled"] is True
    rows = sum(pq.read_table(out / t).num_rows for t in ("articles", "duplicates", "rejected"))
    assert rows == summary["records_in"]


@pytest.mark.slow
def test_every_file_is_accounted_for_as_expected(hostile_run):
    _, expect, out, _ = hostile_run
    got = outcomes(out)
    for name, expectation in expect.items():
        seen = got.get(name, set())
        assert seen, f"{name} vanished without a trace"
        if expectation == "article":
            assert "article" in seen, (name, seen)
        elif expectation.startswith("rejected:"):
            assert expectation in seen, (name, seen)
        else:
            assert "article" in seen or any(s.startswith("rejected:") for s in seen), (name, seen)


@pytest.mark.slow
def test_bad_jsonl_lines_get_their_own_reasons(hostile_run):
    _, _, out, _ = hostile_run
    rejected = [r for r in pq.read_table(out / "rejected").to_pylist() if r["source_file"].endswith("malformed.jsonl")]
    reasons = {r["source_line"]: r["reason"] for r in rejected}
    assert reasons == {1: "malformed_json", 2: "not_an_object", 3: "not_an_object", 4: "wrong_type",
                       5: "wrong_type", 6: "missing_text", 7: "wrong_type", 8: "blank_line",
                       9: "malformed_json", 10: "field_too_long", 13: "bad_date"}
    for r in rejected:
        assert len(r["payload"]) <= 4096 and r["payload_chars"] >= len(r["payload"])


@pytest.mark.slow
def test_truncated_gzip_keeps_what_was_readable(hostile_run):
    _, _, out, _ = hostile_run
    got = outcomes(out)["truncated.jsonl.gz"]
    assert "article" in got or "duplicate" in got


@pytest.mark.slow
def test_values_from_data_never_become_paths(hostile_run):
    base, _, out, _ = hostile_run
    inside = {os.path.relpath(os.path.join(root, f), base) for root, _, files in os.walk(base) for f in files}
    assert all(p.startswith(("in/", "out/")) for p in inside), sorted(p for p in inside if not p.startswith(("in/", "out/")))
    partitions = sorted(p for p in os.listdir(out / "articles") if p != "_delta_log")
    assert all(p.startswith("language=") and "/" not in p and ".." not in p for p in partitions)
    (row,) = [r for r in pq.read_table(out / "articles").to_pylist() if r["given_id"] == "../../../etc/passwd"]
    assert row["source"] == "../../escape"  # kept as data, used for nothing else


@pytest.mark.slow
def test_unicode_survives_to_parquet(hostile_run):
    _, _, out, _ = hostile_run
    arts = {os.path.basename(r["source_file"]): r for r in pq.read_table(out / "articles").to_pylist()}
    assert arts["rtl-zero-width.txt"]["language"] == "ar"
    assert arts["bom-utf16.txt"]["text_encoding"] == "utf-16"
    assert arts["invalid-utf8.txt"]["text_encoding"] in ("cp1252", "latin-1")
    assert "\r" not in arts["crlf.txt"]["body"]
    lone = [r for r in pq.read_table(out / "articles").to_pylist() if "+surrogates_replaced" in r["text_encoding"]]
    assert len(lone) == 1 and "\ufffd" in lone[0]["body"]


def test_no_code_path_evaluates_or_unpickles_input():
    """Nothing read from the data is ever executed or deserialised beyond JSON and Parquet."""
    import re

    root = PROJECT_ROOT
    banned = re.compile(r"\b(eval|exec)\s*\(|pickle\.loads?\(|yaml\.(unsafe_)?load\(|marshal\.loads?\(|shell=True")
    offenders = []
    paths = [p for folder in ("transforms", "pipelines")
             for p in glob.glob(os.path.join(root, folder, "**", "*.py"), recursive=True)]
    assert any(os.sep + "dedupe" + os.sep in p for p in paths)  # the packages are scanned too
    for folder in ("transforms", "pipelines"):
        for path in (p for p in paths if os.path.relpath(p, root).startswith(folder)):
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                if banned.search(line):
                    offenders.append(f"{os.path.relpath(path, root)}:{number}: {line.strip()}")
    assert offenders == []
