"""The line model: a small learned second opinion on which lines of a page are the article.

The rules (``clean_layout``) give every line a reason code, or none for a paragraph. Where they
stop, on layouts they were not written for, a gradient-boosted tree model looks at the same
line with its neighbours and decides again: keep it, or remove it as ``model_not_article``.
Its features are only what the rules already computed (reason codes, word counts, prose and
list flags, line values, the main run) plus a few character shares, taken over windows of
lines around each line, so it needs no words of any language.

The model ships in the package as ``models/line_model.json`` (trees as plain arrays, with its
version, the training settings and its cross-validated scores) and is read once per process.
``benchmarks/train_line_model.py`` retrains it from the two dev sets and rewrites that file.

The model only judges lines the rules kept and prose they left outside the main run
(``MAY_KEEP``); every other reason (the title, byline and date, boilerplate phrases, lines with
no letters or digits, lines learnt as the source's boilerplate) stands. Repeats are decided
again after it: only the first copy kept stays, later ones are ``duplicate``.
"""
from __future__ import annotations

import functools
import json
import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from transforms.clean.lines import Line

MODEL_PATH = Path(__file__).parent / "models" / "line_model.json"
FEATURES_VERSION = 3

# The reasons of the lines the rules consume as the title, byline and date.
CONSUMED = ("title", "byline", "date")
MODEL_REASON = "model_not_article"
# The rules' reasons the model may overturn: lines removed only for where they are or how they
# look (outside the main run, short, in a run of short lines). A line with a boilerplate phrase,
# a copy of the title, a byline or date stays removed.
MAY_KEEP = frozenset({"outside_main_text"})

# The reasons the model sees as their own columns; a line with any other reason has none of them set
# (its 'boilerplate' feature says whether the rules found a boilerplate phrase).
REASON_COLUMNS = ("none", "date", "share", "repeated_title", "outside_main_text", "navigation",
                  "link_list")
_REASON_COLUMN = {name: i for i, name in enumerate(REASON_COLUMNS)}
WINDOWS = (2, 5, 15)
NEIGHBOURS = (-3, -2, -1, 1, 2, 3)

_CLOSING_POINTS = np.array([ord(c) for c in '.!?"\u3002\u201d\u00bb\uff01\uff1f'], dtype=np.uint32)
# What each code point is, for code points up to U+0500 (every later one is a letter, not a capital).
_DIGIT, _CAPITAL, _LETTER = 1, 2, 4
_KIND = np.zeros(0x501, dtype=np.uint8)
_KIND[0x30:0x3A] = _DIGIT
_KIND[0x41:] = _LETTER
_KIND[0x5B:0x61] = 0
_KIND[0x7B:0xC0] = 0
for _low, _high in ((0x41, 0x5A), (0xC0, 0xD6), (0xD8, 0xDE), (0x391, 0x3A9), (0x400, 0x42F)):
    _KIND[_low:_high + 1] |= _CAPITAL
_LINE_FIELDS = operator.attrgetter("words", "sentence", "prose", "meta", "repeated")


def feature_names() -> list[str]:
    """The names of the feature columns, in order (written next to the model)."""
    names = [f"reason={name}" for name in REASON_COLUMNS]
    names += ["inside_run", "log_words", "log_chars", "sentence", "boilerplate", "meta", "repeated",
              "value", "position", "from_run_start", "to_run_end", "log_page_lines",
              "log_distance_to_run", "after_run", "run_word_share", "log_run_words", "digit_share",
              "upper_share", "bars", "ends_sentence", "commas_per_word", "starts_upper"]
    for k in WINDOWS:
        names += [f"w{k}_{what}" for what in ("value", "kept", "prose", "words", "value_before", "value_after")]
    for step in NEIGHBOURS:
        names += [f"n{step:+d}_{what}" for what in ("log_words", "value")]
    names += ["n-1_kept", "n+1_kept"]
    return names


