"""The one dead-letter helper every stage uses, and the one shape every stage returns."""
import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.records import Article, RawRecord
from transforms.rejects import REJECTED, DeadLetterDoFn, StageFailure, StageOutput, is_transient


def article(aid, text="The harbour bridge reopened on Monday after two years of repairs, the council said."):
    return Article(article_id=aid, source_file=f"{aid}.txt", text=text, content_hash=aid)


class _Fails(DeadLetterDoFn):
    stage = "test"

    def __init__(self, exc):
        super().__init__(payload_limit=10)
        self._exc = exc

    def handle(self, a):
        if a.article_id == "bad":
            raise self._exc
        yield a


def test_a_fault_on_one_record_is_a_counted_rejection_with_a_replayable_payload(runner_options):
    from apache_beam.metrics.metric import MetricsFilter

    p = TestPipeline(options=runner_options)
    out = (p | beam.Create([article("ok"), article("bad")])
           | beam.ParDo(_Fails(ValueError("boom"))).with_outputs(REJECTED, main="articles"))
    assert_that(out.articles | "Ids" >> beam.Map(lambda a: a.article_id), equal_to(["ok"]), label="Kept")
    assert_that(out[REJECTED] | "Rows" >> beam.Map(lambda r: (r.stage, r.reason, r.detail, r.article_id, r.payload,
                                                              r.payload_truncated)),
                equal_to([("test", "stage_error", "ValueError: boom", "bad", "The harbou", True)]), label="Rejected")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(
        MetricsFilter().with_namespace("test"))["counters"]}
    assert counters == {"rejected_stage_error": 1}


@pytest.mark.parametrize("exc", [StageFailure("model gone"), ConnectionResetError(104, "reset"),
                                 TimeoutError("read timed out")])
def test_stage_failures_and_transient_errors_are_raised_not_rejected(runner_options, exc):
    with pytest.raises(Exception) as caught:
        with TestPipeline(options=runner_options) as p:
            _ = p | beam.Create([article("bad")]) | beam.ParDo(_Fails(exc)).with_outputs(REJECTED, main="articles")
    assert type(exc).__name__ in repr(caught.value) or str(exc) in str(caught.value)


def test_what_counts_as_transient():
    class S3ClientError(Exception):
        def __init__(self, message, code):
            super().__init__(message)
            self.code = code

    class ServiceUnavailable(Exception):
        pass

    assert is_transient(ConnectionResetError()) and is_transient(TimeoutError())
    assert is_transient(S3ClientError("slow down", 503)) and is_transient(ServiceUnavailable("try later"))
    assert is_transient(OSError(110, "Connection timed out"))
    wrapped = RuntimeError("read failed")
    wrapped.__cause__ = ConnectionAbortedError()
    assert is_transient(wrapped)
    for permanent in (EOFError("cut"), ValueError("bad"), FileNotFoundError(2, "gone"), PermissionError(13, "no"),
                      S3ClientError("no such key", 404), OSError(28, "No space left on device")):
        assert not is_transient(permanent), permanent


def test_every_stage_returns_articles_and_rejected(runner_options):
    from transforms.clean.stage import CleanText
    from transforms.dedupe.stage import Dedupe
    from transforms.entities import ExtractEntities
    from transforms.language import DetectLanguage
    from transforms.io.read import ReadArticles
    from transforms.validate import ValidateArticles

    with TestPipeline(options=runner_options) as p:
        raws = p | "Raw" >> beam.Create([RawRecord(source_file="a.txt", format="txt", payload="x")])
        arts = p | "Articles" >> beam.Create([article("a")])
        outputs = {
            "validate": raws | "V" >> ValidateArticles(),
            "dedupe": arts | "D" >> Dedupe(),
            "clean": arts | "C" >> CleanText(),
            "language": arts | "L" >> DetectLanguage(),
            "entities": arts | "E" >> ExtractEntities(),
        }
        for name, out in outputs.items():
            assert isinstance(out.articles, beam.PCollection) and isinstance(out.rejected, beam.PCollection), name
        assert isinstance(outputs["clean"], StageOutput)
        assert isinstance(outputs["dedupe"].duplicates, beam.PCollection)
        read = p | "R" >> ReadArticles(["/nonexistent/a.txt"])
        assert isinstance(read.records, beam.PCollection) and isinstance(read.rejected, beam.PCollection)
