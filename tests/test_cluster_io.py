"""Cluster-ready I/O, proved against real servers on loopback: input and output on s3:// (moto's
S3 server) and gs:// (gcp-storage-emulator), Prism with two worker pools that share no folder, and
SIGKILL of the launcher and of a worker against the S3 server."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time

import pyarrow.parquet as pq
import pytest

from benchmarks.servers.local_runners import (PRISM, PYTHON_BOOT, WORKER_PYTHON, build_wheel,
                                              prism_with_two_worker_pools)
from benchmarks.servers.object_stores import filesystems_for, gcs_server, s3_server
from support import NEWSBEAM, PROJECT_ROOT, SEEDS
from transforms.io.lake import without_run_id

# Object-store servers, `newsbeam run` processes, Prism and worker pools, SIGKILL: all slow.
pytestmark = pytest.mark.slow

TABLES = ("articles", "entities", "duplicates", "rejected")


def newsbeam(*args, env=None, cwd=None, timeout=900):
    return subprocess.run([NEWSBEAM, "run", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def upload_folder(server, bucket, prefix, folder):
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            server.put(bucket, f"{prefix}/{name}", handle.read())


def rows_of(files: dict) -> dict:
    """{table file without its run id: rows, with source_file reduced to the file's name}."""
    out = {}
    for rel, data in files.items():
        rows = pq.read_table(io.BytesIO(data)).to_pylist()
        for row in rows:
            if row.get("source_file"):
                row["source_file"] = row["source_file"].rsplit("/", 1)[-1]
        out[without_run_id(rel)] = sorted(rows, key=repr)
    return out


def published(output, beam_args=()) -> dict:
    """{path: bytes} of the files the output's Delta tables hold now, read through their logs."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from transforms.io import lake, store

    store.use_options(PipelineOptions(list(beam_args)))
    state = lake.current_state(str(output))
    return {e["path"]: store.read_bytes(store.join(str(output), e["path"]))
            for t in TABLES for e in state["tables"].get(t, [])}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The seeds run locally: what every store and runner must give."""
    out = tmp_path_factory.mktemp("reference") / "out"
    proc = newsbeam("--input", SEEDS, "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return rows_of(published(out))


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        server.make_bucket("news")
        upload_folder(server, "news", "in/seeds", SEEDS)
        server.put("news", "in/seeds/", b"")  # the empty "folder" object a console makes: not an input
        server.put("news", "in/seeds/.cache/notes.txt", b"a hidden folder is skipped, as on disk")
        yield server


def test_s3_in_and_out_equals_the_local_run_and_writes_nothing_locally(s3, reference, tmp_path):
    workdir = tmp_path / "launcher"
    workdir.mkdir()
    proc = newsbeam("--input", "s3://news/in/seeds", "--output", "s3://news/out/seeds", *s3.beam_args,
                    cwd=workdir, env={"TMPDIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "counts reconcile" in proc.stdout and "output in s3://news/out/seeds" in proc.stdout
    assert os.listdir(workdir) == []  # no ./s3:/ folder, no local parts: every byte went to the store
    assert rows_of(published("s3://news/out/seeds", s3.beam_args)) == reference
    keys = s3.list_keys("news", "out/seeds/")
    summary = json.loads(s3.read("news", "out/seeds/run.json"))
    assert summary["reconciled"] and summary["inputs"] == len(os.listdir(SEEDS))
    assert any(k.startswith("out/seeds/articles/_delta_log/") for k in keys)
    # A glob over the store reads the same rows (no file of another state is left).
    data = {k[len("out/seeds/"):]: s3.read("news", k) for k in keys if k.endswith(".parquet")}
    assert rows_of(data) == reference


def test_gcs_in_and_out_equals_the_local_run(reference, tmp_path):
    with gcs_server() as gcs:
        gcs.make_bucket("news")
        upload_folder(gcs, "news", "in/seeds", SEEDS)
        workdir = tmp_path / "launcher"
        workdir.mkdir()
        proc = newsbeam("--input", "gs://news/in/seeds/*", "--output", "gs://news/out", *gcs.beam_args,
                        cwd=workdir, env=gcs.env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert os.listdir(workdir) == []
        assert rows_of(published("gs://news/out", gcs.beam_args)) == reference


@pytest.mark.parametrize("output,message", [
    ("gs:/news/out", "looks like a URL with its '//' missing"),
    ("nosuch://news/out", "nosuch:// cannot be used here"),
])
def test_an_output_url_that_cannot_work_is_refused_at_start(tmp_path, output, message):
    proc = newsbeam("--input", SEEDS, "--output", output, cwd=tmp_path)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-2000:]
    assert os.listdir(tmp_path) == []  # never a local folder named gs:


def test_a_missing_prefix_fails_at_start(s3, tmp_path):
    proc = newsbeam("--input", "s3://news/no-such-prefix", "--output", "s3://news/out/none", *s3.beam_args,
                    cwd=tmp_path)
    assert proc.returncode == 2 and "matches no files" in proc.stderr, proc.stderr[-2000:]
    assert s3.list_keys("news", "out/none/") == []


# Prism 2.77 sometimes panics on an empty sampled-byte-size payload in a progress report (its
# metrics decoder hits EOF); seen in about 1 of 7 runs of the two-pool test, never with a wrong result.
PRISM_METRICS_PANIC = "error decoding metrics beam:metric:sampled_byte_size"


def test_prism_with_two_worker_pools_that_share_no_folder_writes_to_s3(s3, reference, tmp_path, capsys):
    for path in (PRISM, PYTHON_BOOT, WORKER_PYTHON):
        if not os.path.exists(path):
            if os.environ.get("NEWSBEAM_REQUIRE_RUNNERS") == "1":
                pytest.fail(f"{path} missing: run 'make runners'")
            pytest.skip(f"{path} missing: run 'make runners'")
    from pipelines import articles

    wheel = build_wheel(PROJECT_ROOT, str(tmp_path / "dist"))
    # The articles and entities files are written on pool B, everything else runs on pool A. (Pinning
    # Extract Entities there too makes Prism 2.77 panic on an empty byte-size sample of its empty
    # rejected output, a Prism bug.)
    pin = ("Write/Write Articles Files", "Write/Write Entities Files")
    with prism_with_two_worker_pools(str(tmp_path / "services"), wheel, pin, env=s3.env) as (flags, pools):
        launcher = tmp_path / "launcher"
        launcher.mkdir()
        cwd = os.getcwd()
        os.chdir(launcher)
        try:
            for attempt in range(3):  # a retry only for Prism's own panic (above); any other failure fails
                code = articles.main(["--input", "s3://news/in/seeds", "--output", "s3://news/out/prism",
                                      *flags, *s3.beam_args])
                err = capsys.readouterr().err
                if code == 0 or PRISM_METRICS_PANIC not in err:
                    break
        finally:
            os.chdir(cwd)
        assert code == 0, err[-3000:]
        assert os.listdir(launcher) == []
    logs = {name: open(os.path.join(folder, "pool.log")).read() for name, folder in pools.items()}
    # Each pool started the SDK worker of its own environment (B: the pinned writing stages).
    assert "Starting worker" in logs["a"] and "default_environment_1'" in logs["a"]
    assert "Starting worker" in logs["b"] and "default_environment_1-pool-b'" in logs["b"]
    assert rows_of(published("s3://news/out/prism", s3.beam_args)) == reference


def _wait_for_parts(s3, prefix, known, proc, seconds=600):
    """Until the run has a data file on the store that is not in ``known``; False if it ended first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if {k for k in s3.list_keys("news", prefix) if k.endswith(".parquet")} - known:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("victim", ["launcher", "worker"])
def test_sigkill_against_s3_leaves_the_previous_output_and_the_rerun_equals_a_fresh_one(s3, reference, tmp_path,
                                                                                           victim):
    from benchmarks.corpora.generated import write_generated

    corpus = tmp_path / "corpus"
    write_generated(str(corpus))
    for root, _, names in os.walk(corpus):
        for name in names:
            rel = os.path.relpath(os.path.join(root, name), corpus)
            with open(os.path.join(root, name), "rb") as handle:
                s3.put("news", f"in/{victim}/{rel}", handle.read())
    out = f"s3://news/out/kill-{victim}"
    prefix = f"out/kill-{victim}/"
    first = newsbeam("--input", "s3://news/in/seeds", "--output", out, *s3.beam_args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    before = {k: s3.read("news", k) for k in s3.list_keys("news", prefix)}

    # multi_processing: the workers are processes of their own, which can be killed alone.
    flags = ["--direct_running_mode=multi_processing", "--direct_num_workers=2", "--rows-per-file", "20"]
    proc = subprocess.Popen([NEWSBEAM, "run", "--input", f"s3://news/in/{victim}", "--output", out, *flags,
                             *s3.beam_args], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        assert _wait_for_parts(s3, prefix, set(before), proc), "the run ended before it wrote a file"
        if victim == "launcher":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
            assert workers, "no worker process found"
            os.kill(int(workers[0]), signal.SIGKILL)
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    after = {k: s3.read("news", k) for k in s3.list_keys("news", prefix)}
    if victim == "launcher" or proc.returncode != 0:
        # Readers see the previous output, byte for byte; the killed run only added its own files.
        assert {k: after[k] for k in before} == before
        assert all(k.endswith(".parquet") for k in set(after) - set(before))
        # Delta readers see the previous state too, whatever files the killed run left beside it.
        assert rows_of(published(out, s3.beam_args)) == reference
    rerun = newsbeam("--input", f"s3://news/in/{victim}", "--output", out, *s3.beam_args, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    fresh = newsbeam("--input", f"s3://news/in/{victim}", "--output", f"s3://news/out/fresh-{victim}",
                     *s3.beam_args, cwd=tmp_path)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    got = published(out, s3.beam_args)
    want = published(f"s3://news/out/fresh-{victim}", s3.beam_args)
    assert rows_of(got) == rows_of(want)  # the rerun's tables equal a fresh run's


def test_s3_clients_are_shared_and_reads_from_many_threads_stay_right(s3):
    """Beam builds a boto3 client per s3:// call (0.1-0.3 s each); newsbeam shares one per set of S3
    settings. Reads of many objects from several threads at once must still each get their own bytes."""
    from concurrent.futures import ThreadPoolExecutor

    from apache_beam.io.aws.clients.s3 import boto3_client

    from transforms.io import store

    for i in range(40):
        s3.put("news", f"many/{i:03d}.txt", f"object {i} ".encode() * (50 + i))
    with filesystems_for(s3):
        store.share_s3_clients()
        from apache_beam.options.pipeline_options import PipelineOptions

        same = [boto3_client.Client(PipelineOptions(s3.beam_args)).client for _ in range(2)]
        other = boto3_client.Client(PipelineOptions([*s3.beam_args, "--s3_region_name=eu-west-1"])).client
        assert same[0] is same[1] and other is not same[0]
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: store.read_bytes(f"s3://news/many/{i:03d}.txt"), range(40)))
    assert got == [f"object {i} ".encode() * (50 + i) for i in range(40)]


def test_a_lake_on_s3_matches_copies_against_its_earlier_dates(s3, tmp_path):
    """Two dated runs of the same pages into a lake on S3: day 2 reads day 1's index from the
    store and every page is a copy of a day-1 article."""
    lake = "s3://news/lake"
    runs = []
    for date in ("2025-06-01", "2025-06-02"):
        proc = newsbeam("--input", "s3://news/in/seeds", "--output", lake, "--date", date, *s3.beam_args,
                        cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs.append(json.loads(s3.read("news", "lake/run.json")))
    day1, day2 = runs
    assert day1["articles_written"] > 0 and day2["history_dates"] == ["2025-06-01"]
    assert day2["articles_written"] == 0
    assert day2["duplicates"] == day2["duplicates_of_earlier_dates"] == day1["articles_written"] + day1["duplicates"]
    keys = s3.list_keys("news", "lake/")
    assert any(k.startswith("lake/dedupe_index/dt=2025-06-01/") for k in keys)
    assert any(k.startswith("lake/articles/dt=2025-06-01/") for k in keys)
