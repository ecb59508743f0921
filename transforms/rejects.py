"""The dead-letter contract: how every stage describes a record it cannot use."""
from __future__ import annotations

import json
from typing import Optional

from transforms.records import Article, RejectedRow, replace_lone_surrogates

REJECTED = "rejected"  # tag of every stage's dead-letter output
DEFAULT_PAYLOAD_LIMIT = 4096


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
    JSONL line with its fields (whose ``id`` gives the same ``article_id`` again)."""
    if article.format == "txt":
        return article.text
    record = {"id": article.article_id, "url": article.url, "title": article.given_title, "source": article.source,
              "published_at": article.published_at.isoformat() if article.published_at else None,
              "text": article.text}
    return json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)


def reject_article(stage: str, reason: str, detail: str, article: Article,
                   limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an already-validated article, with a payload that replays it."""
    return make_rejection(stage, reason, detail, source_file=article.source_file,
                          source_line=article.source_line, payload=replay_payload(article), limit=limit,
                          article_id=article.article_id, fmt=article.format)


def reject_fault(stage: str, exc: BaseException, article: Article,
                 limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an article on which a stage raised: the exception type and message are kept."""
    return reject_article(stage, "stage_error", f"{type(exc).__name__}: {exc}", article, limit)
