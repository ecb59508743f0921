#!/usr/bin/env python3
"""Near-duplicate detection: pair precision and recall on syndicated pages, peers beside, and scale.

usage: python benchmarks/dedupe.py ../shared/corpora/bbc-news [--stories N] [--sweep] [--scale 10000 100000]

Quality. Every article of the corpus is published in one site's page chrome (the shape of the
user's sample); about 40% are re-published by 1-4 other sites with the edits syndication makes
(`benchmarks/syndicated.py`). Pages of one story are copies; so are the stories the corpus itself
re-published (source articles whose 5-word shingles have a Jaccard similarity of at least 0.5:
the corpus holds exact copies and edited re-publications, and the next most similar pairs, at 0.47
and below, are different stories on one topic). The pages go through newsbeam's own Read, Validate,
Clean and Dedupe stages; a pair of pages is predicted a copy when both land in one cluster. In the
same run, datasketch's MinHashLSH (128 permutations, the same shingles) is scored on the raw page
text, on C4-style cleaned text (lines of 5+ words that end a sentence) and on newsbeam's cleaned
bodies, at thresholds 0.5 and 0.7, clusters taken as the connected components of what it returns.

Scale (``--scale``): generated distinct articles (sentences drawn from the corpus) plus 10% edited
copies, through Read, Validate and Dedupe only (bodies taken as given), each size in its own
process: articles/s and peak RSS.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from benchmarks import syndicated
from transforms.clean.stage import CleanText
from transforms.dedupe.components import components_of
from transforms.config import DedupeConfig, RunConfig
from transforms.dedupe.stage import Dedupe
from transforms.dedupe.minhash import exact_jaccard, shingle_hashes
from transforms.io.read import ReadArticles
from transforms.validate import ValidateArticles

OPTIONS = ["--runner=FnApiRunner"]
_SENTENCE_END = re.compile(r"[.!?\"'\u201d\u2019)]$")


# --------------------------------------------------------------------------------------
# Labels and scores

def pair_scores(predicted: dict[str, str], truth: dict[str, str]) -> tuple[float, float, int, int]:
    """Pair precision and recall of a clustering (item -> cluster) against the true one."""
    def pairs(sizes):
        return sum(n * (n - 1) // 2 for n in sizes)

    both = Counter((predicted[i], truth[i]) for i in truth)
    tp = pairs(both.values())
    pred = pairs(Counter(predicted[i] for i in truth).values())
    true = pairs(Counter(truth.values()).values())
    return (tp / pred if pred else 1.0), (tp / true if true else 1.0), pred, true


def corpus_copies(articles: list[tuple[str, str, list[str]]], threshold: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of source articles the corpus itself re-published (exact Jaccard >= threshold)."""
    texts = {name: "\n".join([head] + body) for name, head, body in articles}
    return sorted({tuple(sorted(pair)) for pair in datasketch_pairs(texts, 0.3)
                   if exact_jaccard(texts[pair[0]], texts[pair[1]], 5) >= threshold})


def truth_of(pages: list[syndicated.Page], copies: list[tuple[str, str]]) -> dict[str, str]:
    label = components_of(copies)
    return {f"p{i:06d}": label.get(page.story, page.story) for i, page in enumerate(pages)}


# --------------------------------------------------------------------------------------
# newsbeam

