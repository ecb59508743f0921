"""The dead-letter contract: how every stage turns a record it cannot use into a ``rejected/`` row.

Three kinds of failure, three outcomes:

* a verdict on one record (malformed JSON, no body left, a rule that raised on one page): a
  :class:`RejectedRow` on the stage's ``rejected`` output, counted as
  ``Metrics.counter(stage, 'rejected_<reason>')``; faults get the reason ``stage_error`` (the stages
  after Dedupe keep the article instead, marked: see :func:`mark_stage_error`);
* a failure of the whole stage (a model that cannot load, a batch that fails as a whole):
  :class:`StageFailure` is raised and the run fails without publishing;
* a transient I/O error (a reset connection, a 503 from an object store): raised as it is, so the
  runner retries the bundle instead of recording a rejection that a retry would have avoided.

:class:`DeadLetterDoFn` applies these rules once for every stage; a stage only says how to
handle one element (``handle``) and what to replay when handling it raises (``fault_row``).
"""
from __future__ import annotations

import errno
import json
import socket
from typing import Any, Iterable, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import DEFAULT_PAYLOAD_LIMIT
from transforms.records import Article, RejectedRow, replace_lone_surrogates

REJECTED = "rejected"  # tag of every stage's dead-letter output
STAGE_ERROR = "stage_error"  # reason of a rejection made because the stage raised on the record

_TRANSIENT_ERRNOS = frozenset({errno.EAGAIN, errno.ETIMEDOUT, errno.ECONNRESET, errno.ECONNABORTED,
                               errno.ECONNREFUSED, errno.EPIPE, errno.ENETUNREACH, errno.EHOSTUNREACH,
                               errno.ENETDOWN, errno.EINTR})
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Exception classes of object-store and HTTP clients (botocore, google-api-core, requests, urllib3)
# named here rather than imported: those libraries are optional.
_TRANSIENT_NAMES = ("Timeout", "ConnectionError", "ConnectionClosed", "ServiceUnavailable", "TooManyRequests",
                    "InternalServerError", "BadGateway", "GatewayTimeout", "RetryError", "ProtocolError",
                    "IncompleteRead", "EndpointConnectionError", "SlowDown", "Throttl")


class StageFailure(RuntimeError):
    """The whole stage cannot work (a model that cannot load, a batch that fails as a whole): the run
    must fail rather than publish an output in which every record is a rejection."""


class StageOutput(NamedTuple):
    """What every article stage returns: the articles that go on, and its rejections."""

    articles: Any  # PCollection[Article]
    rejected: Any  # PCollection[RejectedRow]


def is_transient(exc: BaseException) -> bool:
    """True for errors that a retry of the same work can fix: network faults, timeouts, throttling
    and 5xx answers of object stores. Looks through ``__cause__`` and ``__context__``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout, InterruptedError, BlockingIOError)):
            return True
        if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
            return True
        for attr in ("code", "status", "status_code"):
            status = getattr(exc, attr, None)
            if isinstance(status, int) and not isinstance(status, bool) and status in _TRANSIENT_STATUS:
                return True
        if any(name in type(exc).__name__ for name in _TRANSIENT_NAMES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def per_record_fault(exc: BaseException) -> bool:
    """True for a fault that is a verdict on the record at hand; False for a failure of the whole
    stage or a transient error, which must propagate (the run fails, or the runner retries)."""
    return not isinstance(exc, StageFailure) and not is_transient(exc)


def make_rejection(
    stage: str,
    reason: str,
    detail: str,
    *,
    source_file: str,
    payload: str,
    limit: int = DEFAULT_PAYLOAD_LIMIT,
    source_line: Optional[int] = None,
    size: Optional[int] = None,
    fmt: Optional[str] = None,
    article_id: Optional[str] = None,
) -> RejectedRow:
    """A :class:`RejectedRow` with the payload cut to ``limit`` characters for replay."""
    full = len(payload) if size is None else size
    return RejectedRow(
        stage=stage,
        reason=reason,
        detail=replace_lone_surrogates(detail[:1000]),
        source_file=source_file,
        source_line=source_line,
        format=fmt,
        article_id=article_id,
        payload=replace_lone_surrogates(payload[:limit]),
        payload_truncated=full > limit,
        payload_chars=full,
    )


def replay_payload(article: Article) -> str:
    """The record to feed back in to replay an article: its page text for ``.txt`` input, else a
    JSONL line with its fields (the same ``id``, ``source`` and ``url`` give the same ``article_id``)."""
    if article.format == "txt":
        return article.text
    record = {"id": article.given_id, "url": article.url, "title": article.given_title,
              "source": article.source,
              "published_at": article.published_at.isoformat() if article.published_at else None,
              "text": article.text}
    return json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)


def reject_article(stage: str, reason: str, detail: str, article: Article,
                   limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an already-validated article, with a payload that replays it."""
    return make_rejection(stage, reason, detail, source_file=article.source_file,
                          source_line=article.source_line, payload=replay_payload(article), limit=limit,
                          article_id=article.article_id, fmt=article.format)


