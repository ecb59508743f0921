#!/usr/bin/env python3
"""Measure ``transforms.clean.rules.clean_page`` against human-annotated article bodies.

usage: python benchmarks/cleaning.py [GOLD.jsonl ...] [--pred-out FILE] [--per-doc] [--ner] [--json]

Each GOLD.jsonl has one page a line with ``id`` (or ``url``) and ``page_text``; by default the two
dev sets in ``../shared/eval/cleaning`` (the English article-extraction benchmark's ``dev.jsonl``
and the multilingual ``multilingual-dev.jsonl``), scored in one run. The predicted text is
``clean_page(page_text).body``. A file whose pages have ``gold_body`` is scored the
article-extraction-benchmark way (shingle method):

* a text is split into tokens, each a run of word characters (``\\w+``, case kept);
* each text becomes a multiset of 4-token shingles (a text shorter than four tokens is a
  single shingle made of all its tokens; an empty text has none);
* per page, true positives are the shingles common to both multisets, false positives the
  surplus in the prediction, false negatives the surplus in the gold; the three counts are
  divided by their sum;
* precision and recall are averaged over pages (a page with nothing predicted and nothing
  missed counts as precision 1, nothing in gold and nothing predicted as recall 1), and F1 is
  the harmonic mean of the two averages.

A file whose pages have ``with`` and ``without`` snippets is scored the trafilatura evaluation way
(snippet method, as ``../shared/tools/score_cleaning.py`` does): whitespace collapsed, each ``with``
snippet found in the body is a true positive, each missing one a false negative, each ``without``
snippet found a false positive; micro precision, recall and F1.

Each file is scored twice: with the rules alone (``clean_page(..., line_model=False)``) and as the
pipeline cleans (the rules and the shipped line model, ``transforms/clean/model.py``). The line
model was trained on these two dev sets, so its score here is a training score; the script prints
next to it the model's cross-validated scores, stored in the model file by
``benchmarks/train_line_model.py`` (each page scored by a model that never saw it): those are the
figures to expect on pages never seen.

It also prints the median milliseconds spent cleaning one page (as the pipeline cleans) and the time taken to clean
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

from transforms.clean.model import MODEL_PATH
from transforms.clean.lines import forget_described_lines
from transforms.clean.rules import clean_page

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


SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "cleaning"
DEFAULT_GOLD = [str(SHARED / "dev.jsonl"), str(SHARED / "multilingual-dev.jsonl")]


def _normal(text: str) -> str:
    return " ".join((text or "").split())


def snippet_counts(row: dict, predicted: str) -> tuple[int, int, int]:
    """(tp, fp, fn) of one page by the snippet method: each ``with`` snippet found in the prediction
    (whitespace collapsed) is a tp, each missing one a fn; each ``without`` snippet found is a fp."""
    out = _normal(predicted)
    found = [_normal(snippet) in out for snippet in row.get("with", [])]
    return sum(found), sum(_normal(snippet) in out for snippet in row.get("without", [])), found.count(False)


def snippet_summary(counts: list[tuple[int, int, int]]) -> dict:
    """Micro precision, recall and F1 over all snippets of all pages."""
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    return {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "docs": len(counts)}


def score_page(row: dict, body: str):
    """A page's counts: by shingles when it has a ``gold_body``, else by its ``with``/``without`` snippets."""
    if "gold_body" in row:
        return page_fractions(row["gold_body"], body)
    return snippet_counts(row, body)


def summarise_pages(rows: list[dict], scores: list) -> dict:
    """The figures of one file's pages, from their ``score_page`` counts."""
    return summarise(scores) if "gold_body" in rows[0] else snippet_summary(scores)


