#!/usr/bin/env python3
"""Measure ``transforms.clean_rules.clean_page`` against human-annotated article bodies.

usage: python benchmarks/cleaning.py GOLD.jsonl [--pred-out FILE] [--per-doc] [--ner]

GOLD.jsonl has one page a line with ``id`` (or ``url``), ``page_text`` and ``gold_body``.
The score is the article-extraction-benchmark shingle method:

* a text is split into tokens, each a run of word characters (``\\w+``, case kept);
* each text becomes a multiset of 4-token shingles (a text shorter than four tokens is a
  single shingle made of all its tokens; an empty text has none);
* per page, true positives are the shingles common to both multisets, false positives the
  surplus in the prediction, false negatives the surplus in the gold; the three counts are
  divided by their sum;
* precision and recall are averaged over pages (a page with nothing predicted and nothing
  missed counts as precision 1, nothing in gold and nothing predicted as recall 1), and F1 is
  the harmonic mean of the two averages.

It also prints the median milliseconds spent cleaning one page and the time taken to clean
adversarial one-megabyte lines. With ``--ner`` it also runs the pipeline's English NER model
(loaded as the Extract Entities stage loads it: tok2vec and ner only) on every cleaned body, one
article at a time, and prints the median cost of cleaning as a share of the median cost of NER.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from transforms.clean_rules import clean_page  # noqa: E402

_WORD = re.compile(r"\w+")
_SHINGLE = 4


def shingle_bag(text: str) -> Counter:
    """Return the multiset of 4-token shingles of ``text``."""
    tokens = _WORD.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < _SHINGLE:
        return Counter({tuple(tokens): 1})
    return Counter(tuple(tokens[i:i + _SHINGLE]) for i in range(len(tokens) - _SHINGLE + 1))


def page_fractions(gold: str, predicted: str) -> tuple[float, float, float]:
    """Return (tp, fp, fn) for one page, normalised so that they sum to one."""
    gold_bag, pred_bag = shingle_bag(gold), shingle_bag(predicted)
    hits = sum((gold_bag & pred_bag).values())
    extra = sum((pred_bag - gold_bag).values())
    missed = sum((gold_bag - pred_bag).values())
    total = hits + extra + missed
    if not total:
        return 0.0, 0.0, 0.0
    return hits / total, extra / total, missed / total


def page_precision(tp: float, fp: float, fn: float) -> float | None:
    """Precision of one page, or None when the page does not count towards the mean."""
    if tp + fp > 0:
        return tp / (tp + fp)
    return 1.0 if fn == 0 else None


def page_recall(tp: float, fp: float, fn: float) -> float | None:
    """Recall of one page, or None when the page does not count towards the mean."""
    if tp + fn > 0:
        return tp / (tp + fn)
    return 1.0 if fp == 0 else None


def summarise(fractions: list[tuple[float, float, float]]) -> dict:
    """Average per-page precision and recall, and take F1 of the two averages."""
    precisions = [p for p in (page_precision(*f) for f in fractions) if p is not None]
    recalls = [r for r in (page_recall(*f) for f in fractions) if r is not None]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "docs": len(fractions)}


def adversarial_lines(size: int = 10**6) -> dict[str, str]:
    """One-megabyte single lines built from the characters the cleaning rules look for."""
    return {
        "dashes": "-" * size,
        "spaces": "a" + " " * size + "b",
        "sentences": "a." * (size // 2),
        "pipes": "|" * size,
        "words": "word " * (size // 5),
        "by_name": "By " + "Jane " * (size // 5),
        "digits": "2019-11-20 " * (size // 11),
        "copyright": "© " * (size // 2),
    }


def time_adversarial() -> dict[str, float]:
    """Seconds taken by clean_page on each adversarial line."""
    timings = {}
    for name, line in adversarial_lines().items():
        start = time.perf_counter()
        clean_page(line)
        timings[name] = time.perf_counter() - start
    return timings


def main(argv: list[str] | None = None) -> int:
    """Clean every page of the gold file, score the result and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", help="JSONL with id/url, page_text and gold_body")
    parser.add_argument("--pred-out", help="write the predicted bodies here as JSONL {id, text}")
    parser.add_argument("--per-doc", action="store_true", help="print the F1 of every page")
    parser.add_argument("--ner", action="store_true", help="also time NER on the cleaned bodies and compare")
    args = parser.parse_args(argv)

    rows = [json.loads(line) for line in open(args.gold, encoding="utf-8") if line.strip()]
    fractions, millis, per_2k, predictions = [], [], [], []
    for row in rows:
        key = str(row.get("id") or row.get("url"))
        start = time.perf_counter()
        body = clean_page(row["page_text"]).body
        millis.append((time.perf_counter() - start) * 1000)
        per_2k.append(millis[-1] * 2048 / max(1, len(row["page_text"].encode("utf-8"))))
        predictions.append({"id": key, "text": body})
        fractions.append(page_fractions(row.get("gold_body", ""), body))
        if args.per_doc:
            p, r = page_precision(*fractions[-1]) or 0.0, page_recall(*fractions[-1]) or 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            print(f"{key[:12]}  P={p:.3f} R={r:.3f} F1={f1:.3f}  {row.get('url', '')}")

    if args.pred_out:
        with open(args.pred_out, "w", encoding="utf-8") as out:
            for prediction in predictions:
                out.write(json.dumps(prediction, ensure_ascii=False) + "\n")

    scores = summarise(fractions)
    sizes = [len(row["page_text"].encode("utf-8")) for row in rows]
    print(f"pages:      {scores['docs']}")
    print(f"precision:  {scores['precision']:.4f}")
    print(f"recall:     {scores['recall']:.4f}")
    print(f"f1:         {scores['f1']:.4f}")
    print(f"median ms/page: {statistics.median(millis):.2f} "
          f"(median page {statistics.median(sizes) / 1024:.1f} KiB, max {max(millis):.1f} ms); "
          f"median ms per 2 KiB: {statistics.median(per_2k):.2f}")
    for name, seconds in time_adversarial().items():
        print(f"1 MB adversarial line {name!r}: {seconds * 1000:.0f} ms")
    if args.ner:
        ner_millis = time_ner([p["text"] for p in predictions])
        print(f"NER median ms/article: {statistics.median(ner_millis):.1f} (English model, tok2vec+ner); "
              f"cleaning costs {statistics.median(millis) / statistics.median(ner_millis):.1%} of NER per article "
              f"(target: under 10%)")
    return 0


def time_ner(bodies: list[str]) -> list[float]:
    """Milliseconds the pipeline's English NER model takes per cleaned body."""
    from transforms.entities import DEFAULT_MODELS, load_model

    nlp = load_model(DEFAULT_MODELS["en"])
    nlp("Warm-up sentence about London.")
    millis = []
    for body in bodies:
        start = time.perf_counter()
        nlp(body)
        millis.append((time.perf_counter() - start) * 1000)
    return millis


if __name__ == "__main__":
    sys.exit(main())
