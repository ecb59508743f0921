"""Clean: page text -> title, body paragraphs, byline and date, boilerplate removed.

The rules live in :mod:`transforms.clean_rules` (pure functions); this module applies them in
Beam, counts removed lines per reason code (``Metrics.counter('clean', 'lines_removed_<reason>')``)
and rejects articles in which no body is left.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.clean_rules import clean_page
from transforms.records import Article
from transforms.rejects import REJECTED, reject_article, reject_fault

STAGE = "clean"


def clean_article(article: Article):
    """The article with its cleaned fields, and the removed lines (for counting)."""
    result = clean_page(article.text, title_hint=article.given_title)
    cleaned = article.model_copy(
        update={
            "title": article.given_title or result.title,
            "paragraphs": tuple(result.paragraphs),
            "byline": result.byline,
            "published_text": result.published,
            "removed_line_count": len(result.removed),
        }
    )
    return cleaned, result.removed


class _Clean(beam.DoFn):
    def __init__(self):
        self._cleaned = Metrics.counter(STAGE, "articles_cleaned")

    def process(self, article: Article):
        try:
            cleaned, removed = clean_article(article)
        except Exception as exc:  # a rule fault must not sink the run: dead-letter it
            yield beam.pvalue.TaggedOutput(REJECTED, reject_fault(STAGE, exc, article))
            return
        for line in removed:
            Metrics.counter(STAGE, f"lines_removed_{line.reason}").inc()
        if not cleaned.paragraphs:
            Metrics.counter(STAGE, "rejected_empty_body").inc()
            yield beam.pvalue.TaggedOutput(
                REJECTED, reject_article(STAGE, "empty_body", "no article body left after removing boilerplate", article))
            return
        self._cleaned.inc()
        yield cleaned


class CleanText(beam.PTransform):
    """Article -> Article with title/paragraphs/byline/published_text; empty bodies rejected."""

    def expand(self, articles):
        return articles | "Strip Boilerplate" >> beam.ParDo(_Clean()).with_outputs(REJECTED, main="articles")