def write_pages(pages: list[syndicated.Page], path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for i, page in enumerate(pages):
            site = f"site{page.site}.example"
            handle.write(json.dumps({"id": f"p{i:06d}", "url": f"https://{site}/{i}", "source": site,
                                     "text": page.page_text}, ensure_ascii=False) + "\n")


def run_newsbeam(jsonl: str, dedupe: DedupeConfig, out: str) -> tuple[dict[str, str], dict[str, str], float]:
    """(given id -> cluster, given id -> cleaned body, seconds) of Read+Validate+Clean+Dedupe."""
    config = RunConfig(inputs=(jsonl,), dedupe=dedupe)
    start = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions(OPTIONS)) as p:
        read = p | ReadArticles([jsonl], config)
        valid = read.records | ValidateArticles(config)
        cleaned = valid.articles | CleanText(config)
        deduped = cleaned.articles | Dedupe(config)
        kept = deduped.articles | "Kept" >> beam.Map(lambda a: json.dumps([a.given_id, a.cluster_id, None]))
        dups = deduped.duplicates | "Dups" >> beam.Map(lambda d: json.dumps([d.given_id, d.cluster_id, None]))
        texts = cleaned.articles | "Bodies" >> beam.Map(lambda a: json.dumps([a.given_id, None, a.body]))
        _ = (kept, dups, texts) | beam.Flatten() | beam.io.WriteToText(out, shard_name_template="")
    seconds = time.perf_counter() - start
    clusters, bodies = {}, {}
    with open(out, encoding="utf-8") as handle:
        for line in handle:
            given, cluster, body = json.loads(line)
            if body is not None:
                bodies[given] = body
            else:
                clusters[given] = cluster
    return clusters, bodies, seconds


def with_singletons(predicted: dict[str, str], truth: dict[str, str]) -> dict[str, str]:
    """Pages a stage rejected (no body left) count as clusters of their own."""
    return {item: predicted.get(item, f"alone:{item}") for item in truth}


# --------------------------------------------------------------------------------------
# datasketch

def c4_clean(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if len(line.split()) >= 5 and _SENTENCE_END.search(line.strip()))


