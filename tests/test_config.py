"""The run configuration: one object, flags generated from it, errors that name the flag."""
import subprocess

import pytest

from pipelines.articles import config_from_args, make_parser
from pipelines.options import unknown_flags
from support import NEWSBEAM, SEEDS
from transforms.config import CleanConfig, ConfigError, EntityConfig, RunConfig


def config_of(*argv):
    args, rest = make_parser().parse_known_args(list(argv))
    assert rest == []
    return config_from_args(args)


def test_each_setting_lives_once_on_the_run_config():
    config = config_of("--payload-limit", "100", "--keep-removed-lines", "--ner-batch-size", "4",
                       "--no-learn-boilerplate", "--rows-per-file", "7", "--max-stage-error-share", "0.5")
    assert (config.payload_limit, config.keep_removed_lines, config.max_stage_error_share) == (100, True, 0.5)
    assert (config.entities.batch_size, config.clean.learn_recurring, config.write.rows_per_file) == (4, False, 7)
    for section in (config.read, config.validate, config.clean, config.language, config.entities, config.write):
        assert not hasattr(section, "payload_limit") and not hasattr(section, "keep_removed_lines")


@pytest.mark.parametrize("argv,message", [
    (["--ner-batch-size", "0"], "--ner-batch-size: must be an integer of at least 1, got 0"),
    (["--boilerplate-share", "1.5"], "--boilerplate-share: must be a number in (0, 1], got 1.5"),
    (["--max-stage-error-share", "-0.1"], "--max-stage-error-share: must be a number in [0, 1], got -0.1"),
    (["--payload-limit", "lots"], "--payload-limit: must be an integer of at least 1, got 'lots'"),
    (["--rows-per-file", "0"], "--rows-per-file: must be an integer of at least 1, got 0"),
    (["--max-record-bytes", "-5"], "--max-record-bytes: must be an integer of at least 1, got -5"),
    (["--boilerplate-min-pages", "2"], "--boilerplate-min-pages must be at least 3"),
    (["--ner-model", "english=x"], "--ner-model english=...: the language must be a lower-case ISO 639-1 code"),
    (["--ner-model", "de=no_such_model"], "--ner-model: spaCy model package(s) not installed: de=no_such_model"),
])
def test_config_errors_name_the_flag_and_the_allowed_range(argv, message):
    with pytest.raises(ValueError) as caught:
        config_of(*argv)
    assert message in str(caught.value)


def test_config_errors_from_python_name_the_flag_too():
    with pytest.raises(ConfigError, match=r"--boilerplate-share must be a number in \(0, 1\], got 0"):
        CleanConfig(share=0)
    with pytest.raises(ConfigError, match="--ner-batch-size must be an integer of at least 1, got 0"):
        EntityConfig(batch_size=0)
    with pytest.raises(ConfigError, match=r"--max-stage-error-share must be a number in \[0, 1\], got 2"):
        RunConfig(max_stage_error_share=2)


@pytest.mark.slow
def test_the_command_line_reports_them_with_exit_2(tmp_path):
    proc = subprocess.run([NEWSBEAM, "run", "--input", SEEDS, "--output", str(tmp_path / "o"), "--ner-batch-size",
                           "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "--ner-batch-size: must be an integer of at least 1, got 0" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_options_of_every_runner_beam_knows_are_accepted():
    # Options classes that runner modules define (Render, Dask when installed) or that only
    # matter to one runner (Flink, Spark, Prism, Dataflow, S3) are not typos.
    assert unknown_flags(["--render_output=graph.svg", "--flink_master=localhost:8081",
                          "--spark_master_url=spark://h:7077", "--prism_location=/opt/prism",
                          "--dataflow_service_options=enable_prime", "--s3_endpoint_url=http://localhost:9000",
                          "--runner=PrismRunner", "--environment_type=LOOPBACK"]) == []
    assert unknown_flags(["--ouput=x", "--flink_mastr=y", "--direct_num_workers=2"]) == ["--ouput", "--flink_mastr"]


def test_the_run_date_is_a_date_from_the_command_line_to_the_partition_folder():
    import datetime

    from transforms.config import date_partition
    from transforms.io.rows import TABLES, partition_dir

    config = config_of("--date", "2025-03-12", "--backfill-to", "2025-03-14")
    assert config.date == datetime.date(2025, 3, 12) and config.backfill_to == datetime.date(2025, 3, 14)
    assert date_partition(config.date) == "dt=2025-03-12"
    assert partition_dir(TABLES["articles"], {"language": "en"}, config.date) == "dt=2025-03-12/language=en"
    assert partition_dir(TABLES["entities"], {}, config.date) == "dt=2025-03-12"
    # From Python a string is read once, the same way; a string that is no date is refused.
    assert RunConfig(date="2025-03-12").date == config.date
    with pytest.raises(ConfigError, match="--date must be a calendar date as YYYY-MM-DD, got '2025-02-30'"):
        RunConfig(date="2025-02-30")
    with pytest.raises(ConfigError, match="--date must be a date"):
        RunConfig(date=datetime.datetime(2025, 3, 12, 8, 0))
