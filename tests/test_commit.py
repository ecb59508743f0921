"""The commit protocol (transforms/io/commit.py): what readers see, retries, concurrent runs, clean-up."""
import json
import os
import subprocess
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import NEWSBEAM
from transforms.io import commit


def write_run(out, run_id, rows=1, table="entities", partition=""):
    """Data files of a run, as workers write them; returns the run's file entries."""
    rel = "/".join(p for p in (table, partition, commit.part_name(run_id, 0, 1)) if p)
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"run": [run_id] * rows}), path)
    return [{"table": table, "path": rel, "rows": rows}]


def parquet_files(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*.parquet"))


def test_a_retried_publish_writes_one_commit_and_the_same_state(tmp_path):
    files = write_run(tmp_path, "run-a")
    first = commit.publish(str(tmp_path), "run-a", files, {"run_id": "run-a"})
    again = commit.publish(str(tmp_path), "run-a", files, {"run_id": "run-a"})
    assert first == again and first["latest_run"] == "run-a"
    assert len(os.listdir(tmp_path / "_newsbeam" / "commits")) == 1
    assert commit.current_files(str(tmp_path)) == [str(tmp_path / files[0]["path"])]


def test_a_run_in_progress_is_never_touched_and_a_superseded_one_is_removed(tmp_path):
    out = str(tmp_path)
    a = write_run(tmp_path, "run-a")
    commit.publish(out, "run-a", a, {"run_id": "run-a"})
    b = write_run(tmp_path, "run-b", table="articles", partition="language=en")  # run b is still writing
    c = write_run(tmp_path, "run-c")
    commit.publish(out, "run-c", c, {"run_id": "run-c"})
    # c superseded a (removed); b's files are younger than the grace period: left alone.
    assert parquet_files(tmp_path) == sorted([b[0]["path"], c[0]["path"]])
    assert json.loads((tmp_path / "run.json").read_text())["run_id"] == "run-c"
    commit.publish(out, "run-b", b, {"run_id": "run-b"})  # b finishes last: it is the output now
    assert commit.current_files(out) == [str(tmp_path / b[0]["path"])]
    assert parquet_files(tmp_path) == [b[0]["path"]]


def test_files_of_a_run_that_died_go_after_the_grace_period(tmp_path):
    out = str(tmp_path)
    dead = write_run(tmp_path, "run-dead")
    live = write_run(tmp_path, "run-live")
    state = commit.publish(out, "run-live", live, {"run_id": "run-live"})
    assert dead[0]["path"] in parquet_files(tmp_path)
    removed = commit.collect_garbage(out, state, {"run-live"}, keep_run="run-live", now=time.time() + 7 * 3600)
    assert [os.path.relpath(p, out) for p in removed] == [dead[0]["path"]]
    assert parquet_files(tmp_path) == [live[0]["path"]]


def test_a_run_whose_files_were_collected_fails_instead_of_publishing_a_broken_state(tmp_path):
    out = str(tmp_path)
    old = write_run(tmp_path, "run-old")
    commit.publish(out, "run-old", old, {"run_id": "run-old"})
    slow = write_run(tmp_path, "run-slow")
    os.remove(tmp_path / slow[0]["path"])  # collected by another run's clean-up
    with pytest.raises(commit.LostFiles, match="1 file"):
        commit.publish(out, "run-slow", slow, {"run_id": "run-slow"})
    assert commit.current_state(out)["latest_run"] == "run-old"


def test_a_failed_run_discards_only_its_own_unpublished_files(tmp_path):
    out = str(tmp_path)
    good = write_run(tmp_path, "run-good")
    commit.publish(out, "run-good", good, {"run_id": "run-good"})
    write_run(tmp_path, "run-bad", table="articles", partition="language=fr")
    write_run(tmp_path, "run-other")
    commit.discard_run(out, "run-bad")
    assert parquet_files(tmp_path) == sorted([good[0]["path"], "entities/" + commit.part_name("run-other", 0, 1)])
    assert not (tmp_path / "articles").exists()  # no empty partition folder left behind
    assert commit.discard_run(out, "run-good") == []  # a published run is never discarded


def test_duckdb_reads_exactly_the_current_files_with_the_documented_query(tmp_path):
    out = str(tmp_path)
    old = write_run(tmp_path, "run-old", rows=2)
    commit.publish(out, "run-old", old, {"run_id": "run-old"})
    write_run(tmp_path, "run-new", rows=5)  # in progress: a glob would see both runs
    con = duckdb.connect()
    con.execute(f"""SET VARIABLE files = (
        SELECT list('{out}/' || f.path) FROM read_json('{out}/_newsbeam/current.json') AS c,
             unnest(c.tables.entities) AS t(f))""")
    assert con.execute("SELECT run, count(*) FROM read_parquet(getvariable('files')) GROUP BY 1").fetchall() == [
        ("run-old", 2)]


@pytest.mark.slow
def test_newsbeam_files_lists_the_current_files(tmp_path):
    out = str(tmp_path)
    files = write_run(tmp_path, "run-a") + write_run(tmp_path, "run-a", table="articles", partition="language=en")
    commit.publish(out, "run-a", files, {"run_id": "run-a"})
    proc = subprocess.run([NEWSBEAM, "files", out, "--table", "articles"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / "articles" / "language=en" / commit.part_name("run-a", 0, 1))]
    proc = subprocess.run([NEWSBEAM, "files", str(tmp_path / "nothing")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "holds no newsbeam output" in proc.stderr


def test_a_run_that_publishes_while_another_does_ends_with_the_fold_of_both(tmp_path, monkeypatch):
    """Run 1 lists the log, run 2 commits and writes current.json, then run 1 writes its own: run 1
    must notice run 2's commit and leave current.json and run.json naming run 2 (the later commit)."""
    out = str(tmp_path)
    one, two = write_run(tmp_path, "run-1"), write_run(tmp_path, "run-2")
    real = commit.commit_paths
    calls = {"n": 0}

    def racing(output):
        calls["n"] += 1
        if calls["n"] == 2:  # run 1 has written its commit record: run 2 publishes now
            monkeypatch.setattr(commit, "commit_paths", real)
            commit.publish(out, "run-2", two, {"run_id": "run-2"})
            monkeypatch.setattr(commit, "commit_paths", racing)
            return [p for p in real(output) if "run-1" in p]  # what run 1 saw before run 2 committed
        return real(output)

    monkeypatch.setattr(commit, "commit_paths", racing)
    commit.publish(out, "run-1", one, {"run_id": "run-1"})
    monkeypatch.setattr(commit, "commit_paths", real)
    state = commit.current_state(out)
    assert state["latest_run"] == "run-2" and commit.current_files(out) == [str(tmp_path / two[0]["path"])]
    assert json.loads((tmp_path / "run.json").read_text())["run_id"] == "run-2"
    assert (tmp_path / two[0]["path"]).exists()


def test_an_output_whose_name_holds_glob_characters_is_itself(tmp_path):
    from transforms.io import store

    out = tmp_path / "out[1]"
    (tmp_path / "out1").mkdir()
    (tmp_path / "out1" / "other.parquet").write_bytes(b"not ours")
    files = write_run(out, "run-a")
    commit.publish(str(out), "run-a", files, {"run_id": "run-a"})
    listed = {os.path.relpath(p, out) for p, _ in store.list_files(str(out))}
    assert listed == {"_newsbeam/commits/" + os.listdir(out / "_newsbeam" / "commits")[0], "_newsbeam/current.json",
                      files[0]["path"], "run.json"}
    assert commit.current_files(str(out)) == [str(out / files[0]["path"])]
    assert (tmp_path / "out1" / "other.parquet").read_bytes() == b"not ours"
