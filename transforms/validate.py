"""Validate: the pydantic contract applied to raw records; identity (ids, hashes, URLs) assigned.

Lone surrogates (from JSON escapes such as ``"\\ud800"``) are replaced by U+FFFD and the article's
``text_encoding`` gets ``+surrogates_replaced``.

Reason codes sent to ``rejected/`` from this stage:

================== ===========================================================
malformed_json     a ``.jsonl`` line that is not JSON
not_an_object      JSON that is not an object (a list, a number, ...)
blank_line         an empty line inside a ``.jsonl`` file
missing_text       no ``text`` field
wrong_type         a field of the wrong type (``text`` as a number, a list ...)
bad_date           ``published_at`` that is not an ISO 8601 date/time
empty_text         text that is empty or whitespace only
text_too_long      text over ``max_text_chars``
binary_content     text that is mostly control characters / NUL bytes
field_too_long     ``id``, ``url``, ``title`` or ``source`` over 4096 characters
================== ===========================================================
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Optional, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import apache_beam as beam
from apache_beam.metrics import Metrics
from pydantic import ValidationError

from transforms.config import DEFAULT_PAYLOAD_LIMIT, RunConfig, ValidateLimits
from transforms.records import (Article, ArticleInput, RawRecord, RejectedRow, has_lone_surrogates,
                                replace_lone_surrogates)
from transforms.rejects import REJECTED, STAGE_ERROR, DeadLetterDoFn, StageOutput, fault_detail, make_rejection
from transforms.text import content_hash

STAGE = "validate"
_WS = re.compile(r"\s+")
_TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|ocid|cmpid)$", re.IGNORECASE)
# Control characters (Unicode category Cc) other than \t \n \v \f \r.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_ROUTE_END = re.compile(r"[\s/]+$")
MAX_FIELD_CHARS = 4096  # id, url, title, source


def canonical_url(url: Optional[str]) -> Optional[str]:
    """A URL normalised so that copies of one page compare equal; None if it is not a web URL.

    Scheme folded to https, host lower-cased without ``www.`` and default ports, tracking parameters
    (utm_*, fbclid, gclid, ...) dropped, query sorted, trailing slash dropped. A fragment is dropped
    unless it routes a single-page app (:func:`app_route`): ``#comments`` is a place on the page,
    ``#/story/1`` is the page.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING_PARAMS.match(k)))
    path = parts.path.rstrip("/") if parts.path not in ("", "/") else ""
    return urlunsplit(("https", host, path, query, app_route(parts.fragment)))


def app_route(fragment: str) -> str:
    """The part of a URL's fragment that names a page of a single-page app: a fragment starting with
    ``/`` or ``!`` (``#/story/1``, ``#!/story/1``) without an anchor of its own (``#/story/1#top``)
    or trailing slashes; '' for a plain anchor (``#comments``) and for the app's root (``#/``, ``#!``)."""
    if fragment[:1] not in ("/", "!"):
        return ""
    path = _ROUTE_END.sub("", fragment.split("#", 1)[0])
    return "" if path in ("", "!") else path


def publisher_key(source: Optional[str], canonical: Optional[str]) -> str:
    """Who published a record, as the scope of its own id: the ``source`` field (case-folded,
    whitespace collapsed), else the canonical URL's host, else '' (unknown: the id is no identity,
    see :func:`article_id`)."""
    if source and source.strip():
        return _WS.sub(" ", source.casefold()).strip()
    if canonical:
        return urlsplit(canonical).netloc
    return ""


def article_id(given: Optional[str], canonical: Optional[str], digest: str, publisher: str = "") -> str:
    """Stable id, unique across publishers.

    A given id is only unique within its publisher (two sites may both have a story "1"), so it is
    scoped by :func:`publisher_key`: 'i' + hash of (publisher, id). Without an id: 'u' + hash of
    the canonical URL, else 'c' + hash of the normalised content.

    An id without a publisher (no source, no web URL) is no identity: a CMS export numbers its
    stories from 1 in every file or every day, so the same id with another body is another story,
    and the article is identified by its content ('c'), like a record without an id (the id stays
    in ``given_id``). Not by its file: the same id twice in one file may be two stories too, and a
    hash of the path would change the ids of the same input read from another folder or bucket.
    """
    if given and given.strip() and publisher:
        scoped = f"{publisher}\x00{given.strip()}"
        return "i" + hashlib.sha256(scoped.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    if canonical:
        return "u" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:24]
    return "c" + digest[:24]


def looks_binary(text: str, ratio: float) -> bool:
    sample = text[:65536]
    if not sample:
        return False
    control = len(_CONTROL.findall(sample))
    return control / len(sample) > ratio


