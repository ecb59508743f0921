"""Faults: a stage that raises loses only the records it raised on; a killed run changes nothing."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from conftest import TEST_RUNNER
from hostile_corpus import article

NEWSBEAM = os.path.join(os.path.dirname(sys.executable), "newsbeam")


def write_articles(folder, n, prefix="case"):
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"{prefix}-{i:03d}.txt"), "w", encoding="utf-8") as handle:
            handle.write(f"Harbour bridge report {prefix} {i}\n\n" + article(f"{prefix}-{i}"))


def run_in_process(inputs, output):
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.articles import JobConfig, build_pipeline

    config = JobConfig(inputs=[str(inputs)], output=str(output))
    build_pipeline(config, PipelineOptions([f"--runner={TEST_RUNNER}"])).run().wait_until_finish()
    return json.loads((output / "run.json").read_text())


@pytest.mark.parametrize("module,function,stage", [
    ("transforms.clean", "clean_page", "clean"),
    ("transforms.language", "detect_language", "language"),
    ("transforms.entities", "entities_of", "entities"),
])
def test_a_failing_stage_rejects_only_its_records(tmp_path, monkeypatch, module, function, stage):
    import importlib

    target = importlib.import_module(module)
    real = getattr(target, function)

    def flaky(*args, **kwargs):
        text = next((a for a in args if isinstance(a, str)), None) or getattr(args[0], "text", "")
        if "case 3" in text or "case-3" in text:
            raise RuntimeError("injected fault")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, function, flaky)
    write_articles(tmp_path / "in", 6)
    summary = run_in_process(tmp_path / "in", tmp_path / "out")
    rejected = pq.read_table(tmp_path / "out" / "rejected").to_pylist()
    assert [(r["stage"], r["reason"], r["detail"]) for r in rejected] == [
        (stage, "stage_error", "RuntimeError: injected fault")]
    assert rejected[0]["source_file"].endswith("case-003.txt") and "case-3" in rejected[0]["payload"]
    assert summary["articles_written"] == 5 and summary["reconciled"] is True


def _snapshot(folder):
    return {os.path.relpath(p, folder): open(p, "rb").read()
            for p in glob.glob(os.path.join(folder, "**", "*"), recursive=True) if os.path.isfile(p)}


def test_sigkill_mid_write_leaves_previous_output_then_rerun_completes(tmp_path):
    write_articles(tmp_path / "old", 2, prefix="old")
    write_articles(tmp_path / "new", 40, prefix="new")
    out = tmp_path / "out"
    first = subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "old"), "--output", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    before = _snapshot(out)

    killed_mid_write = False
    for _ in range(3):
        proc = subprocess.Popen([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(out),
                                 "--rows-per-file", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        pattern = str(tmp_path / ".out.newsbeam-staging-*" / "**" / "*.parquet")
        while proc.poll() is None and not glob.glob(pattern, recursive=True):
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_mid_write = True
            break
        out_files = _snapshot(out)  # it finished first: put the old output back and try again
        assert out_files != before
        subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "old"), "--output", str(out)], check=True,
                       capture_output=True, timeout=600)
        before = _snapshot(out)
    assert killed_mid_write, "the run always finished before it could be killed mid-write"

    after = _snapshot(out)
    assert after == before  # byte for byte: the previous output, untouched
    assert not [p for p in after if "staging" in p or p.endswith((".tmp", ".partial"))]

    rerun = subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(out)],
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not glob.glob(str(tmp_path / ".out.newsbeam-staging-*"))  # the killed run's staging is gone
    fresh = tmp_path / "fresh"
    subprocess.run([NEWSBEAM, "run", "--input", str(tmp_path / "new"), "--output", str(fresh)], check=True,
                   capture_output=True, timeout=600)
    got, want = _snapshot(out), _snapshot(fresh)
    got.pop("run.json"), want.pop("run.json")
    assert got == want  # identical Parquet files, byte for byte
