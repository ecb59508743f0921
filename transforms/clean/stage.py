"""Clean: page text -> title, body paragraphs, byline and date, boilerplate removed.

The rules live in :mod:`transforms.clean.rules` (pure functions); this module applies them in
Beam, counts removed lines per reason code (``Metrics.counter('clean', 'lines_removed_<reason>')``)
and rejects articles in which no body is left.

It also learns from the run itself: a line that recurs on many pages of the same source (the
article's ``source``, else its URL's host) is that source's boilerplate. ``LearnRecurringLines``
counts distinct line fingerprints per source and keeps those found on at least
``max(min_pages, share * pages of the source)`` pages, for sources with at least
``min_source_pages`` pages, so a small run does not over-remove.
"""
from __future__ import annotations

from typing import Mapping, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.clean.model import load_line_model
from transforms.clean.rules import clean_page, page_fingerprints
from transforms.config import CleanConfig, RunConfig
from transforms.records import Article, LineRemoval
from transforms.rejects import REJECTED, DeadLetterDoFn, StageOutput, reject_article

STAGE = "clean"


def clean_article(article: Article, recurring: frozenset = frozenset(), keep_removed: bool = False,
                  line_model: bool = True):
    """The article with its cleaned fields, and the removed lines (for counting)."""
    result = clean_page(article.text, title_hint=article.given_title, recurring=recurring, line_model=line_model)
    cleaned = article.model_copy(
        update={
            "title": result.title or article.given_title,  # the hint, with any " | Site" suffix taken off
            "paragraphs": tuple(result.paragraphs),
            "byline": result.byline,
            "published_text": result.published,
            "removed_line_count": len(result.removed),
            "removed_lines": tuple(LineRemoval(text=r.text, reason=r.reason) for r in result.removed)
            if keep_removed else (),
        }
    )
    return cleaned, result.removed


def _source_fingerprints(article: Article):
    if article.source:
        for fingerprint in page_fingerprints(article.text):
            yield (article.source, fingerprint), 1


class LearnRecurringLines(beam.PTransform):
    """Article -> (source, frozenset of recurring line fingerprints), one element per source."""

    def __init__(self, config: CleanConfig):
        super().__init__()
        self._config = config

    def expand(self, articles):
        config = self._config
        pages = (articles
                 | "Key Pages By Source" >> beam.FlatMap(lambda a: [(a.source, 1)] if a.source else [])
                 | "Count Pages Per Source" >> beam.CombinePerKey(sum))

        def recurring(item, pages):
            (source, fingerprint), count = item
            threshold = config.threshold(pages[source])
            if threshold is not None and count >= threshold:
                yield source, fingerprint

        return (
            articles
            | "Fingerprint Lines" >> beam.FlatMap(_source_fingerprints)
            | "Count Pages Per Line" >> beam.CombinePerKey(sum)
            | "Keep Recurring Lines" >> beam.FlatMap(recurring, pages=beam.pvalue.AsDict(pages))
            | "Group Per Source" >> beam.GroupByKey()
            | "To Fingerprint Sets" >> beam.MapTuple(lambda source, fps: (source, frozenset(fps)))
        )


class _Clean(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, keep_removed: bool, payload_limit: int, line_model: bool):
        super().__init__(payload_limit)
        self._keep_removed = keep_removed
        self._line_model = line_model
        self._cleaned = Metrics.counter(STAGE, "articles_cleaned")
        self._removed: dict = {}  # reason -> its counter, made once

    def setup(self):
        super().setup()
        if self._line_model:
            load_line_model()  # once per worker process; a broken model file fails here, not per article

    def handle(self, article: Article, recurring: Mapping[str, frozenset] = None):
        lines = (recurring or {}).get(article.source, frozenset()) if article.source else frozenset()
        cleaned, removed = clean_article(article, lines, self._keep_removed, self._line_model)
        for line in removed:
            counter = self._removed.get(line.reason)
            if counter is None:
                counter = self._removed[line.reason] = Metrics.counter(STAGE, f"lines_removed_{line.reason}")
            counter.inc()
        if not cleaned.paragraphs:
            yield reject_article(STAGE, "empty_body", "no article body left after removing boilerplate", article,
                                 self.payload_limit)
            return
        self._cleaned.inc()
        yield cleaned


class CleanText(beam.PTransform):
    """Article -> Article with title/paragraphs/byline/published_text; empty bodies rejected."""

    def __init__(self, config: Optional[RunConfig] = None):
        super().__init__()
        self._config = config or RunConfig()

    def expand(self, articles):
        clean = _Clean(self._config.keep_removed_lines, self._config.payload_limit, self._config.clean.line_model)
        if not self._config.clean.learn_recurring:
            out = articles | "Strip Boilerplate" >> beam.ParDo(clean).with_outputs(REJECTED, main="articles")
        else:
            recurring = articles | "Learn Recurring Lines" >> LearnRecurringLines(self._config.clean)
            out = articles | "Strip Boilerplate" >> beam.ParDo(
                clean, recurring=beam.pvalue.AsDict(recurring)).with_outputs(REJECTED, main="articles")
        return StageOutput(out.articles, out[REJECTED])