def score_file(path: str, args) -> tuple[dict, list[float], list[float], list[dict]]:
    """Clean every page of one gold file and score it: by shingles when its pages have
    ``gold_body``, by snippets when they have ``with``/``without``."""
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    by_snippet = "gold_body" not in rows[0]
    fractions, rules_fractions, millis, rules_millis, per_2k, predictions = [], [], [], [], [], []
    # Two passes, each from a cold start (the rules remember short lines across pages): the rules
    # alone, then the rules and the line model as the pipeline cleans.
    forget_described_lines()
    for row in rows:
        start = time.perf_counter()
        rules_body = clean_page(row["page_text"], line_model=False).body
        rules_millis.append((time.perf_counter() - start) * 1000)
        rules_fractions.append(score_page(row, rules_body))
    forget_described_lines()
    for row, rules_score in zip(rows, rules_fractions):
        key = str(row.get("id") or row.get("url"))
        start = time.perf_counter()
        body = clean_page(row["page_text"]).body
        millis.append((time.perf_counter() - start) * 1000)
        per_2k.append(millis[-1] * 2048 / max(1, len(row["page_text"].encode("utf-8"))))
        predictions.append({"id": key, "text": body})
        fractions.append(score_page(row, body))
        if args.per_doc:
            print(f"{key[:60]}  {fractions[-1]}  (rules alone {rules_score})")
    scores = summarise_pages(rows, fractions)
    scores["rules"] = summarise_pages(rows, rules_fractions)
    scores["method"] = "snippet" if by_snippet else "shingle"
    scores["rules_median_ms"] = statistics.median(rules_millis)
    scores["median_kib"] = statistics.median(len(r["page_text"].encode("utf-8")) for r in rows) / 1024
    return scores, millis, per_2k, predictions


def main(argv: list[str] | None = None) -> int:
    """Clean every page of each gold file, score the results and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", default=DEFAULT_GOLD,
                        help="JSONL files: pages with gold_body (shingle method) or with/without (snippet "
                             "method); default: the two dev sets in ../shared/eval/cleaning")
    parser.add_argument("--pred-out", help="write the predicted bodies here as JSONL {id, text}")
    parser.add_argument("--per-doc", action="store_true", help="print the counts of every page")
    parser.add_argument("--ner", action="store_true", help="also time NER on the cleaned bodies and compare")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args(argv)

    model = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    cross_validated = {model["trained_on"][name]: figures for name, figures in model["cross_validated"].items()}
    results, all_millis, all_per_2k, predictions = {}, [], [], []
    for path in args.gold:
        scores, millis, per_2k, preds = score_file(path, args)
        name = Path(path).name
        results[name] = scores
        all_millis += millis
        all_per_2k += per_2k
        predictions += preds
        rules = scores["rules"]
        print(f"{name}: {scores['docs']} pages, {scores['method']} method; median page {scores['median_kib']:.1f} KiB, "
              f"cleaned in a median {statistics.median(millis):.2f} ms "
              f"({scores['rules_median_ms']:.2f} ms by the rules alone)")
        print(f"  rules alone:         precision {rules['precision']:.4f}  recall {rules['recall']:.4f}  "
              f"F1 {rules['f1']:.4f}")
        seen = " (the model was trained on these pages)" if name in cross_validated else ""
        print(f"  rules + line model:  precision {scores['precision']:.4f}  recall {scores['recall']:.4f}  "
              f"F1 {scores['f1']:.4f}{seen}")
        if name in cross_validated:
            cv = cross_validated[name]
            scores["cross_validated"] = cv
            print(f"  rules + model, {model['settings']['folds']}-fold cross-validated (model {model['version']}): "
                  f"precision {cv['cv_precision']:.4f}  recall {cv['cv_recall']:.4f}  F1 {cv['cv_f1']:.4f}")

    if args.pred_out:
        with open(args.pred_out, "w", encoding="utf-8") as out:
            for prediction in predictions:
                out.write(json.dumps(prediction, ensure_ascii=False) + "\n")

    print(f"all pages: median ms/page {statistics.median(all_millis):.2f} (max {max(all_millis):.1f} ms); "
          f"median ms per 2 KiB: {statistics.median(all_per_2k):.2f}")
    for name, seconds in time_adversarial().items():
        print(f"1 MB adversarial line {name!r}: {seconds * 1000:.0f} ms")
    figures = {"files": results, "clean_median_ms": statistics.median(all_millis)}
    if args.ner:
        ner_millis = time_ner([p["text"] for p in predictions])
        share = statistics.median(all_millis) / statistics.median(ner_millis)
        figures.update(ner_median_ms=statistics.median(ner_millis), clean_share_of_ner=share)
        print(f"NER median ms/article: {statistics.median(ner_millis):.1f} (English model, as the stage loads it); "
              f"cleaning costs {share:.1%} of NER per article (target: under 10%)")
    if args.json:
        print(json.dumps(figures))
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
