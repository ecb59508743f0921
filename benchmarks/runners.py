#!/usr/bin/env python3
"""Wall time of the same input on each runner that can be started here, and whether outputs match.

usage: python benchmarks/runners.py [--articles N] [--repeat R]

Input: seeds/ plus N generated articles (benchmarks/corpora/generated.py) with duplicates and bad records.
Runners: in-process FnApiRunner; multi_processing with 2 workers; Prism (LOOPBACK); Prism with an
external SDK worker pool and the project staged as a wheel. The Prism rows need
deploy/local/prepare-runners.sh (make runners). Prints the median wall seconds of R runs per runner
(whole `newsbeam run` process: start-up, pipeline and publish) and its ratio to the in-process run.
"""
from __future__ import annotations

import argparse
import filecmp
import glob
import os
import shutil
import statistics
import tempfile

from benchmarks.common import ROOT, run_newsbeam
from benchmarks.corpora.generated import write_generated
from benchmarks.servers.local_runners import PRISM, PYTHON_BOOT, WORKER_PYTHON, build_wheel, prism_with_worker_pool
from transforms.io.lake import without_run_id


def timed_run(inputs: str, output: str, flags: list[str]) -> float:
    return run_newsbeam(inputs, output, flags)[1]


def same_parquet(a: str, b: str) -> bool:
    """The same data files byte for byte (their names differ only by the run id)."""
    def files(root):
        found = glob.glob(os.path.join(root, "*", "**", "*.parquet"), recursive=True)
        return {without_run_id(os.path.relpath(p, root)): p for p in found}

    files_a, files_b = files(a), files(b)
    return sorted(files_a) == sorted(files_b) and all(filecmp.cmp(files_a[f], files_b[f], shallow=False)
                                                      for f in files_a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="newsbeam-runners-")
    inputs = os.path.join(base, "in")
    shutil.copytree(os.path.join(ROOT, "seeds"), os.path.join(inputs, "seeds"))
    planted = write_generated(os.path.join(inputs, "generated"), n=args.articles)
    print(f"input: seeds/ + {planted['records']} generated records; {args.repeat} runs per runner; "
          f"{os.cpu_count()} cores")
    runners = {
        "in-process (FnApiRunner)": lambda: [],
        "multi_processing, 2 workers": lambda: ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
    }
    if os.path.exists(PRISM):
        runners["Prism, LOOPBACK"] = lambda: ["--runner=PrismRunner", f"--prism_location={PRISM}"]
    else:
        print(f"(Prism rows skipped: {PRISM} missing; run 'make runners')")
    results = {}
    for name, flags in runners.items():
        times = [timed_run(inputs, os.path.join(base, f"out-{len(results)}-{i}"), flags()) for i in range(args.repeat)]
        results[name] = (times, os.path.join(base, f"out-{len(results)}-0"))
    if all(os.path.exists(p) for p in (PRISM, PYTHON_BOOT, WORKER_PYTHON)):
        wheel = build_wheel(ROOT, os.path.join(base, "dist"))
        times = []
        with prism_with_worker_pool(os.path.join(base, "services"), wheel) as flags:
            for i in range(args.repeat):
                times.append(timed_run(inputs, os.path.join(base, f"out-ext-{i}"), flags))
        results["Prism, external worker pool + staged wheel"] = (times, os.path.join(base, "out-ext-0"))
    reference_name = next(iter(results))
    reference_median = statistics.median(results[reference_name][0])
    reference_out = results[reference_name][1]
    print(f"\n{'runner':46} {'median s':>9} {'ratio':>6} {'runs':>24}  same files")
    for name, (times, out) in results.items():
        median = statistics.median(times)
        print(f"{name:46} {median:>9.1f} {median / reference_median:>6.2f} "
              f"{' '.join(f'{t:.1f}' for t in times):>24}  {same_parquet(reference_out, out)}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
