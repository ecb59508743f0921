"""Mistakes operators make on the command line and in the lake (issue 23): each one used to lose
records while saying "counts reconcile", or to answer with a traceback or the wrong exit code.
Each test runs the real command (``pipelines.articles.main``) and checks what a user would see:
the exit code, the one line on stderr, and what the output holds afterwards."""
import json
import os
import shlex
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.hostile import article
from support import TEST_RUNNER
from support.runs import snapshot, write_articles
from transforms.io import lake as lake_tables


def run(*args):
    from pipelines import articles

    return articles.main([*map(str, args), f"--runner={TEST_RUNNER}"])


def last_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("newsbeam: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# 5. Stray positional arguments are a usage error, not a Beam warning.
@pytest.mark.parametrize("layout", ["after-equals", "after-output"])
def test_a_stray_path_is_refused_not_ignored(tmp_path, capsys, layout):
    write_articles(tmp_path / "a", 1, "first")
    write_articles(tmp_path / "b", 1, "second")
    out = tmp_path / "out"
    if layout == "after-equals":
        code = run(f"--input={tmp_path / 'a'}", tmp_path / "b", "--output", out)
    else:
        code = run("--input", tmp_path / "a", "--output", out, tmp_path / "b")
    assert code == 2
    assert f"stray argument(s) '{tmp_path / 'b'}'" in last_error(capsys)
    assert not out.exists()


def test_several_inputs_after_one_input_flag_are_all_read(tmp_path):
    write_articles(tmp_path / "a", 1, "first")
    write_articles(tmp_path / "b", 1, "second")
    assert run("--input", tmp_path / "a", tmp_path / "b", "--output", tmp_path / "out") == 0
    assert json.loads((tmp_path / "out" / "run.json").read_text())["articles_written"] == 2


# 6. The output inside an input would be read back by the next run.
@pytest.mark.parametrize("inside", ["in/out", "in", "in/deeper/out"])
def test_an_output_inside_the_input_is_refused(tmp_path, capsys, inside):
    write_articles(tmp_path / "in", 2)
    before = snapshot(tmp_path / "in")
    assert run("--input", tmp_path / "in", "--output", tmp_path / inside) == 2
    assert "is inside --input" in last_error(capsys)
    assert snapshot(tmp_path / "in") == before


def test_an_output_beside_the_input_with_a_common_prefix_is_fine(tmp_path):
    write_articles(tmp_path / "in", 1)
    assert run("--input", tmp_path / "in", "--output", tmp_path / "in-out") == 0


def test_an_output_inside_an_object_store_input_is_refused():
    from pipelines.safety import check_output_outside_inputs

    with pytest.raises(ValueError, match="is inside --input"):
        check_output_outside_inputs("s3://news/raw/out", ["s3://news/raw/"])
    with pytest.raises(ValueError, match="is inside --input"):
        check_output_outside_inputs("gs://news/raw/2025/out", ["gs://news/raw/*/*.jsonl"])
    check_output_outside_inputs("s3://news/rawer", ["s3://news/raw"])  # a sibling, not inside


# 14. A running mode known to lose GroupByKey output.
def test_multi_threading_is_refused_with_the_mode_that_works(tmp_path, capsys):
    write_articles(tmp_path / "in", 1)
    assert run("--input", tmp_path / "in", "--output", tmp_path / "out",
               "--direct_running_mode=multi_threading") == 2
    assert "--direct_running_mode=multi_processing" in last_error(capsys)
    assert not (tmp_path / "out").exists()


# 3. A run whose kind (dated or not) differs from the output's.
@pytest.mark.slow
def test_an_undated_run_into_a_lake_is_refused_and_keeps_every_date(tmp_path, capsys):
    lake = tmp_path / "lake"
    write_articles(tmp_path / "d1", 2, "first")
    write_articles(tmp_path / "d2", 2, "second")
    assert run("--input", tmp_path / "d1", "--output", lake, "--date", "2025-03-03") == 0
    assert run("--input", tmp_path / "d2", "--output", lake, "--date", "2025-03-04") == 0
    capsys.readouterr()
    before = snapshot(lake)
    assert run("--input", tmp_path / "d2", "--output", lake) == 2
    assert "a lake of 2 date(s) (2025-03-03 to 2025-03-04)" in last_error(capsys)
    assert snapshot(lake) == before
    # Said on purpose: the lake is replaced by one undated output.
    assert run("--input", tmp_path / "d2", "--output", lake, "--change-output-kind") == 0
    assert lake_tables.current_state(str(lake))["dates"] == []


@pytest.mark.slow
def test_a_dated_run_into_an_undated_output_is_refused_then_replaces_it_when_said(tmp_path, capsys):
    out = tmp_path / "out"
    write_articles(tmp_path / "d1", 2, "first")
    assert run("--input", tmp_path / "d1", "--output", out) == 0
    capsys.readouterr()
    before = snapshot(out)
    assert run("--input", tmp_path / "d1", "--output", out, "--date", "2025-03-03") == 2
    assert "is an undated output" in last_error(capsys)
    assert snapshot(out) == before
    assert run("--input", tmp_path / "d1", "--output", out, "--date", "2025-03-03", "--change-output-kind") == 0
    current = lake_tables.current_state(str(out))
    # No file of the undated output stays in a table beside the date: every current file is of 2025-03-03.
    assert {entry.get("dt") for entries in current["tables"].values() for entry in entries} == {"2025-03-03"}


# 4. Rerunning an earlier date whose articles later dates' duplicates name.
def _dangling(lake) -> int:
    """Rows of duplicates/ whose duplicate_of names no article of the lake now."""
    tables = lake_tables.current_state(str(lake))["tables"]
    con = duckdb.connect()
    articles = con.execute("SELECT article_id FROM read_parquet(?)",
                           [[os.path.join(lake, e["path"]) for e in tables["articles"]]]).fetchall()
    names = {a for (a,) in articles}
    dups = [r for e in tables["duplicates"] for r in pq.read_table(os.path.join(lake, e["path"])).to_pylist()]
    return sum(1 for row in dups if row["duplicate_of"] not in names)


def _feed(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.mark.slow
def test_a_rerun_of_an_earlier_date_is_refused_and_the_backfill_it_names_keeps_the_lake_whole(tmp_path, capsys):
    from pipelines import backfill

    lake, raw = tmp_path / "lake", tmp_path / "raw"
    story = {"id": "s1", "source": "Harbour News", "text": "Port strike ends\n\n" + article("story-one")}
    other = {"id": "s2", "source": "Harbour News", "text": "Bridge opens\n\n" + article("story-two")}
    _feed(raw / "2025-03-03" / "feed.jsonl", [story, other])
    _feed(raw / "2025-03-04" / "feed.jsonl", [{**story, "id": "copy-1", "source": "Mirror"}])
    for day in ("2025-03-03", "2025-03-04"):
        assert run("--input", raw / day, "--output", lake, "--date", day) == 0
    assert json.loads((lake / "run.json").read_text())["duplicates_of_earlier_dates"] == 1
    assert _dangling(lake) == 0
    # The corrected feed of 03-03 no longer holds the story that 03-04's copy names.
    _feed(raw / "2025-03-03" / "feed.jsonl", [other])
    capsys.readouterr()
    before = snapshot(lake)
    assert run("--input", raw / "2025-03-03", "--output", lake, "--date", "2025-03-03") == 2
    message = last_error(capsys)
    assert snapshot(lake) == before
    command = message.split("Rerun it together with the later dates, oldest first: ", 1)[1]
    assert command == (f"newsbeam backfill --from 2025-03-03 --to 2025-03-04 --input '{raw}/{{date}}' "
                       f"--output {lake}")
    words = shlex.split(command)
    assert words[:2] == ["newsbeam", "backfill"]
    assert backfill.main([*words[2:], f"--runner={TEST_RUNNER}"]) == 0
    assert _dangling(lake) == 0

    dates = {e["dt"]: e["rows"] for e in lake_tables.current_state(str(lake))["tables"]["articles"] if e["rows"]}
    assert dates == {"2025-03-03": 1, "2025-03-04": 1}  # the copy is now the story's article


# 10. Damaged lake metadata: named, with the repair, and the failed-run exit code.
def _two_day_lake(tmp_path):
    lake = tmp_path / "lake"
    write_articles(tmp_path / "d1", 2, "first")
    write_articles(tmp_path / "d2", 2, "second")
    assert run("--input", tmp_path / "d1", "--output", lake, "--date", "2025-03-03") == 0
    return lake


@pytest.mark.slow
def test_a_deleted_dedupe_index_file_is_named_with_the_repair(tmp_path, capsys):
    lake = _two_day_lake(tmp_path)
    (index,) = [p for p in (lake / "dedupe_index" / "dt=2025-03-03").glob("*.parquet")]
    index.unlink()
    capsys.readouterr()
    assert run("--input", tmp_path / "d2", "--output", lake, "--date", "2025-03-04") == 3
    message = last_error(capsys)
    assert str(index) in message and "is missing" in message
    assert "newsbeam backfill --from 2025-03-03" in message
    assert "rerun while this run was running" not in message


@pytest.mark.slow
def test_a_truncated_dedupe_index_file_is_named(tmp_path, capsys):
    lake = _two_day_lake(tmp_path)
    (index,) = [p for p in (lake / "dedupe_index" / "dt=2025-03-03").glob("*.parquet")]
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])
    capsys.readouterr()
    assert run("--input", tmp_path / "d2", "--output", lake, "--date", "2025-03-04") == 3
    message = last_error(capsys)
    assert str(index) in message and "cannot be read" in message


