import json
from datetime import datetime, timezone

import pytest

from transforms.records import Article, RawRecord, RejectedRow
from transforms.text import content_hash
from transforms.validate import ValidateLimits, article_id, canonical_url, validate_record


def jsonl(obj_or_text, line=1):
    payload = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
    return RawRecord(source_file="f.jsonl", source_line=line, format="jsonl", payload=payload)


def reason(raw, limits=ValidateLimits()):
    result = validate_record(raw, limits)
    assert isinstance(result, RejectedRow), result
    assert result.stage == "validate" and result.source_file == raw.source_file
    return result.reason


def test_txt_record_becomes_article_with_content_id():
    art = validate_record(RawRecord(source_file="a.txt", format="txt", payload="Hello world."))
    assert isinstance(art, Article)
    assert art.article_id == "c" + content_hash("Hello world.")[:24]
    assert art.text == "Hello world." and art.source_line is None


def test_jsonl_fields_and_id_priority():
    art = validate_record(jsonl({"id": 42, "url": "https://x.org/a", "text": "T", "published_at": "2024-05-01T10:00:00+02:00"}))
    assert art.given_id == "42"
    assert art.article_id == article_id("42", "https://x.org/a", "ignored", publisher="x.org")
    assert art.published_at == datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    assert art.source == "x.org"
    by_url = validate_record(jsonl({"url": "https://x.org/a?utm_source=feed", "text": "T"}))
    assert by_url.article_id == article_id(None, "https://x.org/a", "ignored")
    assert by_url.article_id.startswith("u")


def test_naive_date_is_taken_as_utc():
    art = validate_record(jsonl({"text": "T", "published_at": "2024-05-01 10:00"}))
    assert art.published_at == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("payload,expected", [
    ('{"text": "unterminated', "malformed_json"),
    ("[1, 2]", "not_an_object"),
    ("   ", "blank_line"),
    ({"id": "a"}, "missing_text"),
    ({"text": None}, "missing_text"),
    ({"text": 12}, "wrong_type"),
    ({"text": ["a"]}, "wrong_type"),
    ({"text": "ok", "title": {"x": 1}}, "wrong_type"),
    ({"text": "ok", "published_at": "yesterday"}, "bad_date"),
    ({"text": "ok", "published_at": 1700000000}, "bad_date"),
    ({"text": "ok", "published_at": "1700000000"}, "bad_date"),  # not read as a Unix time
    ({"text": "ok", "published_at": "0001-01-01T00:30:00+01:00"}, "bad_date"),  # before year 1 in UTC
    ({"text": "ok", "published_at": "9999-12-31T23:30:00-01:00"}, "bad_date"),  # after year 9999 in UTC
    ({"text": " \n\t "}, "empty_text"),
    ({"text": "abc\x00\x01\x02\x03"}, "binary_content"),
])
def test_contract_violations_are_rejected_with_reason(payload, expected):
    assert reason(jsonl(payload)) == expected


def test_text_too_long_and_payload_truncated():
    raw = jsonl({"text": "a" * 500})
    rej = validate_record(raw, ValidateLimits(max_text_chars=100), payload_limit=50)
    assert rej.reason == "text_too_long"
    assert rej.payload == raw.payload[:50] and rej.payload_truncated and rej.payload_chars == len(raw.payload)


def test_deeply_nested_json_is_rejected_not_crashing():
    assert reason(jsonl("[" * 100000 + "]" * 100000)) in {"malformed_json", "not_an_object"}


def test_canonical_url_folds_copies_of_one_page():
    same = {
        canonical_url("https://www.Example.com/news/a/?utm_source=x&b=2&a=1#top"),
        canonical_url("http://example.com:80/news/a?a=1&b=2"),
        canonical_url("HTTPS://example.com/news/a?a=1&b=2&fbclid=zz"),
    }
    assert same == {"https://example.com/news/a?a=1&b=2"}
    assert canonical_url("mailto:x@y.z") is None
    assert canonical_url("not a url") is None
    assert canonical_url("http://[::1") is None


def test_content_hash_ignores_case_and_whitespace_only():
    assert content_hash("Hello  World\n") == content_hash("hello world")
    assert content_hash("Hello World") != content_hash("Hello World!")


def test_lone_surrogates_are_replaced_and_flagged():
    art = validate_record(jsonl('{"text": "a\\ud800b and more text", "title": "t\\udfff"}'))
    assert art.text == "a\ufffdb and more text" and art.given_title == "t\ufffd"
    assert art.text_encoding == "utf-8+surrogates_replaced"


def test_huge_metadata_field_is_rejected():
    assert reason(jsonl({"text": "ok", "title": "t" * 5000})) == "field_too_long"


