"""Property tests: every pure stage function takes any input without raising, and keeps its invariants."""
import io
import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.dedupe.rules import decide, fingerprint
from transforms.language import Detectors, detect_language
from transforms.io.formats import bounded_lines, decode_bytes
from transforms.records import Article, RawRecord, RejectedRow
from transforms.text import content_hash
from transforms.validate import article_id, canonical_url, validate_record
from transforms.io.rows import TABLES, partition_dir

ANY_TEXT = st.text(alphabet=st.characters(codec=None), max_size=400)  # includes lone surrogates
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_TEXT, children, max_size=4),
    max_leaves=12)


@given(st.binary(max_size=2000))
def test_decode_never_raises_and_round_trips_utf8(data):
    text, encoding = decode_bytes(data)
    assert isinstance(text, str)
    if encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf"):
        assert text.encode("utf-8") == data


@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30), st.integers(1, 64))
def test_bounded_lines_keeps_every_line_within_its_limit(lines, limit):
    data = b"\n".join(lines)
    got = list(bounded_lines(io.BytesIO(data), limit))
    expected = data.split(b"\n") if data else []
    if expected and expected[-1] == b"":
        expected = expected[:-1]
    assert [n for n, _, _ in got] == list(range(1, len(expected) + 1))
    assert [(b, size) for _, b, size in got] == [(line[:limit], len(line)) for line in expected]


@given(ANY_TEXT, st.sampled_from(["txt", "jsonl", "parquet"]))
def test_validate_never_raises_on_any_payload(payload, fmt):
    result = validate_record(RawRecord(source_file="f", source_line=1, format=fmt, payload=payload))
    assert isinstance(result, (Article, RejectedRow))
    if isinstance(result, RejectedRow):
        assert result.stage == "validate" and result.reason


@given(st.dictionaries(st.sampled_from(["text", "id", "url", "title", "source", "published_at", "x"]), JSON_VALUES))
def test_validate_never_raises_on_any_json_object(obj):
    payload = json.dumps(obj)
    result = validate_record(RawRecord(source_file="f", source_line=1, format="jsonl", payload=payload))
    if isinstance(result, Article):
        assert isinstance(obj.get("text"), str) and obj["text"].strip()
        # strings that reach Parquet must be encodable as UTF-8
        result.text.encode("utf-8")
        (result.given_title or "").encode("utf-8")
    else:
        assert result.reason


@given(ANY_TEXT)
def test_canonical_url_never_raises_and_is_idempotent(url):
    once = canonical_url(url)
    assert once is None or canonical_url(once) == once


@given(st.text(min_size=1, max_size=200), st.text(alphabet=" \t\n", min_size=1, max_size=5))
def test_content_hash_ignores_whitespace_runs(text, spaces):
    assert content_hash(text) == content_hash(text.replace(" ", spaces))


@given(st.one_of(st.none(), ANY_TEXT), st.one_of(st.none(), st.text(max_size=50)), st.text(max_size=50))
def test_article_id_is_stable_and_never_empty(given_id, canonical, text):
    digest = content_hash(text)
    first = article_id(given_id, canonical, digest)
    assert first and first == article_id(given_id, canonical, digest)


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), st.sampled_from([None, "x", "y"]),
                          st.sampled_from(["Body one here.", "Body two, longer than one.", "Three."]),
                          st.integers(0, 9)), min_size=1, max_size=7, unique_by=lambda t: t[4]), st.randoms())
def test_the_kept_article_does_not_depend_on_arrival_order(specs, rnd):
    arts = [Article(article_id=i, source_file="f", source_line=line, text=body, content_hash=body,
                    paragraphs=(body,), canonical_url=f"https://{url}.example/" if url else None,
                    published_at=datetime(2024, 1, d, tzinfo=timezone.utc) if d else None)
            for i, d, url, body, line in specs]
    shuffled = list(arts)
    rnd.shuffle(shuffled)
    verdicts_a = decide(map(fingerprint, arts))
    verdicts_b = decide(map(fingerprint, shuffled))
    assert verdicts_a == verdicts_b
    kept = {fingerprint(a).rk for a in arts} - set(verdicts_a)
    assert kept and all(v.target in kept for v in verdicts_a.values())  # every verdict names a kept record


@given(ANY_TEXT)
def test_partition_folder_never_escapes(value):
    folder = partition_dir(TABLES["articles"], {"language": value})
    assert folder.startswith("language=") and "/" not in folder and "\\" not in folder
    assert folder not in ("language=.", "language=..")


@pytest.fixture(scope="module")
def detectors():
    return Detectors()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150, deadline=None)
@given(text=ANY_TEXT)
def test_language_never_raises(detectors, text):
    code, prob, others = detect_language(detectors, text)
    assert (code == "und" and prob == 0.0) or (len(code) == 2 and code.isalpha() and 0.0 < prob <= 1.0)
    assert code not in others and all(len(c) == 2 for c in others)


@pytest.fixture(scope="module")
def english():
    from transforms.entities import DEFAULT_MODELS, load_model

    return load_model(DEFAULT_MODELS["en"])


WORDISH = st.lists(st.sampled_from(["Paris", "Angela Merkel", "the", "met", "in", "Google", ",", ".", "\n\n", "é",
                                    "🙂", "\u200b", "New York", "on", "Monday", "  "]), max_size=40).map(" ".join)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40, deadline=None)
@given(body=WORDISH)
def test_entity_offsets_point_at_their_text(english, body):
    from transforms.entities import tag_batch

    art = Article(article_id="a", source_file="f", text=body, content_hash="h", paragraphs=(body,), language="en")
    (tagged,) = tag_batch([art], lambda lang: english, batch_size=1)
    for e in tagged.entities:
        assert tagged.body[e.start:e.end] == e.text
