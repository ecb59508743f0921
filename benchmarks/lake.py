#!/usr/bin/env python3
"""The daily lake: copies caught across dates, the look-back's cost, a year of dates' cost to commit and to read.

usage: python benchmarks/lake.py quality ../shared/corpora/bbc-news
       python benchmarks/lake.py cost [--days 30] [--per-day 2000] [--repeats 3] [--lake DIR]
       python benchmarks/lake.py log [--days 365] [--per-day 5] [--build publish|runs] [--repeats 5]
                                     [--run-repeats 3] [--lake DIR]

``quality``: day 1 is 1,100 articles of the corpus, each in one site's page chrome; day 2 holds
exact copies of 300 day-1 pages, edited copies of 400 day-1 stories on other sites (a new
headline, a paragraph cut or added, typos, other quotes, a correction line: ``syndicated.edit``)
and 1,125 stories of the corpus not in day 1. Printed: the share of exact and of edited copies
that day 2 marks as duplicates of the right day-1 article, the day-2 stories wrongly marked as
copies of day 1 (stories the corpus itself re-published count as copies), whether day 1's files
stayed byte for byte, and whether a rerun of day 2 gives the same rows (the rows the tables' Delta
logs name now: a rerun's replaced files stay on disk until vacuum).

``cost``: a lake of ``--days`` dates of ``--per-day`` generated articles (built once by real
dated runs, kept in ``--lake``), then the next date run with ``--dedupe-days 0`` (no lookup) and
with ``--dedupe-days D``, alternating, ``--repeats`` times each: median wall seconds, the change
against no lookup, and peak RSS. Two next dates: one with 30% copies (15% exact, 15% edited) of
articles from any earlier date, for D = 1, 10 and ``--days`` (peak RSS per look-back); one of new
stories only, for D = ``--days`` (the lookup's own cost: every index file read, nothing found). NER is off in both parts
(``--ner-model en=``): it does not touch dedupe and would hide the lookup's cost in its own.

``log``: whether a year of dates slows the Delta tables down. Target (the issue): on a lake of 365
dated runs, committing date 366 and counting one date with DuckDB each take within 2x of the same
on date 1, since Delta's checkpoints (newsbeam's tables have one every 10 commits) keep the log a
reader replays short. Each day is ``--per-day`` generated English articles, an exact copy of one of them
(a row of duplicates/) and a record without text (a row of rejected/); NER is off, so entities/
stays without files. Lake B holds ``--days`` dates, built one of two ways (the output says which):

- ``--build publish`` (default, a few minutes): one real dated ``newsbeam run`` over every day's
  input at once gives each day's rows (split by input file); each date is then committed with
  ``transforms.io.lake.publish`` on Parquet parts written by ``transforms.io.rows.write_part``, one
  run id per date: exactly what a run's last two steps do, without the ~7 s of Beam per date.
- ``--build runs``: one real in-process ``newsbeam run`` (FnApiRunner) per date (3 to 7 s each here: 20 to 45 min).

B is built in minutes but stands for a year: the log files of date n's commit get the modification
time of n days before the measured date, so Delta's own clean-up of expired log files (commits
older than 30 days, removed at each checkpoint) leaves B's logs as a year of daily runs leaves a
lake's; without that, B's logs would hold every commit of the year, which no daily lake has.
Lake A starts empty. Measured on A at date 1 and on B at date ``--days``+1 ("date 366"):
(a) the commit step alone: ``lake.publish`` of one day's parts (the same rows on both lakes; the
parts are written beforehand, untimed; ``expected_runs`` is read as a run reads it): the target's
row is a new date as a day's run commits it (date 1 into a new lake, whose commit creates the
tables; dates 366, 367, ... into a copy of B), median of ``--repeats``; printed beside it, a rerun's
commit (the same date committed again under new run ids, after one first commit each), with the
number of Delta log loads a commit makes and the time of one load of ``articles``;
(b) a whole ``newsbeam run`` of the date, one process each (the date 366 run also looks back over
30 earlier dates, --dedupe-days' default; date 1 has none), median of ``--run-repeats``;
(c) ``SELECT count(*) FROM delta_scan('<lake>/articles') WHERE dt = DATE '...'`` on a fresh
``lake.duckdb_with_delta()`` connection each time (the connection and extension load timed
apart), median of ``--repeats``. Printed: each figure, the ratio date 366 / date 1 and whether it
is within 2x; also B's commit time as it grew (the build's commits); each table's ``_delta_log``
(commit files, checkpoints, ``_last_checkpoint``); then ``newsbeam optimize B``: the data files
the tables' current versions name before and after, its wall time, whether every table's rows
per date are the same (DuckDB) before and after, and the Parquet files on disk before and after
``newsbeam vacuum B --retain-hours 0``; and, since lake B has one file per partition (nothing for
optimize to merge), lake C: 30 dates written one row per file, with its files before and after
``newsbeam optimize``. Nothing is cached between invocations unless ``--lake DIR``
is given: B is then built there (or reused, when it holds exactly the dates asked for) and measured
on a copy. Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import hashlib
import json
import os
import random
import shutil
import statistics
import tempfile

import pyarrow.parquet as pq

from benchmarks import syndicated
from benchmarks.common import run_newsbeam, write_jsonl
from benchmarks.corpora.textgen import story
from transforms.io import lake as newsbeam_lake

NO_NER = ["--ner-model", "en=", "--ner-model", "fr=", "--runner=FnApiRunner"]
START = datetime.date(2025, 1, 1)


def day(n: int) -> str:
    return (START + datetime.timedelta(days=n - 1)).isoformat()


def rows(lake: str, table: str, date: str) -> list[dict]:
    """The rows of ``date`` in ``table`` as its Delta log names them now (a rerun's replaced files
    stay on disk until vacuum, outside the table)."""
    paths = sorted(os.path.join(lake, e["path"]) for e in newsbeam_lake.current_state(lake)["tables"].get(table, [])
                   if e.get("dt") == date)
    found = [row for path in paths for row in pq.read_table(path).to_pylist()]
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def dated_bytes(lake: str, date: str) -> dict[str, bytes]:
    out = {}
    for path in glob.glob(os.path.join(lake, "*", f"dt={date}", "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                out[os.path.relpath(path, lake)] = handle.read()
    return out


# --------------------------------------------------------------------------------------
# quality

def quality(corpus: str) -> None:
    from benchmarks.dedupe import corpus_copies  # the same rule the dedupe benchmark uses
    from transforms.dedupe.components import components_of

    rnd = random.Random(31)
    articles = syndicated.read_articles(corpus)
    rnd.shuffle(articles)
    teasers = [head for _, head, _ in articles]
    extra = [body[0] for _, _, body in articles[:200]]
    first, rest = articles[:1100], articles[1100:2225]
    story_of = components_of(corpus_copies(articles))
    day1 = [syndicated.page_record(rnd, rnd.randrange(len(syndicated.SITES)), f"a{i}", title, body, teasers)
            for i, (_, title, body) in enumerate(first)]
    exact = rnd.sample(range(len(first)), 300)
    edited = rnd.sample([i for i in range(len(first)) if i not in set(exact)], 400)
    day2 = [dict(day1[i]) for i in exact]
    for i in edited:
        _, title, body = first[i]
        t, paragraphs, _ = syndicated.edit(rnd, title, body, extra)
        site = (int(day1[i]["source"][4]) + 1 + rnd.randrange(len(syndicated.SITES) - 1)) % len(syndicated.SITES)
        day2.append(syndicated.page_record(rnd, site, f"e{i}", t, paragraphs, teasers))
    day2 += [syndicated.page_record(rnd, rnd.randrange(len(syndicated.SITES)), f"n{i}", title, body, teasers)
             for i, (_, title, body) in enumerate(rest)]
    work = tempfile.mkdtemp(prefix="newsbeam-lake-quality-")
    lake = os.path.join(work, "lake")
    d1 = write_jsonl(os.path.join(work, "d1", "pages.jsonl"), day1)
    d2 = write_jsonl(os.path.join(work, "d2", "pages.jsonl"), day2)
    s1, w1, _ = run_newsbeam(d1, lake, ["--date", day(1)] + NO_NER)
    before = dated_bytes(lake, day(1))
    s2, w2, _ = run_newsbeam(d2, lake, ["--date", day(2)] + NO_NER)
    kept1 = {r["given_id"]: r["article_id"] for r in rows(lake, "articles", day(1))}
    dup1 = {r["given_id"]: r["duplicate_of"] for r in rows(lake, "duplicates", day(1))}
    target = {key: kept1.get(key) or dup1.get(key) for key in (f"a{i}" for i in range(len(first)))}
    dups2 = {r["given_id"]: r for r in rows(lake, "duplicates", day(2))}

    def caught(key, i):
        row = dups2.get(key)
        return row is not None and row["duplicate_of_dt"] == day(1) and row["duplicate_of"] == target[f"a{i}"]

    exact_hits = sum(caught(f"a{i}", i) for i in exact)  # an exact copy keeps its page's id
    edited_hits = sum(caught(f"e{i}", i) for i in edited)
    day1_stories = {story_of.get(name, name) for name, _, _ in first}
    fresh = [(f"n{i}", name) for i, (name, _, _) in enumerate(rest)]
    fresh_true_copies = sum(story_of.get(name, name) in day1_stories for _, name in fresh)
    false_hits = sum(1 for key, name in fresh
                     if key in dups2 and dups2[key]["duplicate_of_dt"] == day(1)
                     and story_of.get(name, name) not in day1_stories)
    day1_same = dated_bytes(lake, day(1)) == before
    again = {t: rows(lake, t, day(2)) for t in ("articles", "duplicates", "dedupe_index")}
    s3, _, _ = run_newsbeam(d2, lake, ["--date", day(2)] + NO_NER)
    rerun_same = {t: rows(lake, t, day(2)) for t in again} == again
    print(f"day 1: {s1['records_in']} pages -> {s1['articles_written']} articles ({w1:.1f} s); "
          f"day 2: {s2['records_in']} pages -> {s2['articles_written']} articles, {s2['duplicates']} duplicates, "
          f"{s2['duplicates_of_earlier_dates']} of them of day 1 ({w2:.1f} s); counts reconcile: "
          f"{s1['reconciled'] and s2['reconciled'] and s3['reconciled']}")
    print(f"exact copies of day-1 pages marked as copies of the right article: {exact_hits}/{len(exact)} "
          f"({exact_hits / len(exact):.3f})")
    print(f"edited copies of day-1 stories marked as copies of the right article: {edited_hits}/{len(edited)} "
          f"({edited_hits / len(edited):.3f})")
    print(f"new day-2 stories wrongly marked as copies of day 1: {false_hits}/{len(fresh) - fresh_true_copies} "
          f"({fresh_true_copies} other day-2 stories are stories the corpus itself re-published from day 1)")
    print(f"day 1's files byte for byte as before: {day1_same}; rerun of day 2 gives the same rows: {rerun_same}")
    shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------
# cost

def paragraph_count(key: str) -> int:
    return 4 + hashlib.sha1(key.encode()).digest()[0] % 5


def generated_page(rnd: random.Random, key: str, paragraphs: list[str] | None = None, title: str | None = None) -> dict:
    site = rnd.randrange(len(syndicated.SITES) - 2)  # the English-language sites
    paragraphs = paragraphs or story(key, paragraphs=paragraph_count(key))
    title = title or f"Report {hashlib.sha1(key.encode()).hexdigest()[:6]} on the harbour plans"
    return syndicated.page_record(rnd, site, key, title, paragraphs, [f"Other story {n}" for n in range(40)])


def build_lake(lake: str, days: int, per_day: int) -> None:
    """The history: one dated run per day; each day's input stays beside the lake (``.inputs``)."""
    if os.path.isdir(lake) and newsbeam_lake.is_newsbeam_output(lake):
        have = newsbeam_lake.current_state(lake)["dates"]
        if have[:days] == [day(n) for n in range(1, days + 1)]:  # (plus the next date of an earlier measurement)
            print(f"reusing the lake in {lake} ({days} dates)")
            return
        shutil.rmtree(lake)
    for n in range(1, days + 1):
        rnd = random.Random(n)
        path = write_jsonl(os.path.join(lake + ".inputs", f"d{n}.jsonl"),
                           [generated_page(rnd, f"d{n}-s{i}") for i in range(per_day)])
        summary, wall, _ = run_newsbeam(path, lake, ["--date", day(n)] + NO_NER)
        print(f"built {day(n)}: {summary['articles_written']} articles, {summary['duplicates']} duplicates "
              f"({wall:.1f} s)", flush=True)