def fault_detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def reject_fault(stage: str, exc: BaseException, article: Article,
                 limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an article on which a stage raised: the exception type and message are kept."""
    return reject_article(stage, STAGE_ERROR, fault_detail(exc), article, limit)


def mark_stage_error(stage: str, exc: BaseException, article: Article) -> Article:
    """The article, kept, with the stage's fault recorded in ``stage_errors``.

    Used by the stages after Dedupe (Detect Language, Extract Entities): their article may be the
    canonical copy that duplicates name, and it is still a usable article without a language or
    entities, so it stays in ``articles/`` rather than going to ``rejected/``. It counts towards
    ``--max-stage-error-share`` like a rejection.
    """
    Metrics.counter(stage, "articles_stage_error").inc()
    return article.model_copy(update={"stage_errors": article.stage_errors + (f"{stage}: {fault_detail(exc)}",)})


def dead_letter(row: RejectedRow) -> beam.pvalue.TaggedOutput:
    """Send ``row`` to the ``rejected`` output and count it under its stage and reason."""
    Metrics.counter(row.stage, f"rejected_{row.reason}").inc()
    return beam.pvalue.TaggedOutput(REJECTED, row)


class DeadLetterDoFn(beam.DoFn):
    """A stage's DoFn with the dead-letter rules applied once.

    Subclasses set ``stage`` and implement ``handle(element, ...)``, which yields results and
    :class:`RejectedRow` verdicts, and ``fault_row(element, exc)``, the rejection (with a replayable
    payload) of an element on which ``handle`` raised. Results already yielded for an element
    before a fault stay (Read yields the records of a file before the fault that cut it short).
    """

    stage = "stage"

    def __init__(self, payload_limit: int = DEFAULT_PAYLOAD_LIMIT):
        self.payload_limit = payload_limit

    def handle(self, element, *args, **kwargs) -> Iterable[Any]:
        raise NotImplementedError

    def fault_row(self, element, exc: BaseException) -> Union[RejectedRow, list[RejectedRow]]:
        """The rejection(s) of an element on which ``handle`` raised (a list for a group)."""
        return reject_fault(self.stage, exc, element, self.payload_limit)

    def on_fault(self, element, exc: BaseException) -> list:
        """What goes out for an element on which ``handle`` raised: by default its rejection(s).
        Stages after Dedupe keep the article instead, marked (see :func:`mark_stage_error`)."""
        rows = self.fault_row(element, exc)
        return rows if isinstance(rows, list) else [rows]

    def process(self, element, *args, **kwargs):
        try:
            for item in self.handle(element, *args, **kwargs):
                yield dead_letter(item) if isinstance(item, RejectedRow) else item
        except Exception as exc:  # dead-letter the record, unless the stage failed or a retry can fix it
            if not per_record_fault(exc):
                raise
            for item in self.on_fault(element, exc):
                yield dead_letter(item) if isinstance(item, RejectedRow) else item
