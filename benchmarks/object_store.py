#!/usr/bin/env python3
"""Articles per second with the output on a local disk and on an S3 server, on the same input.

usage: python benchmarks/object_store.py INPUT [INPUT ...] [--rounds 3] [--s3-input] [-- NEWSBEAM FLAGS]

The S3 server is moto's standalone server on loopback (what the tests use), so the figure is the
cost of newsbeam's object-store path (Beam's S3 file system, boto3, the commit), not of a network.
Runs alternate local, s3, local, s3, ... and the medians are compared; target: s3 within 1.2x of
local. --s3-input also reads the input from the server.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

from benchmarks.common import lost, run_newsbeam
from benchmarks.servers.object_stores import s3_server


def upload(server, bucket, prefix, paths):
    count = 0
    for given in paths:
        root = given if os.path.isdir(given) else os.path.dirname(given)
        files = [given] if os.path.isfile(given) else [
            os.path.join(d, n) for d, _, names in os.walk(given) for n in names if not n.startswith(".")]
        for path in files:
            with open(path, "rb") as handle:
                server.put(bucket, f"{prefix}/{os.path.relpath(path, root)}", handle.read())
            count += 1
    return count


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--s3-input", action="store_true")
    args = parser.parse_args(argv)
    base = tempfile.mkdtemp(prefix="newsbeam-objstore-")
    rates: dict[str, list[float]] = {"local": [], "s3": []}
    with s3_server() as s3:
        s3.make_bucket("bench")
        inputs = args.inputs
        if args.s3_input:
            print(f"uploaded {upload(s3, 'bench', 'in', args.inputs)} files to s3://bench/in")
            inputs = ["s3://bench/in"]
        print(f"input: {' '.join(args.inputs)}{' (read from s3)' if args.s3_input else ''}; "
              f"{os.cpu_count()} cores; flags: {' '.join(extra) or '(defaults)'}")
        print(f"{'round':>5} {'output':6} {'in':>6} {'written':>7} {'lost':>4} {'wall s':>7} {'articles/s':>10}")
        for r in range(1, args.rounds + 1):
            for kind in ("local", "s3"):
                if kind == "local":
                    output = os.path.join(base, f"out-{r}")
                    summary, wall, _ = run_newsbeam(args.inputs if not args.s3_input else inputs, output,
                                                    [*extra, *(s3.beam_args if args.s3_input else [])],
                                                    env=s3.env)
                else:
                    output = f"s3://bench/out-{r}"
                    summary, wall, _ = run_newsbeam(inputs, output, [*extra, *s3.beam_args], env=s3.env,
                                                    summary=lambda: json.loads(s3.read("bench", f"out-{r}/run.json")))
                rate = summary["articles_written"] / wall
                rates[kind].append(rate)
                print(f"{r:>5} {kind:6} {summary['records_in']:>6} {summary['articles_written']:>7} "
                      f"{lost(summary):>4} {wall:>7.1f} {rate:>10.1f}")
    local, remote = statistics.median(rates["local"]), statistics.median(rates["s3"])
    print(f"median articles/s: local {local:.1f}, s3 {remote:.1f}; local/s3 = {local / remote:.2f}x "
          f"(target: at most 1.20x)")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
