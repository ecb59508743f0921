"""The dead-letter contract: how every stage describes a record it cannot use."""
from __future__ import annotations

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


def reject_article(stage: str, reason: str, detail: str, article: Article,
                   limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an already-validated article; its page text is the payload to replay."""
    return make_rejection(stage, reason, detail, source_file=article.source_file,
                          source_line=article.source_line, payload=article.text, limit=limit,
                          article_id=article.article_id)


def reject_fault(stage: str, exc: BaseException, article: Article,
                 limit: int = DEFAULT_PAYLOAD_LIMIT) -> RejectedRow:
    """Reject an article on which a stage raised: the exception type and message are kept."""
    return reject_article(stage, "stage_error", f"{type(exc).__name__}: {exc}", article, limit)