def test_a_given_id_is_scoped_by_its_publisher():
    one = validate_record(jsonl({"id": "1", "source": "Daily Planet", "text": "A"}))
    other = validate_record(jsonl({"id": "1", "source": "Gotham Gazette", "text": "B"}))
    again = validate_record(jsonl({"id": " 1 ", "source": "DAILY   planet", "text": "C"}))
    by_host = validate_record(jsonl({"id": "1", "url": "https://www.planet.example/x", "text": "D"}))
    same_host = validate_record(jsonl({"id": "1", "url": "http://planet.example/y?utm_source=rss", "text": "E"}))
    assert one.article_id != other.article_id  # two publishers' story "1" are two articles
    assert one.article_id == again.article_id  # the same publisher, however the source is spelt
    assert by_host.article_id == same_host.article_id != one.article_id
    assert {a.given_id for a in (one, other, again, by_host)} == {"1"}
    assert all(a.article_id.startswith("i") and len(a.article_id) == 25 for a in (one, other, by_host))


def test_an_id_without_a_publisher_is_no_identity():
    """A CMS export without source or URL numbers its stories from 1 in every file: its id names
    no story beyond its record, so the article is identified by its content."""
    monday = validate_record(RawRecord(source_file="monday.jsonl", source_line=1, format="jsonl",
                                       payload=json.dumps({"id": "1", "text": "The dam story."})))
    tuesday = validate_record(RawRecord(source_file="tuesday.jsonl", source_line=1, format="jsonl",
                                        payload=json.dumps({"id": "1", "text": "The council story."})))
    again = validate_record(jsonl({"id": "1", "text": "The council story."}, line=7))
    no_id = validate_record(jsonl({"text": "The council  story."}))
    assert monday.article_id != tuesday.article_id and monday.given_id == tuesday.given_id == "1"
    assert tuesday.article_id == again.article_id == no_id.article_id == "c" + content_hash("The council story.")[:24]
    assert article_id("1", None, content_hash("x")) == "c" + content_hash("x")[:24]
    assert article_id("1", "https://x.org/a", "ignored") == article_id(None, "https://x.org/a", "ignored")
    # a publisher, from the source or the URL's host, makes the id an identity as before
    assert article_id("1", None, "ignored", publisher="planet").startswith("i")
    assert validate_record(jsonl({"id": "1", "url": "https://x.org/a", "text": "T"})).article_id.startswith("i")
    # a URL that is not a web URL names no publisher
    assert validate_record(jsonl({"id": "1", "url": "/news/1", "text": "T"})).article_id == "c" + content_hash("T")[:24]


def test_canonical_url_keeps_a_fragment_that_routes():
    stories = {canonical_url(f"https://spa.example/#/story/{i}") for i in (1, 2, 3)}
    assert stories == {f"https://spa.example#/story/{i}" for i in (1, 2, 3)}
    assert canonical_url("http://www.spa.example/app/?utm_source=x#!/story/1/") == "https://spa.example/app#!/story/1"
    assert canonical_url("https://spa.example/#/story/1#comments") == "https://spa.example#/story/1"
    for anchor in ("#comments", "#section-2", "#", "#/", "#!", "#!/"):  # an anchor, or the app's root
        assert canonical_url(f"https://news.example/a/{anchor}") == "https://news.example/a"


@pytest.mark.parametrize("given,expected", [(1.0, "1"), (2.0, "2"), (-3.0, "-3"), (0.0, "0"), (1e20, str(10 ** 20)),
                                            (float("nan"), None), (None, None), (7, "7")])
def test_an_integral_float_id_is_an_id(given, expected):
    art = validate_record(jsonl(json.dumps({"id": given, "source": "Planet", "text": "T"})))
    assert isinstance(art, Article) and art.given_id == expected


@pytest.mark.parametrize("given", [1.5, float("inf"), float("-inf"), True, [1]])
def test_a_float_that_is_not_an_integer_is_no_id(given):
    assert reason(jsonl(json.dumps({"id": given, "text": "T"}))) == "wrong_type"


def test_content_hash_ignores_invisible_characters():
    original = "The cat sat on the mat.\nA soft\u00adware bug."
    for copy in ("The\u200b cat\u200b sat on the mat.\nA soft\u00adware bug.",
                 "T\u200bhe c\u200bat s\u2060at on the\u200d mat.\n\ufeffA software bug.",
                 "\u200e" + original + "\u200f\u202a\u202c"):
        assert content_hash(copy) == content_hash(original)
    assert content_hash("cafe\u200b\u0301") == content_hash("caf\u00e9")  # removed before NFKC composes
    art = validate_record(jsonl({"text": "T\u200bhe cat."}))
    assert art.text == "T\u200bhe cat." and art.article_id == "c" + content_hash("The cat.")[:24]