@pytest.mark.slow
def test_a_truncated_table_commit_is_a_failed_run_naming_the_file_and_its_repair_works(tmp_path, capsys):
    lake = _two_day_lake(tmp_path)
    before = lake_tables.current_state(str(lake))
    damaged = max((lake / "duplicates" / "_delta_log").glob("*.json"))  # the newest commit, cut short
    damaged.write_bytes(damaged.read_bytes()[:40])
    capsys.readouterr()
    assert run("--input", tmp_path / "d2", "--output", lake, "--date", "2025-03-04") == 3
    message = last_error(capsys)
    assert str(damaged) in message and "is damaged" in message and "delete it" in message
    # The repair the message gives: delete it (that table goes back one version), rerun the date.
    damaged.unlink()
    assert run("--input", tmp_path / "d1", "--output", lake, "--date", "2025-03-03") == 0
    assert run("--input", tmp_path / "d2", "--output", lake, "--date", "2025-03-04") == 0
    after = lake_tables.current_state(str(lake))
    assert after["dates"] == ["2025-03-03", "2025-03-04"]
    assert sum(e["rows"] for e in after["tables"]["articles"]) == sum(
        e["rows"] for e in before["tables"]["articles"]) + 2


# 11. Every record rejected: integral float ids are ids, and a mostly rejected run does not publish.
@pytest.mark.slow
def test_a_run_of_mostly_rejected_records_fails_naming_the_reasons(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    good = json.dumps({"text": "Port strike ends\n\n" + article("mostly-rejected")})
    (folder / "feed.jsonl").write_text('{"text": 5}\n{"text": 6}\nnot json\n' + good + "\n")
    assert run("--input", folder, "--output", tmp_path / "out") == 3
    message = last_error(capsys)
    assert "3 of 4 records (75.0%) were rejected" in message
    assert "validate/wrong_type 2, validate/malformed_json 1" in message
    assert not (tmp_path / "out" / "run.json").exists()
    assert run("--input", folder, "--output", tmp_path / "out", "--max-rejected-share", "1") == 0


# 7. A store that does not answer fails the launch within the bound, in one line.
def test_an_unreachable_object_store_fails_within_the_launch_timeout(tmp_path, capsys):
    started = time.monotonic()
    code = run("--input", "s3://news/raw/", "--output", tmp_path / "out", "--s3_endpoint_url=http://127.0.0.1:9",
               "--s3_access_key_id=x", "--s3_secret_access_key=y", "--s3_region_name=us-east-1",
               "--launch-timeout", "3")
    assert code == 3
    assert time.monotonic() - started < 30  # Beam's own retries alone wait 142 s
    message = last_error(capsys)
    assert "no answer within --launch-timeout 3 s from s3://news/raw/ (endpoint http://127.0.0.1:9)" in message
    assert not (tmp_path / "out").exists()


def test_a_failure_of_the_launch_is_one_line_and_the_failed_run_code(tmp_path, capsys, monkeypatch):
    from transforms.io import paths

    write_articles(tmp_path / "in", 1)

    def refuse(*_args, **_kwargs):
        raise PermissionError("Access Denied (403) on s3://news/raw")

    monkeypatch.setattr(paths, "list_source", refuse)
    assert run("--input", tmp_path / "in", "--output", tmp_path / "out") == 3
    assert "the run could not start: PermissionError: Access Denied (403) on s3://news/raw" in last_error(capsys)


def test_newsbeam_files_names_a_damaged_table_log(tmp_path, capsys):
    from pipelines import cli

    lake = _two_day_lake(tmp_path)
    damaged = max((lake / "articles" / "_delta_log").glob("*.json"))  # the newest commit, cut short
    damaged.write_bytes(damaged.read_bytes()[:40])
    capsys.readouterr()
    assert cli.main(["files", str(lake)]) == 3
    message = last_error(capsys)
    assert str(damaged) in message and "delete it" in message