def next_day(lake: str, days: int, per_day: int, work: str, copy_share: float) -> tuple[str, int, int]:
    """New stories, and ``copy_share`` of copies of articles of earlier dates: half exact copies of
    their pages, half edited copies of their stories."""
    rnd = random.Random(1000)
    earlier: dict[int, list[dict]] = {}
    records, exact, edited = [], 0, 0
    for i in range(per_day):
        roll = rnd.random()
        if roll >= copy_share:
            records.append(generated_page(rnd, f"next-s{i}"))
            continue
        n = rnd.randint(1, days)
        if n not in earlier:
            with open(os.path.join(lake + ".inputs", f"d{n}.jsonl"), encoding="utf-8") as handle:
                earlier[n] = [json.loads(line) for line in handle]
        original = rnd.choice(earlier[n])
        if roll < copy_share / 2:
            records.append(dict(original))
            exact += 1
        else:
            key = original["id"]
            title, paragraphs, _ = syndicated.edit(rnd, "Harbour plans report", story(key, paragraphs=paragraph_count(key)),
                                                   ["Additional reporting by our correspondents in the region, who "
                                                    "spoke to officials and residents on condition of anonymity."])
            records.append(generated_page(rnd, f"next-e{i}", paragraphs, title))
            edited += 1
    return write_jsonl(os.path.join(work, "next", "pages.jsonl"), records), exact, edited


