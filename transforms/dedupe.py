"""Dedupe (exact): one article per normalised content, then per canonical URL, then per article_id.

The article kept from a group of copies is chosen the same way on every runner: the earliest
``published_at`` (records without a date come last), then the smallest ``article_id``, then the
input position. Every other copy goes to the ``duplicates`` output, naming the kept article.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, NamedTuple, Tuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import RunConfig
from transforms.records import Article, DuplicateRow
from transforms.rejects import REJECTED, DeadLetterDoFn, reject_fault

STAGE = "dedupe"
DUPLICATES = "duplicates"
_NO_DATE = datetime.max.replace(tzinfo=timezone.utc)


def keep_order(article: Article) -> tuple:
    """Sort key: the first article in this order is the one kept."""
    return (
        article.published_at or _NO_DATE,
        article.article_id,
        article.source_file,
        article.source_line or 0,
        article.content_hash,
    )


def pick_kept(copies: Iterable[Article], reason: str) -> Tuple[Article, list[DuplicateRow]]:
    """The kept article of a group of copies, and a DuplicateRow for each of the others."""
    ordered = sorted(copies, key=keep_order)
    kept = ordered[0]
    return kept, [
        DuplicateRow(
            article_id=dup.article_id,
            given_id=dup.given_id,
            duplicate_of=kept.article_id,
            reason=reason,
            source_file=dup.source_file,
            source_line=dup.source_line,
            url=dup.url,
            published_at=dup.published_at,
            content_hash=dup.content_hash,
        )
        for dup in ordered[1:]
    ]


def repoint(joined) -> Iterable[DuplicateRow]:
    """Content duplicates of an article that lost to another by URL now name that other article."""
    _, group = joined
    final = min(group["lost_to"], default=None)  # at most one in practice; min keeps it deterministic
    for dup in group["dups"]:
        yield dup if final is None else dup.model_copy(update={"duplicate_of": final})


class DedupeOutput(NamedTuple):
    """Dedupe's outputs: the kept articles, rejections (faults) and the dropped copies."""

    articles: Any  # PCollection[Article]
    rejected: Any  # PCollection[RejectedRow]
    duplicates: Any  # PCollection[DuplicateRow]


class _PickKept(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, reason: str, payload_limit: int):
        super().__init__(payload_limit)
        self._reason = reason
        self._dropped = Metrics.counter(STAGE, f"duplicates_{reason}")

    def handle(self, element):
        _, copies = element
        kept, duplicates = pick_kept(copies, self._reason)
        yield kept
        for row in duplicates:
            self._dropped.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES, row)

    def fault_row(self, element, exc):
        return [reject_fault(STAGE, exc, article, self.payload_limit) for article in element[1]]


class Dedupe(beam.PTransform):
    """Article -> the kept Articles (main) and DuplicateRows (``duplicates``).

    Reasons: ``same_content``, ``same_url``, ``same_id`` (the same publisher's id seen again with
    other text). After it, ``article_id`` is unique among the kept articles.
    """

    def __init__(self, config: RunConfig = RunConfig()):
        super().__init__()
        self._payload_limit = config.payload_limit

    def _keep_one(self, reason: str):
        return beam.ParDo(_PickKept(reason, self._payload_limit)).with_outputs(DUPLICATES, REJECTED, main="kept")

    def expand(self, articles):
        by_content = (
            articles
            | "Key By Content Hash" >> beam.Map(lambda a: (a.content_hash, a))
            | "Group Same Content" >> beam.GroupByKey()
            | "Keep One Per Content" >> self._keep_one("same_content")
        )
        with_url = by_content.kept | "Split By URL Presence" >> beam.Partition(
            lambda a, _: 0 if a.canonical_url else 1, 2)
        by_url = (
            with_url[0]
            | "Key By Canonical URL" >> beam.Map(lambda a: (a.canonical_url, a))
            | "Group Same URL" >> beam.GroupByKey()
            | "Keep One Per URL" >> self._keep_one("same_url")
        )
        after_url = (by_url.kept, with_url[1]) | "Merge Kept" >> beam.Flatten()
        # One publisher may send the same id twice with different text (a feed re-sending an updated
        # story): article_id (the id scoped by its publisher) must stay a unique key of articles/.
        by_id = (
            after_url
            | "Key By Article Id" >> beam.Map(lambda a: (a.article_id, a))
            | "Group Same Id" >> beam.GroupByKey()
            | "Keep One Per Id" >> self._keep_one("same_id")
        )
        kept = by_id.kept
        # A content group's kept article may itself lose to an earlier copy of its URL: point its
        # content duplicates at the article that was finally kept. After the content pass the
        # content hash is unique, so it is the join key (article ids are not unique until the id pass).
        content_dups = (
            {
                "dups": by_content[DUPLICATES] | "Key By Content" >> beam.Map(lambda d: (d.content_hash, d)),
                "lost_to": by_url[DUPLICATES] | "Key Losers By Content" >> beam.Map(
                    lambda d: (d.content_hash, d.duplicate_of)),
            }
            | "Join Content Dups To URL Losers" >> beam.CoGroupByKey()
            | "Point At Final Kept" >> beam.FlatMap(repoint)
        )
        duplicates = (content_dups, by_url[DUPLICATES], by_id[DUPLICATES]) | "Merge Duplicates" >> beam.Flatten()
        rejected = ((by_content[REJECTED], by_url[REJECTED], by_id[REJECTED])
                    | "Merge Dedupe Rejections" >> beam.Flatten())
        return DedupeOutput(kept, rejected, duplicates)
