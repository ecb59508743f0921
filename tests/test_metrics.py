"""Beam counters, one per outcome and drop reason, namespaced by stage: exact counts on seeds/."""
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from conftest import SEEDS, TEST_RUNNER
from pipelines.articles import JobConfig, build_pipeline


def test_counters_per_stage_and_reason(tmp_path):
    config = JobConfig(inputs=[SEEDS], output=str(tmp_path / "out"))
    result = build_pipeline(config, PipelineOptions([f"--runner={TEST_RUNNER}"])).run()
    result.wait_until_finish()
    counters = {(c.key.metric.namespace, c.key.metric.name): c.committed
                for c in result.metrics().query(MetricsFilter())["counters"]}
    assert counters[("read", "files")] == 6
    assert counters[("read", "records")] == 12
    assert counters[("validate", "valid")] == 9
    assert counters[("validate", "rejected_malformed_json")] == 1
    assert counters[("validate", "rejected_missing_text")] == 1
    assert counters[("validate", "rejected_bad_date")] == 1
    assert counters[("dedupe", "duplicates_same_content")] == 2
    assert counters[("dedupe", "duplicates_same_url")] == 1
    assert counters[("clean", "articles_cleaned")] == 6
    # two 'See also' boxes on the Pyongyang page, 'Lire aussi', 'Lesen Sie auch', 'Read more: ...'
    assert counters[("clean", "lines_removed_see_also")] == 5
    # '- Advertisement -', 'Publicité', 'Anzeige', 'Advertisement'
    assert counters[("clean", "lines_removed_ad_marker")] == 4
    assert counters[("language", "articles_en")] == 3
    assert counters[("entities", "articles_tagged")] == 4
    assert counters[("entities", "articles_no_model")] == 2
    assert counters[("write", "rows_articles")] == 6
    assert counters[("write", "rows_rejected")] == 3
