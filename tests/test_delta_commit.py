"""The commit of a run to the lake's Delta tables (transforms/io/lake.py), without a pipeline: parts
written as workers write them, then committed as the last step commits them."""
import datetime
import threading
from types import SimpleNamespace

import pyarrow as pa
import pytest

from support.lake import delta_rows, duckdb_rows
from support.runs import snapshot
from transforms.io import lake
from transforms.io.rows import TABLES, partition_dir, write_part
from transforms.io.write import partition_columns
from transforms.rejects import make_rejection

REJECTED = TABLES["rejected"]


def _parts(out, run_id, day, n, table=REJECTED, schema=None):
    """``n`` rejected rows of run ``run_id`` for date ``day`` (None: undated), written as one part."""
    date = datetime.date.fromisoformat(day) if day else None
    rows = [make_rejection("validate", "empty_text", f"row {i} of {run_id}", source_file=f"{run_id}.txt",
                           source_line=i, payload=" ").model_dump() for i in range(n)]
    if schema is not None:  # what an older newsbeam wrote: fewer columns
        rows = [{k: v for k, v in r.items() if k in schema.names} for r in rows]
        table = SimpleNamespace(name=table.name, schema=schema, sort_key=table.sort_key, partition_by=None)
    entry = write_part(str(out), run_id, table, partition_dir(table, {}, date), 0, 1, rows, date) if n else None
    return [entry] if entry else []


def _publish(out, run_id, day, entries, expected, file_schema=None):
    date = datetime.date.fromisoformat(day) if day else None
    tables = {"rejected": {"entries": entries, "schema": file_schema or REJECTED.schema,
                           "partition_by": partition_columns(REJECTED, date)}}
    return lake.publish(str(out), run_id, tables, {"run_id": run_id}, day, expected)


def _by_date(out):
    found = {}
    for row in delta_rows(out, "rejected"):
        found.setdefault(str(row["dt"]), []).append(row["detail"])
    return {k: sorted(v) for k, v in sorted(found.items())}


def test_a_retried_commit_adds_nothing_twice(tmp_path):
    out = tmp_path / "lake"
    entries = _parts(out, "run-a", "2025-03-01", 3)
    first = _publish(out, "run-a", "2025-03-01", entries, expected=0)
    again = _publish(out, "run-a", "2025-03-01", entries, expected=0)  # the commit step run twice
    assert again["table_versions"] == first["table_versions"]
    assert lake.open_table(str(out), "rejected").version() == first["table_versions"]["rejected"]
    assert len(delta_rows(out, "rejected")) == 3
    assert duckdb_rows(out, "rejected", "SELECT count(*) AS n FROM t") == [{"n": 3}]


def test_a_dated_commit_replaces_its_date_and_time_travel_reads_the_version_before(tmp_path):
    out = tmp_path / "lake"
    one = _publish(out, "run-1", "2025-03-01", _parts(out, "run-1", "2025-03-01", 2), expected=0)
    _publish(out, "run-2", "2025-03-02", _parts(out, "run-2", "2025-03-02", 1), expected=0)
    _publish(out, "run-3", "2025-03-01", _parts(out, "run-3", "2025-03-01", 4), expected=1)  # a rerun
    got = _by_date(out)
    assert [len(got["2025-03-01"]), len(got["2025-03-02"])] == [4, 1]
    assert all("run-3" in detail for detail in got["2025-03-01"])
    pinned = duckdb_rows(out, "rejected", "SELECT count(*) AS n FROM t", version=one["table_versions"]["rejected"])
    assert pinned == [{"n": 2}]  # the lake as it was after run-1


def test_a_run_of_the_same_date_committed_meanwhile_makes_this_run_fail_with_nothing_committed(tmp_path):
    out = tmp_path / "lake"
    # Both runs start on an empty date (counter 0); the first commits; the second must not replace it.
    winner = _parts(out, "run-w", "2025-03-01", 2)
    loser = _parts(out, "run-l", "2025-03-01", 5)
    _publish(out, "run-w", "2025-03-01", winner, expected=0)
    with pytest.raises(lake.ConcurrentRun, match="another run committed 2025-03-01"):
        _publish(out, "run-l", "2025-03-01", loser, expected=0)
    assert [d.split(" of ")[1] for d in _by_date(out)["2025-03-01"]] == ["run-w", "run-w"]
    held = {e["path"] for e in lake.current_state(str(out))["tables"]["rejected"]}
    assert not any("run-l" in path for path in held) and lake.committed_tables(str(out), "run-l") == []
    assert lake.run_summary(str(out), "run-l") is None


