"""Beam counters, one per outcome and drop reason, namespaced by stage: exact counts on seeds/."""
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.articles import build_pipeline
from support import SEEDS, TEST_RUNNER
from transforms.config import RunConfig


def test_counters_per_stage_and_reason(tmp_path):
    config = RunConfig(inputs=[SEEDS], output=str(tmp_path / "out"))
    result = build_pipeline(config, PipelineOptions([f"--runner={TEST_RUNNER}"])).run()
    result.wait_until_finish()
    counters = {(c.key.metric.namespace, c.key.metric.name): c.committed
                for c in result.metrics().query(MetricsFilter())["counters"]}
    assert counters[("read", "files")] == 7
    assert counters[("read", "records")] == 14
    assert counters[("validate", "valid")] == 11
    assert counters[("validate", "rejected_malformed_json")] == 1
    assert counters[("validate", "rejected_missing_text")] == 1
    assert counters[("validate", "rejected_bad_date")] == 1
    # Clean runs before Dedupe now: every valid record is cleaned.
    assert counters[("clean", "articles_cleaned")] == 11
    # 'See also' boxes, 'Lire aussi', 'Lesen Sie auch', 'Read more: ...' over the eleven cleaned pages
    assert counters[("clean", "lines_removed_see_also")] == 9
    # '- Advertisement -', 'Publicité', 'Anzeige', 'Advertisement', 'ADVERTISEMENT' over the same pages
    assert counters[("clean", "lines_removed_ad_marker")] == 8
    # Two exact copies (the mirror page, the Valencia re-fetch) and the wire's copy of the first
    # Webb version; the first Webb version superseded by its update; one syndicated near-copy.
    assert counters[("dedupe", "duplicates_content")] == 3
    assert counters[("dedupe", "duplicates_url")] == 1
    assert counters[("dedupe", "duplicates_near")] == 1
    assert counters[("dedupe", "duplicates")] == 5
    assert counters[("language", "articles_en")] == 3
    assert counters[("entities", "articles_tagged")] == 4
    assert counters[("entities", "articles_no_model")] == 2
    assert counters[("write", "rows_articles")] == 6
    assert counters[("write", "rows_rejected")] == 3
    # Language and NER see only the articles written: never a duplicate or a rejected record.
    detected = sum(v for (ns, name), v in counters.items() if ns == "language" and name.startswith("articles_"))
    tagged = sum(v for (ns, name), v in counters.items() if ns == "entities" and name.startswith("articles_"))
    assert detected == tagged == counters[("write", "rows_articles")] == 6


def test_stage_errors_are_counted_in_every_stage(tmp_path, monkeypatch):
    """A record a stage raised on is counted as rejected_stage_error under that stage, as every
    other rejection reason is."""
    import transforms.clean.stage as clean
    import transforms.entities as entities
    import transforms.language as language
    import transforms.validate as validate

    def failing_on(module, name, marker):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            values = [a for a in args if isinstance(a, str)] + [getattr(a, "payload", "") for a in args] + [
                getattr(a, "text", "") for a in args]
            if any(marker in v for v in values if isinstance(v, str)):
                raise RuntimeError(f"injected into {name}")
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    failing_on(validate, "parse_input", "Story V")
    failing_on(clean, "clean_page", "Story C")
    failing_on(language, "detect_language", "Story L")
    real_tag = entities.tag_batch

    def tag(batch, model_for, size):
        if any("Story E" in a.text for a in batch):
            raise RuntimeError("injected into NER")
        return real_tag(batch, model_for, size)
    monkeypatch.setattr(entities, "tag_batch", tag)

    from benchmarks.corpora.textgen import paragraph

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("V", "C", "L", "E", "ok1", "ok2"):  # six different stories
        (folder / f"{name}.txt").write_text(f"Story {name} headline here\n\n{paragraph(name, sentences=4)} Story {name}.\n")
    config = RunConfig(inputs=[str(folder)], output=str(tmp_path / "out"), max_stage_error_share=1.0)
    result = build_pipeline(config, PipelineOptions([f"--runner={TEST_RUNNER}"])).run()
    result.wait_until_finish()
    counters = {(c.key.metric.namespace, c.key.metric.name): c.committed
                for c in result.metrics().query(MetricsFilter())["counters"]}
    for stage in ("validate", "clean"):  # before Dedupe: the record is rejected
        assert counters.get((stage, "rejected_stage_error")) == 1, stage
    for stage in ("language", "entities"):  # after Dedupe: the article is kept, marked
        assert counters.get((stage, "articles_stage_error")) == 1, stage