def cost(days: int, per_day: int, repeats: int, lake: str | None) -> None:
    work = tempfile.mkdtemp(prefix="newsbeam-lake-cost-")
    lake = lake or os.path.join(work, "lake")
    build_lake(lake, days, per_day)
    date = day(days + 1)
    # A day with copies (what a lake sees; copies found skip language and NER, so the run may get
    # faster), and a day of new stories only (the lookup's cost alone: everything read, nothing found).
    for name, share, looks in (("with 30% copies", 0.3, sorted({1, min(10, days), days})), ("all new", 0.0, [days])):
        path, exact, edited = next_day(lake, days, per_day, os.path.join(work, name.replace(" ", "-")), share)
        walls: dict[int, list[float]] = {d: [] for d in [0] + looks}
        peaks: dict[int, list[float]] = {d: [] for d in walls}
        caught = {}
        for r in range(repeats):
            for look in [0] + looks if r % 2 == 0 else ([0] + looks)[::-1]:
                summary, wall, peak = run_newsbeam(path, lake, ["--date", date, "--dedupe-days", str(look)] + NO_NER)
                walls[look].append(wall)
                peaks[look].append(peak)
                caught[look] = summary["duplicates_of_earlier_dates"]
                print(f"  {name}, repeat {r + 1}, --dedupe-days {look}: {wall:.1f} s, peak {peak:.0f} MiB, "
                      f"{summary['duplicates_of_earlier_dates']} copies of earlier dates", flush=True)
        base = statistics.median(walls[0])
        print(f"next date {name}: {per_day} pages ({exact} exact and {edited} edited copies of articles of earlier "
              f"dates); history {days} dates x {per_day} articles; medians of {repeats} runs, one process each:")
        for look in [0] + looks:
            med = statistics.median(walls[look])
            print(f"  --dedupe-days {look:>3}: {med:6.1f} s ({(med - base) / base:+.1%} against no lookup), "
                  f"peak RSS median {statistics.median(peaks[look]):.0f} MiB, "
                  f"{caught[look]} copies of earlier dates found")
    shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------
