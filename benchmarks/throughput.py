#!/usr/bin/env python3
"""Where the time of a run goes: each stage alone, the bare NER loop, the whole job in-process and
with worker processes, all in one run on the same input.

usage:
  python benchmarks/throughput.py speed [--bbc DIR] [--gnad CSV] [--per-corpus N] [--workers 2]
  python benchmarks/throughput.py memory [--bbc DIR] [--gnad CSV] [--per-corpus N] [--scale 10]
  python benchmarks/throughput.py one
  python benchmarks/throughput.py shared [--threads 4]

``speed`` builds one input from each corpus (``--per-corpus`` articles, each wrapped in the page
chrome of one of five news sites, plus 10% edited copies on other sites) and prints, per corpus:
articles/s and MB/s of each stage's own code run alone on those records (read, validate, clean,
dedupe, language, NER, write), the bare spaCy loop (``nlp.pipe`` over the bodies the job tags, model
already loaded), the whole ``newsbeam run`` in-process and with ``--workers`` worker processes (wall
time of the process, start-up included), the two ratios issue 12 sets targets for, and peak RSS of
the launcher and of each worker process.

``memory`` runs the in-process job on ``--per-corpus`` articles and on ``--scale`` times as many
(distinct real articles of both corpora) and prints both peak RSS figures. ``one`` times one article end to end (the median of
three whole ``newsbeam run`` processes). ``shared`` prints the memory a worker process saves by
sharing its models between threads.
"""
from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable

from benchmarks import syndicated
from benchmarks.common import ROOT, lost, run_newsbeam, write_jsonl

BBC = os.path.join(ROOT, "..", "shared", "corpora", "bbc-news")
GNAD = os.path.join(ROOT, "..", "shared", "corpora", "10kgnad-de-news", "test.csv")
COPY_SHARE = 0.10
_SENTENCE_END = re.compile(r"(?<=[.!?“\"])\s+(?=[A-ZÄÖÜ])")


# ---------------------------------------------------------------------------------------------- input
def gnad_articles(path: str) -> list[tuple[str, str, list[str]]]:
    """(name, headline, paragraphs) of 10kGNAD's one-line articles: the first sentence is the
    headline, the rest is cut into paragraphs of three sentences."""
    out = []
    with open(path, encoding="utf-8", newline="") as handle:
        for i, row in enumerate(csv.reader(handle, delimiter=";", quotechar="'")):
            if len(row) < 2:
                continue
            sentences = [s.strip() for s in _SENTENCE_END.split(row[1]) if s.strip()]
            if len(sentences) < 4:
                continue
            body = [" ".join(sentences[j:j + 3]) for j in range(1, len(sentences), 3)]
            out.append((f"gnad/{i}", sentences[0], body))
    return out


def build_records(articles: list[tuple[str, str, list[str]]], count: int, seed: int = 12) -> list[dict]:
    """``count`` articles, each in one site's chrome, and ``COPY_SHARE`` as many edited copies of
    some of them on other sites (as syndication makes them), as JSONL records."""
    rnd = random.Random(seed)
    chosen = rnd.sample(articles, min(count, len(articles)))
    teasers = [head for _, head, _ in articles]
    extra = [p for _, _, body in rnd.sample(articles, min(200, len(articles))) for p in body[:1]]
    records = []
    sites = len(syndicated.SITES)
    for name, title, body in chosen:
        site = rnd.randrange(sites)
        records.append(syndicated.page_record(rnd, site, name, title, body, teasers))
        if rnd.random() < COPY_SHARE:
            title2, body2, _ = syndicated.edit(rnd, title, body, extra)
            records.append(syndicated.page_record(rnd, (site + rnd.randrange(1, sites)) % sites, name + "/copy",
                                                  title2, body2, teasers))
    return records


