"""The CleanText transform: per-source boilerplate learnt from the run, audit of removed lines."""
import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.clean.stage import CleanConfig, CleanText, LearnRecurringLines, clean_article
from transforms.clean.rules import line_fingerprint
from transforms.config import RunConfig
from transforms.records import Article

# Prose the line rules keep (a long sentence ending in a period), repeated on every page of a site.
HOUSE_PROMO = "Our reporters work around the clock to bring you the stories that matter most in your town."


TOWNS = ["Ashford", "Bexley", "Crawley", "Dover", "Epsom", "Frome", "Goole"]


def page(source, i, promo=True):
    town = TOWNS[i]  # pages must differ in words: digits alone do not make lines different
    lines = [f"{town} council votes on harbour plan",
             f"The council in {town} voted on Tuesday to approve the harbour plan after a long debate.",
             f"Members said the {town} plan would bring new jobs to the area and improve the ferry services."]
    if promo:
        lines.append(HOUSE_PROMO)
    text = "\n".join(lines) + "\n"
    return Article(article_id=f"{source}-{i}", source_file="f", source=source, text=text, content_hash=f"{source}{i}")


def test_threshold_needs_enough_pages():
    config = CleanConfig()
    assert config.threshold(4) is None
    assert config.threshold(5) == 3
    assert config.threshold(100) == 40
    with pytest.raises(ValueError, match="share"):
        CleanConfig(share=0)
    with pytest.raises(ValueError, match="min_pages"):
        CleanConfig(min_pages=1)


def test_rules_alone_keep_the_house_promo():
    cleaned, _ = clean_article(page("site.example", 1))
    assert HOUSE_PROMO in cleaned.paragraphs


def test_learn_recurring_lines_per_source(runner_options):
    arts = [page("big.example", i) for i in range(6)] + [page("small.example", i) for i in range(4)]
    with TestPipeline(options=runner_options) as p:
        learnt = p | beam.Create(arts) | LearnRecurringLines(CleanConfig())
        assert_that(learnt | beam.MapTuple(lambda source, fps: (source, line_fingerprint(HOUSE_PROMO) in fps, len(fps))),
                    equal_to([("big.example", True, 1)]))


def test_clean_text_removes_learnt_lines_only_where_learnt(runner_options):
    arts = [page("big.example", i) for i in range(6)] + [page("small.example", i) for i in range(4)]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(arts) | CleanText(RunConfig(keep_removed_lines=True))
        assert_that(out.articles | beam.Map(lambda a: (a.source, HOUSE_PROMO in a.paragraphs,
                                                        (HOUSE_PROMO, "recurring_in_source") in [(r.text, r.reason) for r in a.removed_lines])),
                    equal_to([("big.example", False, True)] * 6 + [("small.example", True, False)] * 4))


def test_learning_can_be_turned_off(runner_options):
    arts = [page("big.example", i) for i in range(6)]
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create(arts) | CleanText(RunConfig(clean=CleanConfig(learn_recurring=False)))
        assert_that(out.articles | beam.Map(lambda a: HOUSE_PROMO in a.paragraphs), equal_to([True] * 6))


def test_page_with_nothing_left_is_rejected(runner_options):
    empty = Article(article_id="e", source_file="f.txt", text="Menu\nHome\nSearch\n", content_hash="e")
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create([empty]) | CleanText()
        assert_that(out.rejected | beam.Map(lambda r: (r.stage, r.reason, r.article_id, r.payload)),
                    equal_to([("clean", "empty_body", "e", "Menu\nHome\nSearch\n")]))


def test_late_rejections_replay_the_record_and_honour_the_payload_limit(runner_options):
    import json

    from transforms.rejects import replay_payload

    from_jsonl = Article(article_id="j1", given_id="1", source="x.org", source_file="f.jsonl", source_line=7, format="jsonl",
                         url="https://x.org/1", given_title="T", text="Menu\nHome\nSearch\n" * 20, content_hash="j")
    replay = json.loads(replay_payload(from_jsonl))
    assert replay == {"id": "1", "url": "https://x.org/1", "title": "T", "source": "x.org", "text": from_jsonl.text}
    with TestPipeline(options=runner_options) as p:
        out = p | beam.Create([from_jsonl]) | CleanText(RunConfig(payload_limit=40))
        assert_that(out.rejected | beam.Map(lambda r: (r.reason, r.format, r.source_line, len(r.payload),
                                                        r.payload_truncated, r.payload_chars)),
                    equal_to([("empty_body", "jsonl", 7, 40, True, len(replay_payload(from_jsonl)))]))


def test_learnt_boilerplate_still_ends_the_article():
    """A comment form the run learnt as the site's boilerplate is removed as recurring_in_source,
    but it still ends the article: the teaser headlines listed after it stay out of the body."""
    from transforms.clean.rules import clean_page, line_fingerprint

    body = ["The council in Leeds voted on Tuesday to approve the harbour plan after a long debate on costs.",
            "Opponents said the plan would raise rents, while supporters said it would bring new jobs to the area.",
            "A final decision on the budget is expected in the spring, the council said in a statement."]
    form = ["Please enter your comment!", "Please enter your name here", "Most Popular"]
    teasers = ["Mayor unveils plan for new downtown bike lanes", "Rail strike called off after late talks",
               "Local bakery wins national bread award", "Storm warning issued for the coast"]
    page = "\n".join(["Leeds council votes on harbour plan"] * 2 + body + form + teasers)
    learnt = frozenset(line_fingerprint(line) for line in form)
    result = clean_page(page, recurring=learnt)
    assert list(result.paragraphs) == body
    assert {r.text: r.reason for r in result.removed if r.text in form} == dict.fromkeys(form, "recurring_in_source")
