"""Dated runs into one lake: each run writes partition dt=<date> of every table and replaces that
date only (one Delta commit per table)."""
import json
import os

import pytest

from support import NEWSBEAM, PROJECT_ROOT, TEST_RUNNER
from support.runs import snapshot, write_articles
from support.lake import delta_rows, duckdb_rows
from support.stories import fresh, original
from transforms.io import lake as lake_tables


def run_day(inputs, lake, date=None):
    from pipelines import articles

    args = ["--input", str(inputs), "--output", str(lake), f"--runner={TEST_RUNNER}"]
    return articles.main(args + (["--date", date] if date else []))


def day_files(lake, date):
    return {rel: data for rel, data in snapshot(lake).items() if f"/dt={date}/" in f"/{rel}"}


@pytest.mark.slow
def test_a_dated_run_replaces_its_date_only(tmp_path):
    lake = tmp_path / "lake"
    write_articles(tmp_path / "d1", 3, prefix="first")
    write_articles(tmp_path / "d2", 2, prefix="second")
    write_articles(tmp_path / "d2b", 4, prefix="again")
    assert run_day(tmp_path / "d1", lake, "2025-03-12") == 0
    day1 = day_files(lake, "2025-03-12")
    assert any(rel.startswith("articles/dt=2025-03-12/language=en/") for rel in day1)
    assert lake_tables.existing_tables(str(lake)) == ["articles", "entities", "duplicates", "rejected", "dedupe_index"]
    assert {rel.split("/")[0] for rel in day1} == {"articles", "entities", "dedupe_index"}  # no empty file
    assert run_day(tmp_path / "d2", lake, "2025-03-13") == 0
    assert day_files(lake, "2025-03-12") == day1  # day 1 byte for byte
    assert run_day(tmp_path / "d2b", lake, "2025-03-13") == 0  # rerun of day 2 with other input
    assert day_files(lake, "2025-03-12") == day1
    got = duckdb_rows(lake, "articles", "SELECT CAST(dt AS VARCHAR) AS dt, count(*) AS n FROM t GROUP BY 1 ORDER BY 1")
    assert got == [{"dt": "2025-03-12", "n": 3}, {"dt": "2025-03-13", "n": 4}]
    assert lake_tables.current_state(str(lake))["dates"] == ["2025-03-12", "2025-03-13"]
    assert json.loads((lake / "run.json").read_text())["date"] == "2025-03-13"
    # An undated run is a whole output again: it replaces every date, when the user says so.
    from pipelines import articles

    assert articles.main(["--input", str(tmp_path / "d1"), "--output", str(lake), f"--runner={TEST_RUNNER}",
                          "--change-output-kind"]) == 0
    state = lake_tables.current_state(str(lake))
    assert state["dates"] == [] and sum(e["rows"] for e in state["tables"]["articles"]) == 3
    assert "dt" not in delta_rows(lake, "articles")[0]  # partitioned by language only, as an undated output


@pytest.mark.parametrize("bad", ["2025-02-30", "12-03-2025", "2025-3-1", "today"])
def test_a_date_that_is_not_a_calendar_date_is_refused(tmp_path, capsys, bad):
    write_articles(tmp_path / "d1", 1)
    assert run_day(tmp_path / "d1", tmp_path / "lake", bad) == 2
    assert "--date must be a calendar date as YYYY-MM-DD" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "lake")


def _raw_day(raw, date, records):
    folder = raw / f"dt={date}"
    folder.mkdir(parents=True)
    with open(folder / "pages.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def _dated_rows(lake, table, date):
    return [r for r in delta_rows(lake, table) if str(r["dt"]) == date]


@pytest.mark.slow
def test_backfill_runs_dates_in_order_and_stops_at_the_first_failure(tmp_path, capsys):
    from pipelines import cli

    raw, lake = tmp_path / "raw", tmp_path / "lake"
    _raw_day(raw, "2025-03-01", [original(1), original(2)])
    _raw_day(raw, "2025-03-02", [original(2), fresh(1)])  # a copy of day 1's story 2
    # no input for 2025-03-03: the backfill stops there and says how to resume
    _raw_day(raw, "2025-03-04", [fresh(2)])
    args = ["backfill", "--from", "2025-03-01", "--to", "2025-03-04", "--input", f"{raw}/dt={{date}}",
            "--output", str(lake), f"--runner={TEST_RUNNER}", "--ner-model", "en="]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "2025-03-03 failed (exit 2)" in err
    assert "Resume with: newsbeam backfill --from 2025-03-03 --to 2025-03-04" in err
    assert lake_tables.current_state(str(lake))["dates"] == ["2025-03-01", "2025-03-02"]
    (copy,) = _dated_rows(lake, "duplicates", "2025-03-02")
    assert copy["duplicate_of_dt"] == "2025-03-01"
    _raw_day(raw, "2025-03-03", [fresh(3)])
    assert cli.main(["backfill", "--from", "2025-03-03"] + args[3:]) == 0
    assert lake_tables.current_state(str(lake))["dates"] == [
        "2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04"]


@pytest.mark.parametrize("args, message", [
    (["--input", "raw/today", "--output", "lake"], "no --input holds {date}"),
    (["--input", "raw/{date}", "--output", "lake", "--date", "2025-01-01"], "--date is set per run by backfill"),
    (["--input", "raw/{date}", "--output", "lake", "--to", "2025-01-01"], "--to 2025-01-01 is before --from"),
])
def test_backfill_refuses_what_cannot_be_meant(tmp_path, capsys, args, message):
    from pipelines import cli

    base = ["backfill", "--from", "2025-01-02", "--to", "2025-01-03"]
    if "--to" in args:
        base = base[:3]
    assert cli.main(base + args) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_daily_wrapper_writes_each_day_into_one_lake(tmp_path):
    """deploy/schedule/run-day.sh (what systemd, cron and the CronJob call) passes --date."""
    import subprocess

    raw, lake = tmp_path / "raw", tmp_path / "lake"
    _raw_day(raw, "2025-03-01", [original(1)])
    _raw_day(raw, "2025-03-02", [original(1), fresh(1)])
    script = os.path.join(PROJECT_ROOT, "deploy", "schedule", "run-day.sh")
    env = {**os.environ, "NEWSBEAM": NEWSBEAM,
           "NEWSBEAM_RAW_ROOT": str(raw), "NEWSBEAM_OUT_ROOT": str(lake), "NEWSBEAM_LOCK_DIR": str(tmp_path),
           "NEWSBEAM_FLAGS": f"--runner={TEST_RUNNER} --ner-model en="}
    for date in ("2025-03-01", "2025-03-02"):
        proc = subprocess.run(["bash", script, date], env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert lake_tables.current_state(str(lake))["dates"] == ["2025-03-01", "2025-03-02"]
    assert [r["duplicate_of_dt"] for r in _dated_rows(lake, "duplicates", "2025-03-02")] == ["2025-03-01"]
    assert len(_dated_rows(lake, "articles", "2025-03-02")) == 1


def test_backfill_sets_each_date_last_so_no_passed_flag_overrides_it():
    from pipelines.backfill import plan

    runs, _ = plan(["--from", "2025-01-01", "--to", "2025-01-02", "--input", "raw/{date}", "--output", "lake",
                    "--dat", "1999-09-09"])
    assert [(date, args[-2:]) for date, args in runs] == [("2025-01-01", ["--date", "2025-01-01"]),
                                                          ("2025-01-02", ["--date", "2025-01-02"])]
    assert runs[0][1][:2] == ["--input", "raw/2025-01-01"]