# ------------------------------------------------------------------------------------------ measuring
def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median seconds of ``repeats`` calls of ``fn``."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_job(input_path: str, output: str, flags: list[str]) -> dict:
    """One ``newsbeam run`` process: run.json, wall seconds, peak RSS (MiB) of the launcher and of
    each worker process it started (read from /proc while they live)."""
    peaks: dict = {}
    summary, wall, _ = run_newsbeam(input_path, output, flags, peaks=peaks)
    return {"summary": summary, "wall": wall, "launcher_mib": peaks["launcher"], "worker_mib": peaks["workers"]}


def stage_times(path: str, tagged_ids: set[str]) -> dict:
    """Each stage's own code on the records of ``path``, in this process, one after another
    (seconds, median of 3; NER once). Language, NER and write read the articles the whole job
    kept (``tagged_ids``), so the bare NER loop tags exactly the texts the job tagged."""
    from transforms.clean.stage import clean_article
    from transforms.config import RunConfig
    from transforms.dedupe.rules import fingerprint
    from transforms.entities import load_model, tag_batch
    from transforms.language import Detectors, detect_language
    from transforms.io.formats import read_file
    from transforms.records import Article
    from transforms.validate import validate_record

    config = RunConfig()
    raws: list = []
    articles: list = []
    cleaned: list = []
    seconds = {}

    def read():
        raws[:] = list(read_file(path))

    def validate():
        articles[:] = [a for a in (validate_record(r) for r in raws) if isinstance(a, Article)]

    def clean():
        cleaned[:] = [clean_article(a)[0] for a in articles]

    seconds["read"] = best_of(read)
    seconds["validate"] = best_of(validate)
    seconds["clean"] = best_of(clean)
    seconds["dedupe (fingerprints)"] = best_of(lambda: [fingerprint(a, config.dedupe) for a in cleaned])
    kept = [a for a in cleaned if a.article_id in tagged_ids]
    detectors = Detectors()
    langs: list = []

    def language():
        langs[:] = [a.model_copy(update={"language": detect_language(detectors, a.body, config.language).language})
                    for a in kept]

    seconds["language"] = best_of(language)
    # Each NER pass gets freshly loaded models: a second pass over the same texts with the same
    # model is faster (its vocabulary already holds their words), and the job makes one first pass.
    models = {lang: load_model(name) for lang, name in config.entities.models.items()}
    seconds["NER (stage code)"] = best_of(lambda: tag_batch(langs, models.get, config.entities.batch_size), 1)
    models = {lang: load_model(name) for lang, name in config.entities.models.items()}

    def bare():
        for lang, model in models.items():
            for _ in model.pipe((a.body for a in langs if a.language == lang),
                                batch_size=config.entities.batch_size):
                pass

    seconds["NER (bare spaCy loop)"] = best_of(bare, 1)
    seconds["write (Parquet)"] = best_of(lambda: _write_parquet(langs, path + ".parquet"))
    return {"seconds": seconds, "kept": len(kept), "raws": len(raws),
            "tagged": sum(1 for a in langs if a.language in models)}


def _write_parquet(articles, path: str) -> None:
    """The write stage's own code for the articles table: rows, sorted, one Parquet file."""
    from transforms.io.rows import TABLES, article_row, write_part

    folder = os.path.dirname(path)
    write_part(folder, "bench", TABLES["articles"], "language=en", 0, 1,
               [article_row(a).model_dump() for a in articles])