def line_features(lines: list[Line], values: Sequence[float], reasons: list[str | None],
                  start: int, end: int) -> np.ndarray:
    """One row of features per line (``feature_names`` order).

    ``values`` are the rules' line values, ``reasons`` their reason per line (None for a
    paragraph, or one of ``CONSUMED``), ``lines[start:end]`` the main run.
    """
    n = len(lines)
    width = len(feature_names())
    if n == 0:
        return np.zeros((0, width))
    # Read from the Line objects in C (attrgetter), and from the page's code points with numpy.
    words, sentence, prose, meta, repeated = np.array([_LINE_FIELDS(line) for line in lines],
                                                      dtype=float).reshape(n, 5).T
    boilerplate = np.fromiter((line.boilerplate is not None for line in lines), dtype=float, count=n)
    text = _text_counts([line.text for line in lines])
    chars = text["chars"]
    index = np.arange(n, dtype=float)
    value = np.asarray(values, dtype=float)
    kept = np.fromiter((r is None for r in reasons), dtype=float, count=n)
    log_words = np.log1p(words)
    inside = (index >= start) & (index < end)
    distance = np.where(inside, 0, np.where(index < start, start - index, index - end + 1))
    cum_words = np.concatenate([[0.0], np.cumsum(words)])
    run_words = cum_words[end] - cum_words[start]

    out = np.empty((n, width))
    reasons_at = len(REASON_COLUMNS)
    out[:, :reasons_at] = 0.0
    columns = [_REASON_COLUMN.get(r or "none", -1) for r in reasons]
    rows = [i for i, c in enumerate(columns) if c >= 0]
    out[rows, [columns[i] for i in rows]] = 1.0
    col = reasons_at
    for series in (inside, log_words, np.log1p(chars), sentence, boilerplate, meta, repeated, value, index / n,
                   (index - start) / n, (end - index) / n, math.log1p(n), np.log1p(distance), index >= end,
                   run_words / max(1.0, cum_words[-1]), math.log1p(run_words),
                   text["digits"] / np.maximum(1.0, chars), text["capitals"] / np.maximum(1.0, text["letters"]),
                   text["bars"] > 0, text["ends_closing"], text["commas"] / np.maximum(1.0, words),
                   text["starts_capital"]):
        out[:, col] = series
        col += 1
    series = np.vstack([value, kept, prose, words])
    cum = np.concatenate([np.zeros((4, 1)), np.cumsum(series, axis=1)], axis=1)
    positions = np.arange(n)
    for k in WINDOWS:
        lo, hi = np.maximum(0, positions - k), np.minimum(n, positions + k + 1)
        out[:, col:col + 4] = ((cum[:, hi] - cum[:, lo]) / (hi - lo)).T
        out[:, col + 4] = cum[0, :-1] - cum[0, lo]
        out[:, col + 5] = cum[0, hi] - cum[0, 1:]
        col += 6
    # The neighbours' figures: each series padded past both ends with its 'no line here' value.
    reach = max(abs(step) for step in NEIGHBOURS)

    def padded(series: np.ndarray, missing: float) -> np.ndarray:
        return np.concatenate([np.full(reach, missing), series, np.full(reach, missing)])

    padded_words, padded_values, padded_kept = padded(log_words, -1.0), padded(value, -20.0), padded(kept, -1.0)
    for step in NEIGHBOURS:
        out[:, col] = padded_words[reach + step:reach + step + n]
        out[:, col + 1] = padded_values[reach + step:reach + step + n]
        col += 2
    for step in (-1, 1):
        out[:, col] = padded_kept[reach + step:reach + step + n]
        col += 1
    assert col == width
    return out