def test_runs_of_different_dates_committing_at_once_both_land(tmp_path):
    out = tmp_path / "lake"
    _publish(out, "run-0", "2025-03-01", _parts(out, "run-0", "2025-03-01", 1), expected=0)  # the table exists
    days = [f"2025-03-{d:02d}" for d in range(2, 8)]
    parts = {day: _parts(out, f"run-{day}", day, 2) for day in days}
    start, errors, versions = threading.Barrier(len(days)), [], {}

    def commit(day):
        start.wait()
        try:
            versions[day] = _publish(out, f"run-{day}", day, parts[day], expected=0)["table_versions"]["rejected"]
        except Exception as exc:  # pylint: disable=broad-except
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {day: len(rows) for day, rows in _by_date(out).items()} == {"2025-03-01": 1, **{day: 2 for day in days}}
    # Each run's summary names the version its commit made, whatever landed around it.
    for day, version in versions.items():
        key = lake.run_key(f"run-{day}")
        assert lake.open_table(str(out), "rejected", version).transaction_version(key) is not None
        assert lake.open_table(str(out), "rejected", version - 1).transaction_version(key) is None
    assert sorted(versions.values()) == list(range(2, 2 + len(days)))


def test_a_column_added_by_a_newer_newsbeam_merges_and_older_dates_read_nulls(tmp_path):
    out = tmp_path / "lake"
    older = pa.schema([f for f in REJECTED.schema if f.name != "payload_chars"])
    _publish(out, "old", "2025-03-01", _parts(out, "old", "2025-03-01", 2, schema=older), expected=0,
             file_schema=older)
    assert "payload_chars" not in delta_rows(out, "rejected")[0]
    _publish(out, "new", "2025-03-02", _parts(out, "new", "2025-03-02", 1), expected=0)
    rows = {str(r["dt"]): r["payload_chars"] for r in delta_rows(out, "rejected")}
    assert rows == {"2025-03-01": None, "2025-03-02": 1}
    # And an older newsbeam writing into the newer lake keeps the column (its rows read nulls).
    _publish(out, "old-again", "2025-03-03", _parts(out, "old-again", "2025-03-03", 1, schema=older),
             expected=0, file_schema=older)
    rows = {str(r["dt"]): r["payload_chars"] for r in duckdb_rows(out, "rejected")}
    assert rows == {"2025-03-01": None, "2025-03-02": 1, "2025-03-03": None}


def test_a_column_whose_type_changed_is_refused(tmp_path):
    out = tmp_path / "lake"
    _publish(out, "one", "2025-03-01", _parts(out, "one", "2025-03-01", 1), expected=0)
    changed = pa.schema([pa.field(f.name, pa.string()) if f.name == "payload_chars" else f for f in REJECTED.schema])
    with pytest.raises(Exception, match="column payload_chars is int64 in the lake and string"):
        _publish(out, "two", "2025-03-02", [], expected=0, file_schema=changed)


def test_vacuum_deletes_only_what_no_table_names_and_keeps_recent_files(tmp_path):
    out = tmp_path / "lake"
    _publish(out, "run-1", "2025-03-01", _parts(out, "run-1", "2025-03-01", 2), expected=0)
    _publish(out, "run-2", "2025-03-01", _parts(out, "run-2", "2025-03-01", 2), expected=1)  # replaces run-1
    _parts(out, "died", "2025-03-02", 1)  # a run that never committed
    (out / "notes.txt").write_text("someone's file beside the tables")
    assert lake.vacuum(str(out), retain_hours=1) == {"rejected": []}  # all younger than the retention
    deleted = lake.vacuum(str(out), retain_hours=0)["rejected"]
    assert sorted(lake.run_of_part(p) for p in deleted) == ["died", "run-1"]
    assert (out / "notes.txt").exists()
    assert len(delta_rows(out, "rejected")) == 2
    left = [p for p in snapshot(out) if p.endswith(".parquet")]
    assert len(left) == 1 and "run-2" in left[0]


def test_a_run_that_died_between_two_tables_commits_each_table_once_when_retried(tmp_path):
    out, day = tmp_path / "lake", "2025-03-01"
    date = datetime.date.fromisoformat(day)
    specs = {name: {"entries": [], "schema": TABLES[name].schema, "partition_by": partition_columns(TABLES[name], date)}
             for name in ("articles", "duplicates", "dedupe_index")}
    specs["rejected"] = {"entries": _parts(out, "run-x", day, 2), "schema": REJECTED.schema,
                         "partition_by": partition_columns(REJECTED, date)}
    spec = specs["articles"]  # the step committed its first table, then died
    lake.commit_table(str(out), "articles", "run-x", [], spec["schema"], spec["partition_by"], day, expected_runs=0)
    first = lake.publish(str(out), "run-x", specs, {"run_id": "run-x"}, day, 0)  # the retried step
    again = lake.publish(str(out), "run-x", specs, {"run_id": "run-x"}, day, 0)  # and once more
    assert first["table_versions"] == again["table_versions"] == {
        "articles": 1, "duplicates": 1, "rejected": 1, "dedupe_index": 1}  # version 0 made each table
    assert lake.committed_tables(str(out), "run-x") == ["articles", "duplicates", "rejected", "dedupe_index"]
    assert len(delta_rows(out, "rejected")) == 2