def speed(args) -> None:
    import pyarrow.parquet as pq

    corpora = {}
    if args.bbc:
        corpora["bbc-news (en)"] = syndicated.read_articles(args.bbc)
    if args.gnad:
        corpora["10kgnad (de)"] = gnad_articles(args.gnad)
    work = tempfile.mkdtemp(prefix="newsbeam-throughput-")
    print(f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} cores; up to {args.per_corpus} articles per corpus, "
          f"each in one site's chrome, + {COPY_SHARE:.0%} edited copies", flush=True)
    try:
        for name, articles in corpora.items():
            path = write_jsonl(os.path.join(work, "input.jsonl"), build_records(articles, args.per_corpus))
            mb = os.path.getsize(path) / 1e6
            print(f"\n## {name}: {mb:.1f} MB", flush=True)
            jobs = {"in-process": [],
                    f"{args.workers} worker processes": ["--direct_running_mode=multi_processing",
                                                         f"--direct_num_workers={args.workers}"]}
            results = {}
            print(f"{'whole job':22} {'in':>6} {'written':>7} {'dup':>5} {'rej':>4} {'lost':>4} {'wall s':>7} "
                  f"{'articles/s':>10} {'MB/s':>6} {'launcher MiB':>12} {'workers MiB':>12}")
            for i, (mode, flags) in enumerate(jobs.items()):
                out = os.path.join(work, f"out-{i}")
                r = results[mode] = run_job(path, out, flags)
                s = r["summary"]
                print(f"{mode:22} {s['records_in']:>6} {s['articles_written']:>7} {s['duplicates']:>5} "
                      f"{s['rejected']:>4} {lost(s):>4} {r['wall']:>7.1f} {s['articles_written'] / r['wall']:>10.1f} "
                      f"{mb / r['wall']:>6.2f} {r['launcher_mib']:>12.0f} "
                      f"{' '.join(f'{m:.0f}' for m in r['worker_mib']) or '-':>12}", flush=True)
            kept = {row["article_id"] for row in pq.read_table(os.path.join(work, "out-0", "articles"),
                                                              columns=["article_id"]).to_pylist()}
            stages = stage_times(path, kept)
            print(f"\n{'stage alone':22} {'seconds':>8} {'articles/s':>11} {'MB/s':>8}")
            for stage, sec in stages["seconds"].items():
                if "NER" in stage and not stages["tagged"]:
                    continue  # nothing tagged: no NER figures
                count = stages["raws"] if stage in ("read", "validate", "clean", "dedupe (fingerprints)") else (
                    stages["tagged"] if "NER" in stage else stages["kept"])
                print(f"{stage:22} {sec:>8.2f} {count / sec if sec else 0:>11.1f} {mb / sec if sec else 0:>8.1f}")
            inproc, multi = results["in-process"], results[f"{args.workers} worker processes"]
            tagged = inproc["summary"]["entity_status"].get("tagged", 0)
            print(f"\n{args.workers} worker processes / in-process: {inproc['wall'] / multi['wall']:.2f}x "
                  f"(target >= 1.8)")
            if not stages["tagged"]:
                print("no NER model for this language: no bare NER loop to compare with")
                continue
            bare_rate = stages["tagged"] / stages["seconds"]["NER (bare spaCy loop)"]
            job_rate = tagged / inproc["wall"]
            print(f"in-process job {job_rate:.1f} tagged articles/s, bare NER loop on the same {stages['tagged']} "
                  f"texts {bare_rate:.1f}/s: {job_rate / bare_rate:.2f}x (target >= 0.90)", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def memory(args) -> None:
    """Peak RSS of the in-process job on ``--per-corpus`` articles and on ``--scale`` times as many,
    all distinct real articles (BBC and 10kGNAD together), each input with 10% copies."""
    pool = syndicated.read_articles(args.bbc) + gnad_articles(args.gnad)
    if args.per_corpus * args.scale > len(pool):
        raise SystemExit(f"--per-corpus x --scale is more than the {len(pool)} articles of the two corpora")
    work = tempfile.mkdtemp(prefix="newsbeam-memory-")
    try:
        figures = {}
        for label, count in (("1x", args.per_corpus), (f"{args.scale}x", args.per_corpus * args.scale)):
            path = write_jsonl(os.path.join(work, f"{label}.jsonl"), build_records(pool, count, seed=3))
            r = figures[label] = run_job(path, os.path.join(work, f"out-{label}"), [])
            s = r["summary"]
            print(f"{label:>4}: {s['records_in']} records, {os.path.getsize(path) / 1e6:.1f} MB, "
                  f"{s['articles_written']} written, {s['duplicates']} duplicates, lost {lost(s)}; {r['wall']:.0f} s; "
                  f"peak RSS {r['launcher_mib']:.0f} MiB", flush=True)
            shutil.rmtree(os.path.join(work, f"out-{label}"), ignore_errors=True)
        a, b = figures["1x"]["launcher_mib"], figures[f"{args.scale}x"]["launcher_mib"]
        print(f"peak RSS {args.scale}x / 1x: {b / a - 1:+.1%} (target <= +20%)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


_SHARED_CHILD = """
import sys, threading
from apache_beam.internal import pickler
from transforms import entities, language
from transforms.config import EntityConfig, LanguageConfig
threads, shared = int(sys.argv[1]), sys.argv[2] == 'shared'
def copies(make):
    # shared: what a runner does, one unpickled copy of one DoFn per thread; private: a DoFn each
    return [pickler.loads(pickler.dumps(make())) for _ in range(threads)] if shared else [make() for _ in range(threads)]
if shared:
    tag, detect = entities._Tag(EntityConfig(), 4096), language._Detect(LanguageConfig(), 4096)
    tags, detects = copies(lambda: tag), copies(lambda: detect)
else:
    tags, detects = copies(lambda: entities._Tag(EntityConfig(), 4096)), copies(lambda: language._Detect(LanguageConfig(), 4096))
def work(t, d):
    t.setup(); d.setup()
    for lang in EntityConfig().models:
        t._model_for(lang)
ts = [threading.Thread(target=work, args=pair) for pair in zip(tags, detects)]
[t.start() for t in ts]; [t.join() for t in ts]
print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])
"""


def shared(args) -> None:
    """Resident memory of one worker process whose ``--threads`` threads each set up the language
    and NER stages (both models loaded), with the models shared (as the job does) and without."""
    from transforms.config import EntityConfig

    rss = {}
    for mode in ("private", "shared"):
        out = subprocess.run([sys.executable, "-c", _SHARED_CHILD, str(args.threads), mode], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        rss[mode] = int(out.split()[-1]) / 1024
    print(f"one worker process, {args.threads} threads, langdetect + NER models {', '.join(sorted(EntityConfig().models))}: "
          f"{rss['private']:.0f} MiB with a copy per thread, {rss['shared']:.0f} MiB shared: "
          f"{rss['private'] - rss['shared']:.0f} MiB saved per worker")


def one(args) -> None:
    work = tempfile.mkdtemp(prefix="newsbeam-one-")
    try:
        articles = syndicated.read_articles(args.bbc)
        path = write_jsonl(os.path.join(work, "one.jsonl"), build_records(articles, 1))
        walls, runs = [], []
        for i in range(3):
            r = run_job(path, os.path.join(work, f"out-{i}"), [])
            walls.append(r["wall"])
            runs.append(r["summary"]["wall_seconds"])
        print(f"one article, in-process, median of 3: the run itself (run.json wall_seconds: from the pipeline "
              f"built to the output committed) {statistics.median(runs):.2f} s; the whole `newsbeam run` "
              f"process (Python and Beam start-up, building the pipeline) {statistics.median(walls):.2f} s "
              f"(target < 3 s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("shared")
    p.add_argument("--threads", type=int, default=4)
    for name in ("speed", "memory", "one"):
        p = sub.add_parser(name)
        p.add_argument("--bbc", default=BBC)
        p.add_argument("--per-corpus", type=int, default=2225 if name == "speed" else 300)
        if name in ("speed", "memory"):
            p.add_argument("--gnad", default=GNAD)
        if name == "speed":
            p.add_argument("--workers", type=int, default=2)
        if name == "memory":
            p.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    {"speed": speed, "memory": memory, "one": one, "shared": shared}[args.command](args)


if __name__ == "__main__":
    main()
