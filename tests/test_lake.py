"""Dated runs into one lake: each run writes partition dt=<date> of every table and replaces that
date only (the commit log folds per date)."""
import glob
import json
import os

import duckdb
import pytest

from conftest import TEST_RUNNER
from test_faults import _snapshot, write_articles


def run_day(inputs, lake, date=None):
    from pipelines import articles

    args = ["--input", str(inputs), "--output", str(lake), f"--runner={TEST_RUNNER}"]
    return articles.main(args + (["--date", date] if date else []))


def day_files(lake, date):
    return {rel: data for rel, data in _snapshot(lake).items() if f"/dt={date}/" in f"/{rel}"}


def test_a_dated_run_replaces_its_date_only(tmp_path):
    lake = tmp_path / "lake"
    write_articles(tmp_path / "d1", 3, prefix="first")
    write_articles(tmp_path / "d2", 2, prefix="second")
    write_articles(tmp_path / "d2b", 4, prefix="again")
    assert run_day(tmp_path / "d1", lake, "2025-03-12") == 0
    day1 = day_files(lake, "2025-03-12")
    assert any(rel.startswith("articles/dt=2025-03-12/language=en/") for rel in day1)
    assert {rel.split("/")[0] for rel in day1} == {"articles", "entities", "duplicates", "rejected", "dedupe_index"}
    assert run_day(tmp_path / "d2", lake, "2025-03-13") == 0
    assert day_files(lake, "2025-03-12") == day1  # day 1 byte for byte
    assert run_day(tmp_path / "d2b", lake, "2025-03-13") == 0  # rerun of day 2 with other input
    assert day_files(lake, "2025-03-12") == day1
    con = duckdb.connect()
    got = con.execute("SELECT CAST(dt AS VARCHAR), count(*) FROM read_parquet(?, hive_partitioning = true) "
                      "GROUP BY 1 ORDER BY 1", [str(lake / "articles" / "**" / "*.parquet")]).fetchall()
    assert got == [("2025-03-12", 3), ("2025-03-13", 4)]
    current = json.loads((lake / "_newsbeam" / "current.json").read_text())
    assert current["dates"] == ["2025-03-12", "2025-03-13"]
    assert json.loads((lake / "run.json").read_text())["date"] == "2025-03-13"
    # An undated run is a whole output again: it replaces every date.
    assert run_day(tmp_path / "d1", lake) == 0
    assert not glob.glob(str(lake / "*" / "dt=*"))


@pytest.mark.parametrize("bad", ["2025-02-30", "12-03-2025", "2025-3-1", "today"])
def test_a_date_that_is_not_a_calendar_date_is_refused(tmp_path, capsys, bad):
    write_articles(tmp_path / "d1", 1)
    assert run_day(tmp_path / "d1", tmp_path / "lake", bad) == 2
    assert "--date must be a calendar date as YYYY-MM-DD" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "lake")