# log

LOG_TABLES = ("articles", "entities", "duplicates", "rejected", "dedupe_index")  # what a dated run without
# --keep-removed-lines commits


def log_day(n: int, per_day: int) -> list[dict]:
    """Day ``n``'s input: ``per_day`` new stories, an exact copy of the first under another id (a
    row of duplicates/) and a record without text (a row of rejected/)."""
    rnd = random.Random(n)
    pages = [generated_page(rnd, f"d{n}-s{i}") for i in range(per_day)]
    copy = {**pages[0], "id": f"d{n}-copy", "url": pages[0]["url"].rsplit("/", 1)[0] + f"/d{n}-copy"}
    empty = {"id": f"d{n}-empty", "url": f"https://site0.example/d{n}-empty", "source": "site0.example", "text": ""}
    return pages + [copy, empty]


def run_in_process(inputs: str, out: str, date: str) -> int:
    """One dated ``newsbeam run`` in this process (its printed summary swallowed); its exit code."""
    import contextlib
    import io

    from pipelines import articles

    with contextlib.redirect_stdout(io.StringIO()):
        code = articles.main(["--input", inputs, "--output", out, "--date", date] + NO_NER)
    if code not in (0, 1):
        raise SystemExit(f"newsbeam run of {inputs} for {date} failed: exit {code}")
    return code


def rows_by_day(out: str) -> dict[int, dict[str, list[dict]]]:
    """{day n: {table: rows}} of a lake that one run filled from the inputs d<n>.jsonl; each row
    with its partition values (``language``) back in."""
    found: dict[int, dict[str, list[dict]]] = {}
    for name, entries in newsbeam_lake.current_state(out)["tables"].items():
        for entry in entries:
            for row in pq.read_table(os.path.join(out, entry["path"])).to_pylist():
                if "language" in entry:
                    row["language"] = entry["language"]
                n = int(os.path.basename(row["source_file"]).split(".")[0][1:])
                found.setdefault(n, {}).setdefault(name, []).append(row)
    return found


def write_day(out: str, run_id: str, date: str, day_rows: dict[str, list[dict]],
              per_file: int | None = None) -> dict[str, dict]:
    """A run's parts of ``date`` for ``day_rows``, written as its workers write them (partitions,
    shards, ``write_part``; ``per_file`` rows a file, --rows-per-file, default newsbeam's); returns
    the ``tables`` argument of ``lake.publish``."""
    import math

    from transforms.config import WriteConfig
    from transforms.io.rows import TABLES, partition_dir, shard_of, write_part
    from transforms.io.write import partition_columns

    when = datetime.date.fromisoformat(date)
    per_file = per_file or WriteConfig().rows_per_file
    tables = {}
    for name in LOG_TABLES:
        table = TABLES[name]
        groups: dict[str, list[dict]] = {}
        for row in day_rows.get(name, []):
            groups.setdefault(partition_dir(table, row, when), []).append(row)
        entries = []
        for partition, group in sorted(groups.items()):
            shards = max(1, math.ceil(len(group) / per_file))
            by_shard: dict[int, list[dict]] = {}
            for row in group:
                by_shard.setdefault(shard_of(table.sort_key(row), shards), []).append(row)
            entries += [write_part(out, run_id, table, partition, shard, shards, part, when)
                        for shard, part in sorted(by_shard.items())]
        tables[name] = {"entries": entries, "schema": table.schema, "partition_by": partition_columns(table, when)}
    return tables