def _reason_for(error: ValidationError) -> tuple[str, str]:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "record"
    if field == "text" and (first["type"] == "missing" or first.get("input", "") is None):
        return "missing_text", "the record has no 'text' field"
    if field == "published_at":
        return "bad_date", f"published_at is not an ISO 8601 date/time: {first['msg']}"
    return "wrong_type", f"field {field!r}: {first['msg']}"


def parse_input(raw: RawRecord) -> Union[ArticleInput, tuple[str, str]]:
    """The record's fields, or (reason, detail) saying why they cannot be read."""
    if raw.format == "txt":
        return ArticleInput(text=raw.payload)
    if not raw.payload.strip():
        return "blank_line", "empty line in a JSONL file"
    try:
        data = json.loads(raw.payload)
    except (ValueError, RecursionError) as exc:
        return "malformed_json", f"{type(exc).__name__}: {exc}"
    if not isinstance(data, dict):
        return "not_an_object", f"a JSON {type(data).__name__}, not an object"
    try:
        return ArticleInput.model_validate(data)
    except ValidationError as exc:
        return _reason_for(exc)


def reject_raw(raw: RawRecord, reason: str, detail: str, payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    return make_rejection(STAGE, reason, detail, source_file=raw.source_file, source_line=raw.source_line,
                          payload=raw.payload, limit=payload_limit, fmt=raw.format)


def validate_record(raw: RawRecord, limits: ValidateLimits = ValidateLimits(),
                    payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> Union[Article, RejectedRow]:
    """Turn a raw record into an :class:`Article`, or say why it cannot be one."""

    def reject(reason: str, detail: str) -> RejectedRow:
        return reject_raw(raw, reason, detail, payload_limit)

    parsed = parse_input(raw)
    if isinstance(parsed, tuple):
        return reject(*parsed)
    text = parsed.text
    encoding = raw.text_encoding
    if has_lone_surrogates(text):
        text = replace_lone_surrogates(text)
        encoding += "+surrogates_replaced"
    for name in ("id", "url", "title", "source"):
        value = getattr(parsed, name)
        if value is not None and len(value) > MAX_FIELD_CHARS:
            return reject("field_too_long", f"field {name!r} has {len(value)} characters, over {MAX_FIELD_CHARS}")
        if value is not None:
            setattr(parsed, name, replace_lone_surrogates(value))
    if not text.strip():
        return reject("empty_text", "text is empty or whitespace only")
    if len(text) > limits.max_text_chars:
        return reject("text_too_long", f"{len(text)} characters, over the {limits.max_text_chars}-character limit")
    if looks_binary(text, limits.binary_control_ratio):
        return reject("binary_content", "more than "
                      f"{limits.binary_control_ratio:.0%} of the first 64K characters are control characters")
    digest = content_hash(text)
    canonical = canonical_url(parsed.url)
    source = parsed.source or (urlsplit(canonical).hostname if canonical else None)
    given_id = parsed.id.strip() if parsed.id and parsed.id.strip() else None
    return Article(
        article_id=article_id(given_id, canonical, digest, publisher_key(parsed.source, canonical)),
        given_id=given_id,
        source_file=raw.source_file,
        source_line=raw.source_line,
        format=raw.format,
        url=parsed.url,
        canonical_url=canonical,
        source=source,
        given_title=parsed.title.strip() if parsed.title and parsed.title.strip() else None,
        published_at=parsed.published_at,
        text=text,
        text_encoding=encoding,
        content_hash=digest,
    )


class _Validate(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, limits: ValidateLimits, payload_limit: int):
        super().__init__(payload_limit)
        self._limits = limits
        self._valid = Metrics.counter(STAGE, "valid")

    def handle(self, raw: RawRecord):
        result = validate_record(raw, self._limits, self.payload_limit)
        if isinstance(result, Article):
            self._valid.inc()
        yield result

    def fault_row(self, raw: RawRecord, exc: BaseException) -> RejectedRow:
        return reject_raw(raw, STAGE_ERROR, fault_detail(exc), self.payload_limit)


class ValidateArticles(beam.PTransform):
    """RawRecord -> Article; records breaking the contract go to the ``rejected`` output."""

    def __init__(self, config: Optional[RunConfig] = None):
        super().__init__()
        self._config = config or RunConfig()

    def expand(self, records):
        out = records | "Check Record Contract" >> beam.ParDo(
            _Validate(self._config.validate, self._config.payload_limit)).with_outputs(REJECTED, main="articles")
        return StageOutput(out.articles, out[REJECTED])
