#!/usr/bin/env python3
"""The daily lake: copies caught across dates, and what looking back costs.

usage: python benchmarks/lake.py quality ../shared/corpora/bbc-news
       python benchmarks/lake.py cost [--days 30] [--per-day 2000] [--repeats 3] [--lake DIR]

``quality``: day 1 is 1,100 articles of the corpus, each in one site's page chrome; day 2 holds
exact copies of 300 day-1 pages, edited copies of 400 day-1 stories on other sites (a new
headline, a paragraph cut or added, typos, other quotes, a correction line: ``syndicated.edit``)
and 1,125 stories of the corpus not in day 1. Printed: the share of exact and of edited copies
that day 2 marks as duplicates of the right day-1 article, the day-2 stories wrongly marked as
copies of day 1 (stories the corpus itself re-published count as copies), whether day 1's files
stayed byte for byte, and whether a rerun of day 2 gives the same rows.

``cost``: a lake of ``--days`` dates of ``--per-day`` generated articles (built once by real
dated runs, kept in ``--lake``), then the next date run with ``--dedupe-days 0`` (no lookup) and
with ``--dedupe-days D``, alternating, ``--repeats`` times each: median wall seconds, the change
against no lookup, and peak RSS. Two next dates: one with 30% copies (15% exact, 15% edited) of
articles from any earlier date, for D = 1, 10 and ``--days`` (peak RSS per look-back); one of new
stories only, for D = ``--days`` (the lookup's own cost: every index file read, nothing found). NER is off in both parts
(``--ner-model en=``): it does not touch dedupe and would hide the lookup's cost in its own.
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

NO_NER = ["--ner-model", "en=", "--ner-model", "fr=", "--runner=FnApiRunner"]
START = datetime.date(2025, 1, 1)


def day(n: int) -> str:
    return (START + datetime.timedelta(days=n - 1)).isoformat()


def rows(lake: str, table: str, date: str) -> list[dict]:
    paths = sorted(glob.glob(os.path.join(lake, table, f"dt={date}", "**", "*.parquet"), recursive=True))
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
    marker = os.path.join(lake, "_newsbeam", "current.json")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            have = json.load(handle)["dates"]
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
    args = parser.parse_args()
    if args.part == "quality":
        quality(args.corpus)
    else:
        cost(args.days, args.per_day, args.repeats, args.lake)


if __name__ == "__main__":
    main()
