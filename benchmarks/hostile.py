#!/usr/bin/env python3
"""Run newsbeam on each hostile input case alone, then on all of them, and print what became of them.

usage: python benchmarks/hostile.py [--keep DIR]

Prints, per case: outcome counts, wall seconds and the peak resident memory of the newsbeam process
(from wait4's rusage), then the totals for one run over the whole corpus: records in, written,
duplicates, rejected, and records lost (records in minus the three, which must be 0).
Default limits are used (4 GiB decompressed per .gz, 8 MiB per record, 1,000,000 characters of text).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile

from benchmarks.common import lost, run_newsbeam as run
from benchmarks.corpora.hostile import write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="write the corpus and outputs here and keep them")
    args = parser.parse_args()
    base = args.keep or tempfile.mkdtemp(prefix="newsbeam-hostile-")
    corpus = os.path.join(base, "corpus")
    write_corpus(corpus)
    names = sorted(os.listdir(corpus))
    print(f"{len(names)} hostile input files in {corpus}\n")
    print(f"{'case':32} {'in':>6} {'written':>7} {'dup':>4} {'rejected':>8} {'lost':>4} {'wall s':>7} {'peak MiB':>8}")
    worst = (0.0, "")
    for name in names:
        single = os.path.join(base, "one", name)
        os.makedirs(single, exist_ok=True)
        shutil.copy(os.path.join(corpus, name), single)
        # A case alone is often all rejections, by design: publish it anyway to show them.
        summary, wall, peak = run(single, os.path.join(base, "out-" + name), ["--max-rejected-share", "1"])
        worst = max(worst, (peak, name))
        print(f"{name:32} {summary['records_in']:>6} {summary['articles_written']:>7} {summary['duplicates']:>4} "
              f"{summary['rejected']:>8} {lost(summary):>4} {wall:>7.1f} {peak:>8.0f}")
    summary, wall, peak = run(corpus, os.path.join(base, "out-all"))
    print(f"\nall at once: {summary['records_in']} records in, {summary['articles_written']} written, "
          f"{summary['duplicates']} duplicates, {summary['rejected']} rejected, {lost(summary)} lost; "
          f"reconciled={summary['reconciled']}; {wall:.1f} s; peak {peak:.0f} MiB")
    print(f"worst single case by memory: {worst[1]} at {worst[0]:.0f} MiB peak RSS")
    print("rejected by reason:", json.dumps(summary["rejected_by_reason"], sort_keys=True))
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