def publish_day(out: str, date: str, day_rows: dict[str, list[dict]], per_file: int | None = None) -> float:
    """Write a run's parts of ``date`` (untimed), then commit them with ``lake.publish`` as the
    run's last step does: its wall seconds."""
    import time
    import uuid

    from transforms.io.summary import summarise

    run_id = uuid.uuid4().hex[:12]
    tables = write_day(out, run_id, date, day_rows, per_file)
    manifest = [e for spec in tables.values() for e in spec["entries"]]
    counts = {"articles": len(day_rows.get("articles", [])), "duplicates": len(day_rows.get("duplicates", [])),
              "rejected": len(day_rows.get("rejected", []))}
    counts["records_in"] = sum(counts.values())
    for row in day_rows.get("articles", []):
        counts[f"language.{row['language']}"] = counts.get(f"language.{row['language']}", 0) + 1
    now = time.time()
    run = {"run_id": run_id, "date": date, "started_at": datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
           .isoformat(), "started_at_epoch": now, "built_by": "benchmarks/lake.py log (lake.publish)"}
    summary = summarise(counts, manifest, run)
    expected = newsbeam_lake.runs_of_date(out, date)  # read when a run starts, not in its commit step
    start = time.perf_counter()
    newsbeam_lake.publish(out, run_id, tables, summary, date, expected)
    return time.perf_counter() - start


def count_date(out: str, date: str) -> tuple[int, float, float]:
    """(articles of ``date``, seconds to open a DuckDB connection with ``delta`` loaded, seconds of
    the count) on a fresh connection."""
    import time

    start = time.perf_counter()
    con = newsbeam_lake.duckdb_with_delta()
    opened = time.perf_counter()
    (count,) = con.execute(f"SELECT count(*) FROM delta_scan('{os.path.join(out, 'articles')}') "
                           f"WHERE dt = DATE '{date}'").fetchone()
    done = time.perf_counter()
    con.close()
    return count, opened - start, done - opened


def rows_per_date(out: str) -> dict[str, dict[str, int]]:
    """{table: {date: rows}} through DuckDB's ``delta_scan`` (a table without files: {})."""
    con = newsbeam_lake.duckdb_with_delta()
    found = {}
    for name in newsbeam_lake.current_state(out)["tables"]:
        try:
            found[name] = {str(d): c for d, c in con.execute(
                f"SELECT dt, count(*) FROM delta_scan('{os.path.join(out, name)}') GROUP BY dt").fetchall()}
        except Exception as exc:  # pylint: disable=broad-except
            found[name] = {"error": f"{type(exc).__name__}: {str(exc)[:100]}"}
    con.close()
    return found


def log_files(out: str) -> dict[str, dict]:
    """Per table: its version, commit files, checkpoint versions and _last_checkpoint's version."""
    found = {}
    for name in LOG_TABLES:
        folder = os.path.join(out, name, newsbeam_lake.LOG_FOLDER)
        if not os.path.isdir(folder):
            continue
        names = os.listdir(folder)
        commits = sorted(int(f[:20]) for f in names if f.endswith(".json") and f[:20].isdigit() and len(f) == 25)
        checkpoints = sorted({int(f[:20]) for f in names if ".checkpoint." in f and f.endswith(".parquet")})
        last = None
        if "_last_checkpoint" in names:
            with open(os.path.join(folder, "_last_checkpoint"), encoding="utf-8") as handle:
                last = json.load(handle).get("version")
        found[name] = {"version": commits[-1] if commits else None, "files": len(names), "commits": len(commits),
                       "checkpoints": checkpoints, "last": last,
                       "replay": len([c for c in commits if c > (checkpoints[-1] if checkpoints else -1)])}
    return found


def print_log_files(label: str, out: str) -> None:
    print(f"{label}: _delta_log of each table")
    for name, f in log_files(out).items():
        print(f"  {name:<13} version {f['version']:>4}: {f['files']:>4} files, {f['commits']:>4} commit files, "
              f"checkpoints at {f['checkpoints'] or 'none'} (_last_checkpoint: {f['last']}); a reader replays "
              f"{'the checkpoint and ' if f['checkpoints'] else ''}{f['replay']} commit file(s)")


def data_files(out: str) -> dict[str, int]:
    return {name: len(entries) for name, entries in newsbeam_lake.current_state(out)["tables"].items()}


def parquet_on_disk(out: str) -> int:
    return sum(1 for p in glob.glob(os.path.join(out, "*", "**", "*.parquet"), recursive=True)
               if f"/{newsbeam_lake.LOG_FOLDER}/" not in p)


