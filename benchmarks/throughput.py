#!/usr/bin/env python3
"""Throughput of the whole job on a real corpus, in-process and with local worker processes.

usage: python benchmarks/throughput.py INPUT [INPUT ...] [--workers 2]

INPUT is any newsbeam input (e.g. ../shared/corpora/bbc-news). Prints, per mode, the records in,
articles written, duplicates, rejected, wall seconds of the whole `newsbeam run` process, articles
per second and peak resident memory of the launcher process (worker processes are not included).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import lost, run_newsbeam  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="newsbeam-throughput-")
    modes = {
        "in-process": [],
        f"multi_processing x{args.workers}": ["--direct_running_mode=multi_processing",
                                              f"--direct_num_workers={args.workers}"],
    }
    print(f"input: {' '.join(args.inputs)}; {os.cpu_count()} cores")
    print(f"{'mode':22} {'in':>6} {'written':>7} {'dup':>5} {'rejected':>8} {'lost':>4} {'wall s':>7} "
          f"{'articles/s':>10} {'launcher MiB':>12}")
    for i, (name, flags) in enumerate(modes.items()):
        output = os.path.join(base, f"out-{i}")
        summary, wall, peak = run_newsbeam(args.inputs, output, flags)
        print(f"{name:22} {summary['records_in']:>6} {summary['articles_written']:>7} {summary['duplicates']:>5} "
              f"{summary['rejected']:>8} {lost(summary):>4} {wall:>7.1f} "
              f"{summary['articles_written'] / wall:>10.1f} {peak:>12.0f}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
