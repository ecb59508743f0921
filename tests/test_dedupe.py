import json
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.dedupe import Dedupe, pick_kept
from transforms.records import Article


def art(aid, text="same text", url=None, day=None, line=None):
    from transforms.validate import canonical_url, content_hash

    return Article(article_id=aid, source_file="f", source_line=line, url=url, canonical_url=canonical_url(url),
                   text=text, content_hash=content_hash(text),
                   published_at=datetime(2024, 1, day, tzinfo=timezone.utc) if day else None)


def test_earliest_then_smallest_id_is_kept():
    kept, dups = pick_kept([art("b", day=3), art("c", day=2), art("a")], "same_content")
    assert kept.article_id == "c"
    assert [(d.article_id, d.duplicate_of, d.reason) for d in dups] == [
        ("b", "c", "same_content"), ("a", "c", "same_content")]
    kept, _ = pick_kept([art("b"), art("a")], "same_content")
    assert kept.article_id == "a"


def test_dedupe_transform_content_then_url(runner_options):
    inputs = [
        art("a1", "Story one.", url="https://x.org/1", day=5),
        art("a2", "story   ONE.", url="https://x.org/other", day=4),  # same normalised content, earlier
        art("b1", "Story two.", url="https://x.org/2?utm_source=rss"),
        art("b2", "Story two, updated.", url="http://www.x.org/2"),  # same canonical URL
        art("c1", "No url here."),
        art("c2", "Unique text."),
    ]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(inputs) | Dedupe()
        assert_that(out.articles | "Kept Ids" >> beam.Map(lambda a: a.article_id),
                    equal_to(["a2", "b1", "c1", "c2"]), label="Kept")
        assert_that(out.duplicates | "Dup Pairs" >> beam.Map(lambda d: (d.article_id, d.duplicate_of, d.reason)),
                    equal_to([("a1", "a2", "same_content"), ("b2", "b1", "same_url")]), label="Duplicates")


def test_duplicate_of_always_names_a_kept_article(runner_options):
    inputs = [
        art("a", "Text X.", url="https://x.org/u1", day=2),
        art("b", "text x.", day=3),  # same content as a
        art("c", "Text Y.", url="https://x.org/u1", day=1),  # same URL as a, earlier: a loses
    ]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(inputs) | Dedupe()
        assert_that(out.articles | "Kept Ids" >> beam.Map(lambda a: a.article_id), equal_to(["c"]), label="Kept")
        assert_that(out.duplicates | "Dup Pairs" >> beam.Map(lambda d: (d.article_id, d.duplicate_of, d.reason)),
                    equal_to([("b", "c", "same_content"), ("a", "c", "same_url")]), label="Duplicates")


def test_same_given_id_keeps_one(runner_options):
    inputs = [art("story-1", "First version.", day=2), art("story-1", "Updated version.", day=3),
              art("story-2", "Other.")]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(inputs) | Dedupe()
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: (a.article_id, a.text)),
                    equal_to([("story-1", "First version."), ("story-2", "Other.")]), label="Kept")
        assert_that(out.duplicates | "Dups" >> beam.Map(lambda d: (d.article_id, d.duplicate_of, d.reason)),
                    equal_to([("story-1", "story-1", "same_id")]), label="Duplicates")


def test_repointing_does_not_confuse_articles_that_share_an_id(runner_options):
    # Two different records share the id s1: only the one with url B loses (to r), so p2, a copy
    # of the s1 with url A, must keep pointing at s1.
    inputs = [
        art("s1", "Text X.", url="https://x.org/A", day=2),
        art("p2", "text x.", day=3),
        art("s1", "Text Y.", url="https://x.org/B", day=4),
        art("r", "Text Z.", url="https://x.org/B", day=1),
    ]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(inputs) | Dedupe()
        assert_that(out.duplicates | "Dups" >> beam.Map(lambda d: (d.article_id, d.duplicate_of, d.reason)),
                    equal_to([("p2", "s1", "same_content"), ("s1", "r", "same_url")]), label="Duplicates")
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: (a.article_id, a.text)),
                    equal_to([("s1", "Text X."), ("r", "Text Z.")]), label="Kept")


def test_ids_are_scoped_by_publisher(runner_options):
    """Two publishers both number their stories from "1": both stories are kept. The same
    publisher sending its "1" again with new text is a same_id duplicate."""
    from transforms.records import RawRecord
    from transforms.validate import ValidateArticles

    def line(n, obj):
        return RawRecord(source_file="feed.jsonl", source_line=n, format="jsonl", payload=json.dumps(obj))

    raws = [
        line(1, {"id": "1", "source": "Daily Planet", "text": "Dam opens after a decade of work."}),
        line(2, {"id": "1", "source": "Gotham Gazette", "text": "Council votes to rename the harbour."}),
        line(3, {"id": "1", "url": "https://www.tribune.example/a", "text": "Local team wins the cup."}),
        line(4, {"id": "1", "url": "https://tribune.example/b", "text": "Local team wins the cup again."}),
        line(5, {"id": "1", "source": "daily  planet", "text": "Dam opens, corrected figures."}),
    ]
    with TestPipeline(options=runner_options) as p:
        valid = p | beam.Create(raws) | ValidateArticles()
        out = valid.articles | Dedupe()
        assert_that(out.articles | "Kept" >> beam.Map(lambda a: (a.source_line, a.given_id)),
                    equal_to([(1, "1"), (2, "1"), (3, "1")]), label="Kept")
        # line 4 is the tribune's id "1" again (publisher from the URL's host); line 5 the Planet's
        assert_that(out.duplicates | "Dups" >> beam.Map(lambda d: (d.source_line, d.given_id, d.reason)),
                    equal_to([(4, "1", "same_id"), (5, "1", "same_id")]), label="Duplicates")
