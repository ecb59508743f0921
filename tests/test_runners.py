"""Same input, same output on every runner we can start here.

The input is seeds/ plus a few hundred generated articles with duplicates and bad records. Runners:

* the in-process FnApiRunner (the default),
* the same with ``--direct_running_mode=multi_processing --direct_num_workers=2``,
* Prism, Beam's portable Go runner, in LOOPBACK mode, in batch and in streaming mode (``--streaming``),
* Prism with SDK workers in a separate worker pool that receives the project as a built wheel
  (``--extra_package``), the way code reaches workers on a cluster.

The Prism runs need what ``deploy/local/prepare-runners.sh`` builds (``make runners``). Where it is
missing they are skipped, unless ``NEWSBEAM_REQUIRE_RUNNERS=1`` (as in CI), where that fails.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.generated import write_generated
from benchmarks.servers.local_runners import (PRISM, PYTHON_BOOT, WORKER_PYTHON, build_wheel,
                                              prism_with_worker_pool)
from support import NEWSBEAM, PROJECT_ROOT, SEEDS
from transforms.io.lake import without_run_id

# Each runner runs `newsbeam run` in a process of its own; Prism and a worker pool are servers.
pytestmark = pytest.mark.slow

REQUIRE = os.environ.get("NEWSBEAM_REQUIRE_RUNNERS") == "1"
TABLES = ("articles", "entities", "duplicates", "rejected")


def need(path: str) -> str:
    if not os.path.exists(path):
        message = f"{path} is missing: run 'make runners' (deploy/local/prepare-runners.sh)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runners-in")
    shutil.copytree(SEEDS, folder / "seeds")
    planted = write_generated(str(folder / "generated"), n=300)
    return folder, planted


def run(corpus_dir, output, *beam_flags):
    proc = subprocess.run([NEWSBEAM, "run", "--input", str(corpus_dir), "--output", str(output), *beam_flags],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return output


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    return run(corpus[0], tmp_path_factory.mktemp("ref") / "out")


def tables(output):
    """Every Parquet file of the four tables: relative path -> pyarrow Table."""
    found = {}
    for table in TABLES:
        for path in sorted(glob.glob(os.path.join(output, table, "**", "*.parquet"), recursive=True)):
            found[without_run_id(os.path.relpath(path, output))] = path
    return found


def assert_same_output(reference, other):
    """Same files, same rows, and the same bytes."""
    want, got = tables(reference), tables(other)
    assert sorted(got) == sorted(want)
    for name, path in want.items():
        assert pq.read_table(got[name]).equals(pq.read_table(path)), f"{name} holds other rows"
        assert open(got[name], "rb").read() == open(path, "rb").read(), f"{name} differs in bytes"


def test_reference_run_holds_what_was_planted(corpus, reference):
    _, planted = corpus
    dups = pq.read_table(reference / "duplicates").to_pylist()
    given = {a["article_id"]: a["given_id"] or "" for a in pq.read_table(reference / "articles").to_pylist()}
    assert sum(1 for d in dups if (d["given_id"] or "").startswith("copy-")
               or given.get(d["duplicate_of"], "").startswith("copy-")) == planted["exact_duplicates"]
    # The same URL with only the headline edited: after cleaning, the same body.
    assert sum(1 for d in dups if d["reason"] == "same_content" and (d["given_id"] or "").startswith("edit-")) \
        == planted["url_duplicates"]
    # Every other generated article is a story of its own: nothing else was merged.
    generated_dups = [d for d in dups if os.sep + "generated" + os.sep in d["source_file"]]
    assert len(generated_dups) == planted["exact_duplicates"] + planted["url_duplicates"]
    rejected = pq.read_table(reference / "rejected").to_pylist()
    generated = [r for r in rejected if os.path.join("generated", "feed.jsonl") in r["source_file"]]
    assert len(generated) == planted["bad_records"]
    assert {r["reason"] for r in generated} == {"malformed_json", "missing_text"}
    langs = set(pq.read_table(reference / "articles").column("language").to_pylist())
    assert {"en", "fr", "de"} <= langs


def test_multi_processing_two_workers(corpus, reference, tmp_path):
    out = run(corpus[0], tmp_path / "out", "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    assert_same_output(reference, out)


def test_prism_loopback(corpus, reference, tmp_path):
    prism = need(PRISM)
    out = run(corpus[0], tmp_path / "out", "--runner=PrismRunner", f"--prism_location={prism}")
    assert_same_output(reference, out)


def test_prism_streaming_mode(corpus, reference, tmp_path):
    """Beam's streaming mode (--streaming) on the same bounded input gives the same files."""
    prism = need(PRISM)
    out = run(corpus[0], tmp_path / "out", "--runner=PrismRunner", f"--prism_location={prism}", "--streaming")
    assert_same_output(reference, out)


def test_prism_with_external_worker_pool_and_staged_wheel(corpus, reference, tmp_path):
    for path in (PRISM, PYTHON_BOOT, WORKER_PYTHON):
        need(path)
    wheel = build_wheel(PROJECT_ROOT, str(tmp_path / "dist"))
    with prism_with_worker_pool(str(tmp_path / "services"), wheel) as flags:
        out = run(corpus[0], tmp_path / "out", *flags)
    assert_same_output(reference, out)
