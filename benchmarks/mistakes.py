#!/usr/bin/env python3
"""Run newsbeam on realistic feeds and the mistakes operators make (issue 23), and count what went wrong.

usage: python benchmarks/mistakes.py [--keep DIR] [--timeout SECONDS]

Each case runs the `newsbeam` command as a user would, in its own process with a time limit, and
checks three things:

* lost: records that should be in the output and are not (stories merged that differ, dates of a
  lake deleted, a stray input never read, duplicates naming an article that is gone, ...), or a
  run that says its counts reconcile when they do not;
* hung: the command did not end within --timeout (default 120 s);
* wrong_exit: the exit code is not the one docs/reliability.md documents for the case (0 published,
  2 usage error and nothing written, 3 the run failed or could not start).

It prints a line per case and, last, ``cases N, lost L, hung H, wrong_exit W``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Callable, NamedTuple, Optional

from benchmarks.common import NEWSBEAM, write_jsonl
from benchmarks.corpora.hostile import article

RUNNER = "--runner=FnApiRunner"


class Outcome(NamedTuple):
    code: Optional[int]  # None: it hung
    stderr: str
    seconds: float


def newsbeam(*args, timeout: float, env: Optional[dict] = None, runner: bool = True) -> Outcome:
    command = [NEWSBEAM, *map(str, args), *([RUNNER] if runner else [])]
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes)
                       else exc.stderr or "", time.monotonic() - started)
    return Outcome(done.returncode, done.stderr, time.monotonic() - started)


def rows(out: str, table: str, date: Optional[str] = None) -> list[dict]:
    """The rows of ``table`` that make up the output now (the files its Delta log names)."""
    import pyarrow.parquet as pq

    from transforms.io import lake

    entries = lake.current_state(out)["tables"].get(table, [])
    return [row for entry in entries if date is None or entry.get("dt") == date
            for row in pq.read_table(os.path.join(out, entry["path"])).to_pylist()]


def summary(out: str) -> dict:
    with open(os.path.join(out, "run.json"), encoding="utf-8") as handle:
        return json.load(handle)


def unreconciled(out: str) -> int:
    s = summary(out)
    return abs(s["records_in"] - s["articles_written"] - s["duplicates"] - s["rejected"])


def snapshot(folder: str) -> dict:
    found = {}
    for path in glob.glob(os.path.join(folder, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                found[os.path.relpath(path, folder)] = handle.read()
    return found


def story(key: str, **fields) -> dict:
    return {"text": f"Harbour story {key}\n\n" + article(key), **fields}


class Case(NamedTuple):
    name: str
    expected_exit: int
    run: Callable[[str, float], tuple[Outcome, int]]  # (work folder, timeout) -> (outcome, records lost)


# --- data lost while the run says "counts reconcile" -------------------------------------------

def ids_without_publisher(work, timeout):
    write_jsonl(f"{work}/in/export-a.jsonl", [story(f"a{i}", id=i) for i in range(1, 6)])
    write_jsonl(f"{work}/in/export-b.jsonl", [story(f"b{i}", id=i) for i in range(1, 6)])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    return got, (10 - summary(f"{work}/out")["articles_written"]) if got.code == 0 else 0


def ids_without_publisher_next_day(work, timeout):
    write_jsonl(f"{work}/raw/dt=2025-03-03/export.jsonl", [story(f"d1-{i}", id=i) for i in range(1, 6)])
    write_jsonl(f"{work}/raw/dt=2025-03-04/export.jsonl", [story(f"d2-{i}", id=i) for i in range(1, 6)])
    for day in ("2025-03-03", "2025-03-04"):
        got = newsbeam("run", "--input", f"{work}/raw/dt={day}", "--output", f"{work}/lake", "--date", day,
                       timeout=timeout)
        if got.code != 0:
            return got, 0
    return got, 5 - summary(f"{work}/lake")["articles_written"]


def url_fragments(work, timeout):
    write_jsonl(f"{work}/in/feed.jsonl", [story(f"spa{i}", url=f"https://spa.example/#/story/{i}") for i in (1, 2, 3)]
                + [story("spa-bang", url="https://spa.example/#!/story/4")])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    return got, (4 - summary(f"{work}/out")["articles_written"]) if got.code == 0 else 0


def _lake_of_two_days(work, timeout) -> Optional[Outcome]:
    write_jsonl(f"{work}/raw/dt=2025-03-03/feed.jsonl", [story(f"x{i}", source="Harbour News", id=f"x{i}")
                                                         for i in range(3)])
    write_jsonl(f"{work}/raw/dt=2025-03-04/feed.jsonl", [story("x0", source="Mirror", id="m0"),
                                                         story("y1", source="Harbour News", id="y1")])
    for day in ("2025-03-03", "2025-03-04"):
        got = newsbeam("run", "--input", f"{work}/raw/dt={day}", "--output", f"{work}/lake", "--date", day,
                       timeout=timeout)
        if got.code != 0:
            return got
    return None


def undated_run_on_a_lake(work, timeout):
    failed = _lake_of_two_days(work, timeout)
    if failed:
        return failed, 0
    before = len(rows(f"{work}/lake", "articles"))
    got = newsbeam("run", "--input", f"{work}/raw/dt=2025-03-04", "--output", f"{work}/lake", timeout=timeout)
    return got, before - len([r for r in rows(f"{work}/lake", "articles")])


def dated_run_into_an_undated_output(work, timeout):
    write_jsonl(f"{work}/in/feed.jsonl", [story(f"u{i}") for i in range(3)])
    first = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    if first.code != 0:
        return first, 0
    before = snapshot(f"{work}/out")
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", "--date", "2025-03-03",
                   timeout=timeout)
    return got, 0 if snapshot(f"{work}/out") == before else 3


def rerun_of_an_earlier_date(work, timeout):
    failed = _lake_of_two_days(work, timeout)
    if failed:
        return failed, 0
    write_jsonl(f"{work}/raw/dt=2025-03-03/feed.jsonl", [story(f"x{i}", source="Harbour News", id=f"x{i}")
                                                         for i in (1, 2)])  # corrected: x0 withdrawn
    got = newsbeam("run", "--input", f"{work}/raw/dt=2025-03-03", "--output", f"{work}/lake", "--date", "2025-03-03",
                   timeout=timeout)
    names = {r["article_id"] for r in rows(f"{work}/lake", "articles")}
    dangling = sum(1 for r in rows(f"{work}/lake", "duplicates") if r["duplicate_of"] not in names)
    return got, dangling


def stray_path(work, timeout):
    write_jsonl(f"{work}/a.jsonl", [story("a")])
    write_jsonl(f"{work}/b.jsonl", [story("b")])
    got = newsbeam("run", f"--input={work}/a.jsonl", f"{work}/b.jsonl", "--output", f"{work}/out", timeout=timeout)
    return got, 1 if got.code == 0 and summary(f"{work}/out")["records_in"] < 2 else 0


def output_inside_input(work, timeout):
    write_jsonl(f"{work}/in/feed.jsonl", [story(f"i{i}") for i in range(3)])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/in/out", timeout=timeout)
    return got, 0


# --- wrong exit code or no answer ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unreachable_s3(work, timeout):
    port = _free_port()  # nothing listens there
    got = newsbeam("run", "--input", "s3://news/raw/", "--output", f"{work}/out", f"--s3_endpoint_url=http://127.0.0.1:{port}",
                   "--s3_access_key_id=x", "--s3_secret_access_key=y", "--s3_region_name=us-east-1",
                   "--launch-timeout", "20", timeout=timeout)
    return got, 0


def unreachable_gcs(work, timeout):
    port = _free_port()
    got = newsbeam("run", "--input", "gs://news/raw/", "--output", f"{work}/out", "--launch-timeout", "20",
                   timeout=timeout, env={"STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{port}",
                                         "GOOGLE_CLOUD_PROJECT": "newsbeam-test"})
    return got, 0


def _folder_with(work, *specials) -> str:
    folder = f"{work}/in"
    os.makedirs(folder)
    for name in ("good-1.txt", "good-2.txt"):
        with open(f"{folder}/{name}", "w", encoding="utf-8") as handle:
            handle.write(f"Harbour story {name}\n\n" + article(name))
    for kind, name in specials:
        path = f"{folder}/{name}"
        if kind == "dangling":
            os.symlink(f"{folder}/nowhere.txt", path)
        elif kind == "loop":
            os.symlink(path, path)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "zero":
            os.symlink("/dev/zero", path)
    return folder


def _two_good_articles(work, got) -> int:
    if got.code != 0:
        return 0
    return 2 - summary(f"{work}/out")["articles_written"] + unreconciled(f"{work}/out")


def dangling_symlink_first(work, timeout):
    folder = _folder_with(work, ("dangling", "000-dangling.txt"))
    got = newsbeam("run", "--input", folder, "--output", f"{work}/out", timeout=timeout)
    return got, _two_good_articles(work, got)


def dangling_symlink_and_loop_later(work, timeout):
    folder = _folder_with(work, ("dangling", "zzz-dangling.txt"), ("loop", "zzz-loop.txt"))
    got = newsbeam("run", "--input", folder, "--output", f"{work}/out", timeout=timeout)
    return got, _two_good_articles(work, got)


def fifo_and_dev_zero(work, timeout):
    folder = _folder_with(work, ("fifo", "pipe.jsonl"), ("zero", "zero.txt"))
    got = newsbeam("run", "--input", folder, "--output", f"{work}/out", timeout=timeout)
    return got, _two_good_articles(work, got)


def _damage_lake(work, timeout, pattern: str, keep: Optional[Callable[[int], int]]) -> tuple[Outcome, int]:
    """Day 1 of a lake, then the file matching ``pattern`` in it cut to ``keep(size)`` bytes (deleted
    when ``keep`` is None), then day 2: the run must fail naming that file."""
    write_jsonl(f"{work}/raw/dt=2025-03-03/feed.jsonl", [story(f"x{i}") for i in range(3)])
    write_jsonl(f"{work}/raw/dt=2025-03-04/feed.jsonl", [story(f"y{i}") for i in range(3)])
    first = newsbeam("run", "--input", f"{work}/raw/dt=2025-03-03", "--output", f"{work}/lake", "--date", "2025-03-03",
                     timeout=timeout)
    if first.code != 0:
        return first, 0
    (damaged,) = glob.glob(f"{work}/lake/{pattern}")
    if keep is None:
        os.remove(damaged)
    else:
        with open(damaged, "r+b") as handle:
            handle.truncate(keep(os.path.getsize(damaged)))
    got = newsbeam("run", "--input", f"{work}/raw/dt=2025-03-04", "--output", f"{work}/lake", "--date", "2025-03-04",
                   timeout=timeout)
    if got.code is not None and damaged not in got.stderr:
        got = got._replace(code=-1)  # the message must name the damaged file
    return got, 0


def deleted_index_file(work, timeout):
    return _damage_lake(work, timeout, "dedupe_index/dt=2025-03-03/*.parquet", None)


def truncated_index_file(work, timeout):
    return _damage_lake(work, timeout, "dedupe_index/dt=2025-03-03/*.parquet", lambda size: size // 2)


def truncated_commit_file(work, timeout):
    return _damage_lake(work, timeout, "articles/_delta_log/00000000000000000001.json", lambda size: 40)


def float_ids_from_pandas(work, timeout):
    import pandas as pd

    os.makedirs(f"{work}/in")
    frame = pd.DataFrame({"id": pd.array([1, 2, None], dtype="Int64").astype("float64"),
                          "text": [story(f"p{i}")["text"] for i in range(3)], "source": "Harbour News"})
    frame.to_parquet(f"{work}/in/export.parquet")
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    return got, (3 - summary(f"{work}/out")["articles_written"]) if got.code == 0 else 3


def every_record_rejected(work, timeout):
    write_jsonl(f"{work}/in/feed.jsonl", [{"text": n} for n in range(5)])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    return got, 0


def _damaged_output(work, timeout, command) -> tuple[Outcome, int]:
    write_jsonl(f"{work}/in/feed.jsonl", [story(f"r{i}") for i in range(3)])
    first = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    if first.code != 0:
        return first, 0
    article_id = rows(f"{work}/out", "articles")[0]["article_id"]
    (path,) = glob.glob(f"{work}/out/articles/**/*.parquet", recursive=True)[:1]
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)
    args = [f"{work}/out"] + ([article_id] if command == "show" else ["--html", f"{work}/report.html"])
    got = newsbeam(command, *args, timeout=timeout, runner=False)
    if "Traceback" in got.stderr or path not in got.stderr:
        got = got._replace(code=-1)
    return got, 0


def report_on_a_damaged_file(work, timeout):
    return _damaged_output(work, timeout, "report")


def show_on_a_damaged_file(work, timeout):
    return _damaged_output(work, timeout, "show")


def zero_width_copy(work, timeout):
    original = story("zw")
    copy = {"text": original["text"].replace(" ", "\u200b ")}
    write_jsonl(f"{work}/in/feed.jsonl", [original, copy])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", timeout=timeout)
    if got.code != 0:
        return got, 0
    s = summary(f"{work}/out")
    wrong = (s["articles_written"] != 1) + (s["duplicates"] != 1) + (s["articles_by_language"] != {"en": 1})
    return got, wrong


def multi_threading(work, timeout):
    write_jsonl(f"{work}/in/feed.jsonl", [story("mt")])
    got = newsbeam("run", "--input", f"{work}/in", "--output", f"{work}/out", "--direct_running_mode=multi_threading",
                   timeout=timeout)
    return got, 0


CASES = [
    Case("1 ids without a publisher", 0, ids_without_publisher),
    Case("1 ids without a publisher, day 2", 0, ids_without_publisher_next_day),
    Case("2 URL fragments that route", 0, url_fragments),
    Case("3 undated run on a lake", 2, undated_run_on_a_lake),
    Case("3 dated run into undated output", 2, dated_run_into_an_undated_output),
    Case("4 rerun of an earlier date", 2, rerun_of_an_earlier_date),
    Case("5 stray path", 2, stray_path),
    Case("6 output inside the input", 2, output_inside_input),
    Case("7 unreachable S3 endpoint", 3, unreachable_s3),
    Case("7 unreachable GCS endpoint", 3, unreachable_gcs),
    Case("7/8 dangling symlink sorting first", 0, dangling_symlink_first),
    Case("8 dangling symlink and loop later", 0, dangling_symlink_and_loop_later),
    Case("9 FIFO and link to /dev/zero", 0, fifo_and_dev_zero),
    Case("10 deleted dedupe index file", 3, deleted_index_file),
    Case("10 truncated dedupe index file", 3, truncated_index_file),
    Case("10 truncated table commit", 3, truncated_commit_file),
    Case("11 float64 ids from pandas", 0, float_ids_from_pandas),
    Case("11 every record rejected", 3, every_record_rejected),
    Case("12 report on a damaged file", 3, report_on_a_damaged_file),
    Case("12 show on a damaged file", 3, show_on_a_damaged_file),
    Case("13 zero-width copy", 0, zero_width_copy),
    Case("14 multi_threading", 2, multi_threading),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="work in this folder and keep it")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a command counts as hung")
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args()
    base = args.keep or tempfile.mkdtemp(prefix="newsbeam-mistakes-")
    lost = hung = wrong = count = 0
    print(f"{'case':40} {'exit':>4} {'want':>4} {'lost':>4} {'s':>6}")
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        work = os.path.join(base, case.name.replace(" ", "_").replace("/", "-"))
        os.makedirs(work, exist_ok=True)
        outcome, missing = case.run(work, args.timeout)
        count += 1
        lost += missing
        hung += outcome.code is None
        wrong += outcome.code is not None and outcome.code != case.expected_exit
        shown = "hung" if outcome.code is None else outcome.code
        print(f"{case.name:40} {shown:>4} {case.expected_exit:>4} {missing:>4} {outcome.seconds:>6.1f}", flush=True)
        if outcome.code != case.expected_exit:
            print("   " + "\n   ".join(outcome.stderr.strip().splitlines()[-3:]))
    print(f"cases {count}, lost {lost}, hung {hung}, wrong_exit {wrong}")
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    return 0 if lost == hung == wrong == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