def datasketch_pairs(texts: dict[str, str], threshold: float) -> list[tuple[str, str]]:
    """The pairs datasketch's MinHashLSH (128 permutations, newsbeam's shingles) returns as candidates."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = {}
    for item, text in texts.items():
        m = MinHash(num_perm=128)
        m.update_batch([int(h).to_bytes(8, "little") for h in shingle_hashes(text, 5)])
        lsh.insert(item, m)
        hashes[item] = m
    return [(item, other) for item, m in hashes.items() for other in lsh.query(m) if other != item]


def datasketch_clusters(texts: dict[str, str], threshold: float) -> dict[str, str]:
    label = components_of(datasketch_pairs(texts, threshold))
    return {item: label.get(item, item) for item in texts}


# --------------------------------------------------------------------------------------
# Scale

def generate(corpus: str, n: int, path: str, seed: int = 5) -> None:
    """``n`` distinct articles of 6-14 sentences drawn from the corpus, plus 10% edited copies."""
    rnd = random.Random(seed)
    sentences = []
    for _, _, body in syndicated.read_articles(corpus):
        for paragraph in body:
            sentences.extend(s.strip() + "." for s in paragraph.split(". ") if len(s.split()) > 4)
    with open(path, "w", encoding="utf-8") as handle:
        written = 0
        i = 0
        while written < n:
            paragraphs = [" ".join(rnd.sample(sentences, 2)) for _ in range(rnd.randint(3, 7))]
            handle.write(json.dumps({"id": f"g{i}", "text": "\n\n".join(paragraphs)}) + "\n")
            written += 1
            if rnd.random() < 0.1 and written < n:
                copy = list(paragraphs)
                del copy[rnd.randrange(len(copy))]
                handle.write(json.dumps({"id": f"g{i}-copy", "text": "\n\n".join(copy + ["Updated."])}) + "\n")
                written += 1
            i += 1


def scale_child(path: str) -> None:
    """Read + Validate + Dedupe of one generated file (bodies as given), in this process."""
    config = RunConfig(inputs=(path,))
    start = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions(OPTIONS)) as p:
        read = p | ReadArticles([path], config)
        valid = read.records | ValidateArticles(config)
        bodies = valid.articles | beam.Map(lambda a: a.model_copy(update={"paragraphs": tuple(a.text.split("\n\n"))}))
        deduped = bodies | Dedupe(config)
        counts = ((deduped.articles | "K" >> beam.Map(lambda _: "kept")),
                  (deduped.duplicates | "D" >> beam.Map(lambda _: "duplicate"))) | beam.Flatten()
        _ = (counts | beam.combiners.Count.PerElement()
             | beam.Map(lambda kv: print(json.dumps({kv[0]: kv[1]}), flush=True)))
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def scale(corpus: str, sizes: list[int]) -> None:
    print("\nScale: Read + Validate + Dedupe (exact and near), in-process runner, one process per size")
    print(f"{'articles':>9} {'kept':>8} {'dups':>7} {'seconds':>8} {'articles/s':>10} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = os.path.join(tmp, f"gen-{n}.jsonl")
            generate(corpus, n, path)
            proc = subprocess.run([sys.executable, __file__, "--scale-child", path], capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(proc.stderr[-3000:])
            facts = {}
            for line in proc.stdout.splitlines():
                if line.startswith("{"):
                    facts.update(json.loads(line))
            print(f"{n:>9} {facts.get('kept', 0):>8} {facts.get('duplicate', 0):>7} {facts['seconds']:>8.1f} "
                  f"{n / facts['seconds']:>10.0f} {facts['peak_mib']:>9.0f}", flush=True)


# --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?")
    parser.add_argument("--stories", type=int, default=0, help="stories to use (default: all)")
    parser.add_argument("--sweep", action="store_true", help="also score other shingle sizes, bands and thresholds")
    parser.add_argument("--quick-sweep", action="store_true", help="with --sweep: vary the threshold only")
    parser.add_argument("--scale", type=int, nargs="*", default=[], help="sizes for the scale run, e.g. 10000 100000")
    parser.add_argument("--scale-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_child:
        scale_child(args.scale_child)
        return
    articles = syndicated.read_articles(args.corpus)
    stories = args.stories or len(articles)
    pages = syndicated.build(args.corpus, stories, copy_share=0.4)
    copies = corpus_copies(articles)
    truth = truth_of(pages, copies)
    kinds = Counter(k for p in pages for k in p.edits)
    print(f"{len(pages)} pages of {stories} stories ({sum(1 for p in pages if p.edits)} syndicated copies; edits: "
          f"{dict(sorted(kinds.items()))}); {len(copies)} pairs of source articles the corpus re-published; "
          f"{pair_scores(truth, truth)[3]} true copy pairs")
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "pages.jsonl")
        write_pages(pages, jsonl)
        configs = [("newsbeam (defaults)", DedupeConfig())]
        if args.sweep:
            for shingle, (perms, bands), threshold, contain in itertools.product(
                    (3, 5), ((128, 32), (120, 40), (192, 64)), (0.4, 0.5, 0.6), (0.8, 1.0)):
                if args.quick_sweep and (shingle, perms, contain) != (5, 120, 0.8):
                    continue
                configs.append((f"shingle {shingle}, {perms}/{bands} bands, J>={threshold}, C>={contain}",
                                DedupeConfig(shingle_size=shingle, permutations=perms, bands=bands,
                                             threshold=threshold, containment=contain)))
            configs.append(("exact only (--no-near-duplicates)", DedupeConfig(near=False)))
        print(f"\n{'method':58} {'precision':>9} {'recall':>7} {'pred pairs':>10} {'seconds':>7}")
        bodies = {}
        for i, (name, config) in enumerate(configs):
            clusters, got_bodies, seconds = run_newsbeam(jsonl, config, os.path.join(tmp, f"out-{i}.json"))
            bodies = bodies or got_bodies
            p, r, pred, _ = pair_scores(with_singletons(clusters, truth), truth)
            print(f"{name:58} {p:>9.3f} {r:>7.3f} {pred:>10} {seconds:>7.1f}", flush=True)
        texts = {f"p{i:06d}": page.page_text for i, page in enumerate(pages)}
        cleaned = {item: bodies.get(item, "") for item in texts}
        for label, source in (("raw page text", texts), ("C4-style cleaned", {k: c4_clean(v) for k, v in texts.items()}),
                              ("newsbeam-cleaned bodies", cleaned)):
            for threshold in (0.5, 0.7):
                start = time.perf_counter()
                clusters = datasketch_clusters(source, threshold)
                p, r, pred, _ = pair_scores(clusters, truth)
                print(f"{'datasketch MinHashLSH ' + str(threshold) + ', ' + label:58} {p:>9.3f} {r:>7.3f} {pred:>10} "
                      f"{time.perf_counter() - start:>7.1f}", flush=True)
    if args.scale:
        scale(args.corpus, args.scale)


if __name__ == "__main__":
    main()