def newsbeam_command(*args: str) -> tuple[float, str]:
    """Run ``newsbeam ARGS`` as a user would: (wall seconds, its last line of output)."""
    import subprocess
    import time

    from benchmarks.common import NEWSBEAM

    start = time.perf_counter()
    done = subprocess.run([NEWSBEAM, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"newsbeam {' '.join(args)} failed: exit {done.returncode}\n{done.stderr[-3000:]}")
    lines = (done.stdout + done.stderr).strip().splitlines()
    return wall, lines[-1] if lines else ""


def timed(call) -> float:
    import time

    start = time.perf_counter()
    call()
    return time.perf_counter() - start


class counting_loads:  # pylint: disable=invalid-name  (a context manager used as a function)
    """Count, while it is entered, the Delta log loads of this process: ``DeltaTable`` objects made
    (``open``; ``DeltaTable.create`` makes one too) and ``DeltaTable.create`` calls (``create``: it
    loads an existing table's log itself)."""

    def __enter__(self) -> dict:
        from deltalake import DeltaTable

        self.found = {"open": 0, "create": 0}
        self.init, self.create = DeltaTable.__init__, DeltaTable.__dict__["create"]
        init, create, found = self.init, self.create.__func__, self.found

        def counted_init(table, *args, **kwargs):
            found["open"] += 1
            init(table, *args, **kwargs)

        def counted_create(cls, *args, **kwargs):
            found["create"] += 1
            return create(cls, *args, **kwargs)

        DeltaTable.__init__, DeltaTable.create = counted_init, classmethod(counted_create)
        return self.found

    def __exit__(self, *exc) -> None:
        from deltalake import DeltaTable

        DeltaTable.__init__, DeltaTable.create = self.init, self.create


def age_new_log_files(out: str, since: float, when: float) -> None:
    """Give the Delta log files written after ``since`` the modification time ``when``: lake B is
    built in minutes, but stands for a year of daily runs, and Delta's own log clean-up (at each
    checkpoint, commit files older than ``delta.logRetentionDuration``, 30 days by default) goes by
    these times. So B's logs hold what a year of daily runs leaves: the last month of commits."""
    for log in glob.glob(os.path.join(out, "*", newsbeam_lake.LOG_FOLDER)):
        for name in os.listdir(log):
            path = os.path.join(log, name)
            if name[0].isdigit() and os.path.getmtime(path) >= since:
                os.utime(path, (when, when))


def build_history(out: str, days: int, per_day: int, how: str, inputs: str, rows: dict) -> None:
    """Lake B: ``days`` dates, by ``how`` (publish or runs), date n's commits dated n days before
    the date measured (:func:`age_new_log_files`); prints the commit time as it grows."""
    import time

    start = time.perf_counter()
    walls = []
    for n in range(1, days + 1):
        since = time.time() - 1
        if how == "runs":
            t = time.perf_counter()
            run_in_process(os.path.join(inputs, f"d{n}.jsonl"), out, day(n))
            walls.append(time.perf_counter() - t)
        else:
            walls.append(publish_day(out, day(n), rows[n]))
        age_new_log_files(out, since, time.time() - (days + 1 - n) * 86400)
        if n == days or n % 50 == 0 or n % 100 == 99 or n in (1, 10):  # (a checkpoint at versions 99, 199, ...)
            window = walls[-min(len(walls), 10):]
            print(f"  built {n:>3} dates ({time.perf_counter() - start:6.1f} s so far); "
                  f"{'run' if how == 'runs' else 'commit'} of date {n}: {walls[-1]:.3f} s, median of the last "
                  f"{len(window)}: {statistics.median(window):.3f} s", flush=True)


def log_cost(days: int, per_day: int, how: str, repeats: int, run_repeats: int, keep: str | None) -> None:
    import time

    work = tempfile.mkdtemp(prefix="newsbeam-lake-log-")
    inputs = os.path.join(work, "inputs")
    nxt = days + 1
    for n in range(1, nxt + 1):
        write_jsonl(os.path.join(inputs, f"d{n}.jsonl"), log_day(n, per_day))
    b = os.path.join(work, "lake-b")
    reuse = False
    if keep:
        if os.path.isdir(keep) and os.listdir(keep):
            if not newsbeam_lake.is_newsbeam_output(keep):
                raise SystemExit(f"--lake {keep} is not empty and not a newsbeam lake; choose another folder")
            reuse = newsbeam_lake.current_state(keep)["dates"] == [day(n) for n in range(1, days + 1)]
            if not reuse:
                shutil.rmtree(keep)
    # Every day's rows from one real dated run over all inputs (split by input file); with --build runs
    # (or a reused lake) only the next day's, for the commit measurement.
    scratch = os.path.join(work, "rows")
    batch = os.path.join(work, "batch")
    wanted = list(range(1, nxt + 1)) if how == "publish" and not reuse else [nxt]
    os.makedirs(batch)
    for n in wanted:
        os.link(os.path.join(inputs, f"d{n}.jsonl"), os.path.join(batch, f"d{n}.jsonl"))
    t = time.perf_counter()
    run_in_process(batch, scratch, day(nxt))
    rows = rows_by_day(scratch)
    print(f"rows of {len(wanted)} day(s) from one real dated run over their inputs ({time.perf_counter() - t:.1f} s): "
          f"date {nxt}'s: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(rows[nxt].items())))
    target = keep or b
    if reuse:
        print(f"lake B: reusing {keep} ({days} dates, built earlier)")
    else:
        print(f"lake B: building {days} dates of {per_day} articles + 1 copy + 1 rejected record each, by "
              + ("lake.publish of parts written with rows.write_part (one real run gave the rows)" if how == "publish"
                 else "one real in-process newsbeam run per date"), flush=True)
        t = time.perf_counter()
        build_history(target, days, per_day, how, inputs, rows)
        print(f"lake B built in {time.perf_counter() - t:.1f} s")
    if keep:
        shutil.copytree(keep, b)
        print(f"measuring on a copy of {keep}")
    print_log_files(f"lake B with {days} dates", b)
    a = os.path.join(work, "lake-a")
    first, late = day(1), day(nxt)

    # (a) the commit step alone: one first commit each (A: creates the tables; B: adds date 366 as
    # version days+1), then re-commits of the date, alternating; the Delta log loads they make counted
    # (a) a new date, as a day's run commits it: date 1 into a new lake (its commit creates the
    # tables), dates 366, 367, ... into a copy of B; alternating, medians
    b_new = os.path.join(work, "lake-b-new-dates")
    shutil.copytree(b, b_new)
    new_dates = {"a": [], "b": []}
    for r in range(repeats):
        for key in ("a", "b")[:: 1 if r % 2 == 0 else -1]:
            if key == "a":
                new_dates["a"].append(publish_day(os.path.join(work, f"lake-a-new-{r}"), first, rows[nxt]))
            else:
                new_dates["b"].append(publish_day(b_new, day(nxt + 1 + r), rows[nxt]))
    print(f"  commit (lake.publish, {len(LOG_TABLES)} tables) of a new date: date 1 into a new lake "
          f"{' '.join(f'{w:.3f}' for w in new_dates['a'])} s; dates {nxt}.. into a copy of lake B "
          f"{' '.join(f'{w:.3f}' for w in new_dates['b'])} s")
    # and a date committed again (a rerun's commit) on A and on B
    first_commit = {"a": publish_day(a, first, rows[nxt]), "b": publish_day(b, late, rows[nxt])}
    commits = {"a": [], "b": []}
    with counting_loads() as loads:
        for r in range(repeats):
            for key, out, date in (("a", a, first), ("b", b, late))[:: 1 if r % 2 == 0 else -1]:
                commits[key].append(publish_day(out, date, rows[nxt]))
    one_load = {key: statistics.median(timed(lambda: newsbeam_lake.open_table(out, "articles"))
                                       for _ in range(repeats)) for key, out in (("a", a), ("b", b))}
    print(f"  commit (lake.publish, {len(LOG_TABLES)} tables) re-commits: lake A "
          f"{' '.join(f'{w:.3f}' for w in commits['a'])} s; lake B {' '.join(f'{w:.3f}' for w in commits['b'])} s "
          f"(first commits, not in the medians: A {first_commit['a']:.3f} s, creating the tables; B "
          f"{first_commit['b']:.3f} s, adding date {late})")
    print(f"  each commit of a run (lake.publish + the runs_of_date a run makes at its start) loaded a table's "
          f"Delta log {loads['open'] / (2 * repeats):.0f} times (DeltaTable opened) and "
          f"{loads['create'] / (2 * repeats):.0f} times more (DeltaTable.create, mode ignore); one load of articles: "
          f"lake A {one_load['a']:.4f} s, lake B {one_load['b']:.4f} s (median of {repeats})")

    # (c) counting one date, a fresh connection each time
    counts = {"a": [], "b": []}
    opens = {"a": [], "b": []}
    found = {}
    for r in range(repeats):
        for key, out, date in (("a", a, first), ("b", b, late))[:: 1 if r % 2 == 0 else -1]:
            n, opened, took = count_date(out, date)
            found[key] = n
            opens[key].append(opened)
            counts[key].append(took)
    old = count_date(b, first)
    print(f"  DuckDB count of one date: lake A {' '.join(f'{w:.3f}' for w in counts['a'])} s; lake B "
          f"{' '.join(f'{w:.3f}' for w in counts['b'])} s (connection with delta loaded: median "
          f"{statistics.median(opens['a'] + opens['b']):.3f} s, apart); B's date {first}: {old[0]} articles in "
          f"{old[2]:.3f} s")

    # (b) whole runs, one process each, alternating (A's first one a run into a lake holding only date 1)
    runs = {"a": [], "b": []}
    for r in range(run_repeats):
        for key, out, date, n in (("a", a, first, 1), ("b", b, late, nxt))[:: 1 if r % 2 == 0 else -1]:
            summary, wall, _ = run_newsbeam(os.path.join(inputs, f"d{n}.jsonl"), out, ["--date", date] + NO_NER)
            runs[key].append(wall)
            print(f"  newsbeam run, {'lake A' if key == 'a' else 'lake B'} date {date}: {wall:.2f} s "
                  f"({summary['articles_written']} articles, {summary['duplicates']} duplicates, "
                  f"{summary['rejected']} rejected; {summary['wall_seconds']:.2f} s by its run.json)", flush=True)

    built = f"reused from {keep}" if reuse else f"built by {'lake.publish' if how == 'publish' else 'newsbeam runs'}"
    print(f"\nlake A: date {first}, the only date of its lake; lake B: date {late} after {days} dates ({built}); "
          f"{per_day} articles a day; medians; {os.cpu_count()} cores")
    print(f"{'':38} {'date 1':>9} {f'date {nxt}':>9} {'ratio':>6}  within 2x")
    med = statistics.median
    for label, key_a, key_b in (
            (f"commit step, a new date, s [{repeats}]", med(new_dates["a"]), med(new_dates["b"])),
            (f"commit step, a rerun's date, s [{repeats}]", med(commits["a"]), med(commits["b"])),
            (f"whole newsbeam run, s [{run_repeats}]", med(runs["a"]), med(runs["b"])),
            (f"DuckDB count of the date, s [{repeats}]", med(counts["a"]), med(counts["b"])),
            (f"  + fresh connection, s [{repeats}]", med([o + c for o, c in zip(opens["a"], counts["a"])]),
             med([o + c for o, c in zip(opens["b"], counts["b"])])),
            (f"one Delta log load (articles), s [{repeats}]", one_load["a"], one_load["b"])):
        ratio = key_b / key_a
        verdict = ("yes" if ratio <= 2 else "NO") if label.startswith(("commit", "DuckDB")) else "(not a target)"
        print(f"{label:38} {key_a:9.3f} {key_b:9.3f} {ratio:5.2f}x  {verdict}")
    print(f"articles counted: lake A date {first}: {found['a']}, lake B date {late}: {found['b']} "
          f"(expected {len(rows[nxt].get('articles', []))})")
    print()
    print_log_files("lake A", a)
    print_log_files("lake B after the measurements", b)

    # optimize, then vacuum, on lake B
    before, rows_before, disk_before = data_files(b), rows_per_date(b), parquet_on_disk(b)
    wall, said = newsbeam_command("optimize", b)
    after, rows_after = data_files(b), rows_per_date(b)
    print(f"\nnewsbeam optimize {os.path.basename(b)} (every date): {wall:.1f} s; {said}")
    print(f"data files the tables' current versions name: {sum(before.values())} before, {sum(after.values())} "
          f"after (" + ", ".join(f"{k} {before[k]} -> {after.get(k, 0)}" for k in before) + ")")
    same = rows_before == rows_after
    print(f"rows per table and date (DuckDB delta_scan) the same before and after optimize: {same} "
          f"({sum(sum(v for v in t.values() if isinstance(v, int)) for t in rows_after.values())} rows in "
          f"{sum(len(t) for t in rows_after.values())} table-dates)")
    if not same:
        for name in rows_before:
            if rows_before[name] != rows_after.get(name):
                print(f"  {name}: differs (before {dict(list(rows_before[name].items())[:3])} ..., "
                      f"after {dict(list(rows_after.get(name, {}).items())[:3])} ...)")
    old_after = count_date(b, late)
    print(f"DuckDB count of date {late} after optimize: {old_after[0]} articles in {old_after[2]:.3f} s")
    wall, said = newsbeam_command("vacuum", b, "--retain-hours", "0")
    print(f"newsbeam vacuum --retain-hours 0: {wall:.1f} s; {said}")
    print(f"Parquet files on disk: {disk_before} before optimize, {parquet_on_disk(b)} after vacuum")
    print_log_files("lake B after optimize and vacuum", b)

    # Delta's optimize merges files within a partition (a date, and a language for articles); lake B
    # has one file per partition, as newsbeam writes a small day, so it has nothing to merge. Lake C:
    # the same days written one row per file (what --rows-per-file 1, or many small appends, leave).
    c = os.path.join(work, "lake-c")
    small = min(days, 30)
    for n in range(1, small + 1):
        publish_day(c, day(n), rows[nxt], per_file=1)
    before, rows_before = data_files(c), rows_per_date(c)
    wall, said = newsbeam_command("optimize", c)
    after = data_files(c)
    print(f"\nlake C ({small} dates written one row per file): newsbeam optimize {wall:.1f} s; data files "
          f"{sum(before.values())} before, {sum(after.values())} after ("
          + ", ".join(f"{k} {before[k]} -> {after.get(k, 0)}" for k in before) + "); rows the same: "
          f"{rows_before == rows_per_date(c)}")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="part", required=True)
    q = sub.add_parser("quality")
    q.add_argument("corpus")
    c = sub.add_parser("cost")
    c.add_argument("--days", type=int, default=30)
    c.add_argument("--per-day", type=int, default=2000)
    c.add_argument("--repeats", type=int, default=3)
    c.add_argument("--lake", help="keep the built history here and reuse it next time")
    g = sub.add_parser("log", help="a year of dates: commit, count and optimize (see the docstring)")
    g.add_argument("--days", type=int, default=365, help="dates in lake B before the measured one (default 365)")
    g.add_argument("--per-day", type=int, default=5, help="new articles a day (default 5)")
    g.add_argument("--build", choices=("publish", "runs"), default="publish",
                   help="build lake B's dates with lake.publish on written parts (default, minutes) or with one "
                        "real in-process newsbeam run per date (3 to 7 s a date)")
    g.add_argument("--repeats", type=int, default=7, help="timed commits and counts per lake (default 7)")
    g.add_argument("--run-repeats", type=int, default=3, help="whole newsbeam runs per lake (default 3)")
    g.add_argument("--lake", help="build lake B here (or reuse it when it holds exactly --days dates); measured on "
                                  "a copy. Without it nothing is kept")
    args = parser.parse_args()
    if args.part == "quality":
        quality(args.corpus)
    elif args.part == "cost":
        cost(args.days, args.per_day, args.repeats, args.lake)
    else:
        log_cost(args.days, args.per_day, args.build, args.repeats, args.run_repeats, args.lake)


if __name__ == "__main__":
    main()