def _text_counts(texts: list[str]) -> dict[str, np.ndarray]:
    """Per line, from the code points of the page: its length, digits, capital letters (Latin,
    Greek, Cyrillic), letters (any code point from U+0041 on that is not ASCII punctuation), '|'
    and ',' characters, whether it ends like a sentence and whether it starts with a capital."""
    chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum(chars)
    starts = ends - chars
    filled = chars > 0

    def per_line(mask: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        return (cum[ends] - cum[starts]).astype(float)

    kind = _KIND[np.minimum(points, len(_KIND) - 1)]
    capitals, letters = (kind & _CAPITAL) > 0, (kind & _LETTER) > 0
    last = np.where(filled, ends - 1, 0)
    first = np.where(filled, starts, 0)
    return {
        "chars": chars.astype(float),
        "digits": per_line((kind & _DIGIT) > 0),
        "capitals": per_line(capitals),
        "letters": per_line(letters),
        "bars": per_line(points == 0x7C),
        "commas": per_line(points == 0x2C),
        "ends_closing": filled & np.isin(points[last], _CLOSING_POINTS) if len(points) else filled,
        "starts_capital": filled & capitals[first] if len(points) else filled,
    }


@dataclass(frozen=True)
class LineModel:
    """Gradient-boosted trees, each laid out as a complete binary tree of the model's depth (a leaf
    higher up is copied into every leaf below it), so that all trees are walked at once."""

    version: str
    threshold: float         # a line the rules kept stays when its probability is above this
    rescue_threshold: float  # a line the rules removed (``MAY_KEEP``) comes back above this
    baseline: float
    depth: int
    feature: np.ndarray      # (trees, 2**depth - 1) feature index of each split, breadth first
    split: np.ndarray        # (trees, 2**depth - 1) go left when x <= split
    leaf: np.ndarray         # (trees, 2**depth) leaf values (log-odds)

    @classmethod
    def from_dict(cls, data: dict) -> "LineModel":
        """Read the structure ``benchmarks/train_line_model.py`` writes: per tree, node lists
        ``feature``, ``split``, ``left``, ``right`` (a leaf points to itself) and ``value``."""
        if data.get("features_version") != FEATURES_VERSION or data.get("features") != feature_names():
            raise ValueError("the line model was trained on other features than this code computes: "
                             "retrain it with benchmarks/train_line_model.py")
        depth = int(data["depth"])
        inner = 2 ** depth - 1
        trees = data["trees"]
        feature = np.zeros((len(trees), inner), dtype=np.int64)
        split = np.full((len(trees), inner), np.inf)
        leaf = np.zeros((len(trees), inner + 1))
        for row, tree in enumerate(trees):
            todo = [(0, 0, 0)]  # (node in the tree, place in the complete tree, level)
            while todo:
                node, place, level = todo.pop()
                if tree["left"][node] == node:  # a leaf: fill every leaf below its place
                    first = place
                    for _ in range(depth - level):
                        first = 2 * first + 1
                    width = 2 ** (depth - level)
                    leaf[row, first - inner:first - inner + width] = tree["value"][node]
                    continue
                if level >= depth:
                    raise ValueError(f"tree {row} is deeper than the model's depth {depth}")
                feature[row, place] = tree["feature"][node]
                split[row, place] = tree["split"][node]
                todo.append((tree["left"][node], 2 * place + 1, level + 1))
                todo.append((tree["right"][node], 2 * place + 2, level + 1))
        return cls(version=data.get("version", "unversioned"), threshold=float(data["threshold"]),
                   rescue_threshold=float(data.get("rescue_threshold", data["threshold"])),
                   baseline=float(data["baseline"]), depth=depth, feature=feature, split=split, leaf=leaf)

    def probabilities(self, features: np.ndarray, chunk: int = 2048) -> np.ndarray:
        """The model's probability that each row's line belongs to the article, ``chunk`` lines at
        a time (the walk holds trees x nodes x lines comparisons: about 5 KB a line)."""
        if features.shape[0] > chunk:
            return np.concatenate([self.probabilities(features[i:i + chunk], chunk)
                                   for i in range(0, features.shape[0], chunk)])
        n, (trees, inner) = features.shape[0], self.feature.shape
        if n == 0:
            return np.zeros(0)
        # Every split of every tree on every line at once, laid out (tree, node, line) and flat.
        left = (features.T[self.feature.ravel()] <= self.split.reshape(-1, 1)).ravel()
        first = np.arange(trees)[:, None] * (inner * n) + np.arange(n)[None, :]  # (tree, node 0, line)
        place = np.zeros((trees, n), dtype=np.int64)
        for _ in range(self.depth):
            place = 2 * place + 2 - left[first + place * n]  # left child 2p+1, right child 2p+2
        leaves = self.leaf.ravel()[np.arange(trees)[:, None] * (inner + 1) + place - inner]
        raw = self.baseline + leaves.sum(axis=0)
        return 1.0 / (1.0 + np.exp(-raw))


@functools.lru_cache(maxsize=1)
def load_line_model(path: str = str(MODEL_PATH)) -> LineModel:
    """The shipped line model, read once per process."""
    with open(path, encoding="utf-8") as handle:
        return LineModel.from_dict(json.load(handle))


def apply_line_model(model: LineModel, lines: list[Line], values: Sequence[float],
                     reasons: list[str | None], start: int, end: int) -> list[str | None]:
    """The reasons after the model's second opinion: a line the model scores above its threshold
    is kept (None), one below is removed (its rules reason, or ``MODEL_REASON`` when the rules
    kept it). Lines with other reasons than ``MAY_KEEP`` are left as they are. Repeats are
    decided again: a copy the rules called a ``duplicate`` is judged like a line they kept, and the
    first copy the model keeps is the one kept, so a text the model removes once is not lost when
    a later copy is kept; every later copy of a kept line is a ``duplicate``."""
    scores = model.probabilities(line_features(lines, values, reasons, start, end))
    decided: list[str | None] = []
    seen: set[str] = set()
    for line, reason, score in zip(lines, reasons, scores):
        if reason == "duplicate":
            reason = None
        if reason is not None and reason not in MAY_KEEP:
            decided.append(reason)
        elif score <= (model.threshold if reason is None else model.rescue_threshold):
            decided.append(reason if reason is not None else MODEL_REASON)
        elif line.text in seen:
            decided.append("duplicate")
        else:
            decided.append(None)
            seen.add(line.text)
    return decided
