#!/usr/bin/env python3
"""Retrain the cleaner's line model (``transforms/clean/models/line_model.json``) and report its
cross-validated scores.

usage: python benchmarks/train_line_model.py [--english FILE] [--multilingual FILE] [--out FILE]
                                             [--folds 5] [--check-only]

Needs scikit-learn (``pip install -e '.[dev]'``); the pipeline itself does not: it reads the
trees from the JSON file with numpy.

Training data: every page of both dev sets is cleaned by the rules alone (``line_model=False``)
and each line gets ``clean_model.line_features``. Labels:

* English dev (``gold_body``): a line is article when its text appears in the gold body, else
  not; every line is labelled. These lines weigh ``--english-weight`` each (many lines per page).
* Multilingual dev (``with``/``without`` snippets): a line that contains a ``with`` snippet is
  article, one that contains a ``without`` snippet is not; other lines are left out.

Cross-validation: pages are split into ``--folds`` folds by their site (the host of their
``url``, by CRC-32), in both sets together, so that no site, and no page that is in a set twice,
has pages on both sides of a split; for each fold a model is trained on the other
folds and applied, exactly as the pipeline applies it (``clean_model.apply_line_model``), to the
fold's pages. The scores printed and stored in the model file are those of the held-out folds,
scored as ``benchmarks/cleaning.py`` scores (shingles for English, snippets for multilingual),
next to the rules alone on the same pages. The model written at the end is trained on all pages.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from benchmarks.cleaning import DEFAULT_GOLD, _normal, score_page, summarise_pages
from transforms.clean.layout import place_lines, read_page
from transforms.clean.model import (
    FEATURES_VERSION, MODEL_PATH, LineModel, apply_line_model, feature_names, line_features)

SETTINGS = dict(max_depth=4, min_samples_leaf=20, early_stopping=False, random_state=0)


class Page:
    """One dev page as the rules see it: its lines, features, labels and gold."""

    def __init__(self, row: dict):
        self.row = row
        self.lines, layout, _, self.reasons = read_page(row["page_text"])
        self.values, self.start, self.end = layout.values, layout.start, layout.end
        self.features = line_features(self.lines, self.values, self.reasons, self.start, self.end)
        self.labels = self._labels()

    def _labels(self) -> np.ndarray:
        """1 article, 0 not, -1 unknown (left out of training)."""
        texts = [_normal(line.text) for line in self.lines]
        if "gold_body" in self.row:
            gold = _normal(self.row["gold_body"])
            return np.array([1.0 if text and text in gold else 0.0 for text in texts])
        labels = np.full(len(texts), -1.0)
        for k, text in enumerate(texts):
            if any(_normal(s) in text for s in self.row.get("without", [])):
                labels[k] = 0.0
            if any(_normal(s) in text for s in self.row.get("with", [])):
                labels[k] = 1.0
        return labels

    def fold(self, folds: int, salt: str = "") -> int:
        """The page's cross-validation fold: by the host of its URL (www. dropped); another
        ``salt`` deals the sites into other folds."""
        host = urlsplit(str(self.row.get("url") or self.row.get("id") or "")).hostname or ""
        host = host[4:] if host.startswith("www.") else host
        return zlib.crc32((salt + host).encode("utf-8")) % folds

    def body(self, model: LineModel | None) -> str:
        reasons = self.reasons if model is None else apply_line_model(
            model, self.lines, self.values, self.reasons, self.start, self.end)
        return "\n\n".join(place_lines(self.lines, reasons)[0])

    def score(self, model: LineModel | None):
        return score_page(self.row, self.body(model))


def export(classifier, threshold: float, rescue_threshold: float) -> dict:
    """A fitted HistGradientBoostingClassifier as the JSON structure ``LineModel.from_dict`` reads."""
    trees, depth = [], 0
    for (predictor,) in classifier._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        own = np.arange(len(nodes))
        trees.append({
            "feature": nodes["feature_idx"].astype(int).tolist(),
            "split": [float(x) for x in nodes["num_threshold"]],
            "left": np.where(leaf, own, nodes["left"]).astype(int).tolist(),
            "right": np.where(leaf, own, nodes["right"]).astype(int).tolist(),
            "value": [float(x) if is_leaf else 0.0 for x, is_leaf in zip(nodes["value"], leaf)],
        })
        depth = max(depth, int(nodes["depth"].max()))
    return {"features_version": FEATURES_VERSION, "features": feature_names(), "threshold": threshold,
            "rescue_threshold": rescue_threshold,
            "baseline": float(np.ravel(classifier._baseline_prediction)[0]), "depth": depth, "trees": trees}


def fit(pages: list[Page], english_weight: float, trees: int, learning_rate: float):
    from sklearn.ensemble import HistGradientBoostingClassifier

    xs, ys, ws = [], [], []
    for page in pages:
        known = page.labels >= 0
        xs.append(page.features[known])
        ys.append(page.labels[known])
        ws.append(np.full(int(known.sum()), english_weight if "gold_body" in page.row else 1.0))
    classifier = HistGradientBoostingClassifier(max_iter=trees, learning_rate=learning_rate, **SETTINGS)
    classifier.fit(np.vstack(xs), np.concatenate(ys), sample_weight=np.concatenate(ws))
    return classifier


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--english", default=DEFAULT_GOLD[0], help="pages with gold_body (dev.jsonl)")
    parser.add_argument("--multilingual", default=DEFAULT_GOLD[1],
                        help="pages with with/without snippets (multilingual-dev.jsonl)")
    parser.add_argument("--out", default=str(MODEL_PATH), help="where to write the model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--split", default="", help="deal the sites into other folds (any text)")
    parser.add_argument("--threshold", type=float, default=0.25, help="keep a line above this probability")
    parser.add_argument("--rescue-threshold", type=float, default=0.65,
                        help="bring back a line the rules removed above this probability")
    parser.add_argument("--english-weight", type=float, default=0.3,
                        help="weight of one English line against one multilingual snippet line")
    parser.add_argument("--trees", type=int, default=40, help="boosting rounds (one tree each)")
    parser.add_argument("--learning-rate", type=float, default=0.2)
    parser.add_argument("--check-only", action="store_true", help="cross-validate, do not write a model")
    args = parser.parse_args(argv)

    sets = {}
    for name, path in (("english", args.english), ("multilingual", args.multilingual)):
        rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        sets[name] = [Page(row) for row in rows]
        print(f"{name}: {len(rows)} pages from {path}, "
              f"{sum(int((p.labels >= 0).sum()) for p in sets[name])} labelled lines", flush=True)

    held_out = {name: [None] * len(pages) for name, pages in sets.items()}
    for fold in range(args.folds):
        train = [p for pages in sets.values() for p in pages if p.fold(args.folds, args.split) != fold]
        if not train or len(train) == sum(len(pages) for pages in sets.values()):
            raise SystemExit(f"fold {fold + 1} of {args.folds} holds no site or every site: the pages "
                             f"come from too few sites for {args.folds} folds (use fewer folds, or pages from more sites)")
        classifier = fit(train, args.english_weight, args.trees, args.learning_rate)
        model = LineModel.from_dict(export(classifier, args.threshold, args.rescue_threshold))
        for name, pages in sets.items():
            for i, page in enumerate(pages):
                if page.fold(args.folds, args.split) == fold:
                    held_out[name][i] = page.score(model)
        print(f"fold {fold + 1}/{args.folds} done", flush=True)

    cv = {}
    for name, pages in sets.items():
        rows = [page.row for page in pages]
        rules = summarise_pages(rows, [page.score(None) for page in pages])
        model = summarise_pages(rows, held_out[name])
        cv[name] = {"rules_f1": round(rules["f1"], 4), "cv_f1": round(model["f1"], 4),
                    "cv_precision": round(model["precision"], 4), "cv_recall": round(model["recall"], 4),
                    "pages": len(pages)}
        print(f"{name}: rules alone F1 {rules['f1']:.4f} (P {rules['precision']:.4f} R {rules['recall']:.4f}); "
              f"rules + model, {args.folds}-fold cross-validated F1 {model['f1']:.4f} "
              f"(P {model['precision']:.4f} R {model['recall']:.4f})")
    if args.check_only:
        return 0

    classifier = fit([p for pages in sets.values() for p in pages], args.english_weight, args.trees,
                     args.learning_rate)
    data = export(classifier, args.threshold, args.rescue_threshold)
    check = np.vstack([p.features for p in sets["multilingual"][:20]])
    ours = LineModel.from_dict(data).probabilities(check)
    theirs = classifier.predict_proba(check)[:, 1]
    if not np.allclose(ours, theirs, atol=1e-9):
        raise SystemExit(f"exported trees disagree with scikit-learn by up to {np.abs(ours - theirs).max():.2e}")
    import sklearn

    data = {"version": datetime.date.today().isoformat(), "trained_on": {
        name: Path(getattr(args, name)).name for name in sets},
        "settings": dict(SETTINGS, trees=args.trees, learning_rate=args.learning_rate,
                         english_weight=args.english_weight, folds=args.folds, split=args.split,
                         scikit_learn=sklearn.__version__),
        "cross_validated": cv, **data}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(data, handle, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {args.out}: {len(data['trees'])} trees of depth <= {data['depth']}, "
          f"{Path(args.out).stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
