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

Lines the rules consume as the title, byline or date, lines with no letters or digits, and
lines learnt as the source's boilerplate (``recurring_in_source``) are never changed by the
model; a second copy of a kept
line stays a ``duplicate``.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transforms.clean_lines import Line

MODEL_PATH = Path(__file__).parent / "models" / "line_model.json"
FEATURES_VERSION = 2

# Lines the rules consume or learnt from the run: the model never changes them.
CONSUMED = ("title", "byline", "date")
FIXED_REASONS = frozenset(CONSUMED) | {"recurring_in_source", "no_text"}
MODEL_REASON = "model_not_article"
# The rules' reasons the model may overturn: lines removed only for where they are or how they
# look (outside the main run, short, in a run of short lines). A line with a boilerplate phrase,
# a copy of the title, a byline or date stays removed.
MAY_KEEP = frozenset({"outside_main_text"})

# The reasons the model sees as their own columns (any other reason is the 'boilerplate' column).
REASON_COLUMNS = ("none", "date", "share", "repeated_title", "outside_main_text", "navigation",
                  "link_list")
WINDOWS = (2, 5, 15)
NEIGHBOURS = (-3, -2, -1, 1, 2, 3)

_CLOSING = (".", "!", "?", "\u3002", '"', "\u201d", "\u00bb", "\uff01", "\uff1f")


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


def line_features(lines: list[Line], values: list[float], reasons: list[str | None],
                  start: int, end: int) -> np.ndarray:
    """One row of features per line (``feature_names`` order).

    ``values`` are the rules' line values, ``reasons`` their reason per line (None for a
    paragraph, or one of ``CONSUMED``), ``lines[start:end]`` the main run.
    """
    n = len(lines)
    if n == 0:
        return np.zeros((0, len(feature_names())))
    index = np.arange(n, dtype=float)
    value = np.asarray(values, dtype=float)
    kept = np.array([r is None for r in reasons], dtype=float)
    words = np.array([line.words for line in lines], dtype=float)
    log_words = np.log1p(words)
    prose = np.array([line.prose for line in lines], dtype=float)
    reason_column = {name: i for i, name in enumerate(REASON_COLUMNS)}
    onehot = np.zeros((n, len(REASON_COLUMNS) + 1))
    onehot[np.arange(n), [reason_column.get(r or "none", len(REASON_COLUMNS)) for r in reasons]] = 1.0
    texts = [line.text for line in lines]
    chars = np.array([len(t) for t in texts], dtype=float)
    digits, capitals, letters = _char_counts(texts, chars)
    inside = (index >= start) & (index < end)
    distance = np.where(inside, 0, np.where(index < start, start - index, index - end + 1))
    cum_words = np.concatenate([[0.0], np.cumsum(words)])
    run_words = cum_words[end] - cum_words[start]
    columns = [
        onehot[:, :-1], inside, log_words, np.log1p(chars),
        [line.sentence for line in lines], [line.boilerplate is not None for line in lines],
        [line.meta for line in lines], [line.repeated for line in lines], value,
        index / n, (index - start) / n, (end - index) / n, np.full(n, math.log1p(n)),
        np.log1p(distance), index >= end,
        np.full(n, run_words / max(1.0, cum_words[-1])), np.full(n, math.log1p(run_words)),
        digits / np.maximum(1.0, chars), capitals / np.maximum(1.0, letters),
        ["|" in t for t in texts], [t.endswith(_CLOSING) for t in texts],
        [t.count(",") for t in texts] / np.maximum(1.0, words),
        [t[:1].isupper() for t in texts],
    ]
    cum = {}
    for name, series in (("value", value), ("kept", kept), ("prose", prose), ("words", words)):
        cum[name] = np.concatenate([[0.0], np.cumsum(series)])
    for k in WINDOWS:
        lo = np.maximum(0, np.arange(n) - k)
        hi = np.minimum(n, np.arange(n) + k + 1)
        width = hi - lo
        for name in ("value", "kept", "prose", "words"):
            columns.append((cum[name][hi] - cum[name][lo]) / width)
        columns.append(cum["value"][:-1] - cum["value"][lo])
        columns.append(cum["value"][hi] - cum["value"][1:])
    for step in NEIGHBOURS:
        columns.append(_shifted(log_words, step, -1.0))
        columns.append(_shifted(value, step, -20.0))
    columns.append(_shifted(kept, -1, -1.0))
    columns.append(_shifted(kept, 1, -1.0))
    return np.column_stack([np.asarray(c, dtype=float).reshape(n, -1) for c in columns])


def _shifted(series: np.ndarray, step: int, missing: float) -> np.ndarray:
    """``series[i + step]`` at ``i``, ``missing`` past either end."""
    n = len(series)
    out = np.full(n, missing)
    if abs(step) >= n:
        return out
    if step < 0:
        out[-step:] = series[:n + step]
    else:
        out[:n - step] = series[step:]
    return out


def _char_counts(texts: list[str], chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per line: digits, capital letters (Latin, Greek, Cyrillic) and letters (any code point
    from U+0041 on that is not ASCII punctuation), counted over the code points of the page."""
    points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ends = np.cumsum(chars).astype(np.int64)

    def per_line(mask: np.ndarray) -> np.ndarray:
        cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
        return np.diff(np.concatenate([[0], cum[ends]])).astype(float)

    digits = (points >= 0x30) & (points <= 0x39)
    capitals = (((points >= 0x41) & (points <= 0x5A)) | ((points >= 0xC0) & (points <= 0xDE) & (points != 0xD7))
                | ((points >= 0x391) & (points <= 0x3A9)) | ((points >= 0x400) & (points <= 0x42F)))
    letters = (points >= 0x41) & ~(((points >= 0x5B) & (points <= 0x60)) | ((points >= 0x7B) & (points <= 0xBF)))
    return per_line(digits), per_line(capitals), per_line(letters)


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

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """The model's probability that each row's line belongs to the article."""
        n, trees = features.shape[0], self.feature.shape[0]
        if n == 0:
            return np.zeros(0)
        left = (features[:, self.feature.ravel()] <= self.split.ravel()).reshape(n, trees, -1)
        place = np.zeros((n, trees, 1), dtype=np.int64)
        for _ in range(self.depth):
            go_left = np.take_along_axis(left, place, axis=2)
            place = 2 * place + np.where(go_left, 1, 2)
        values = np.take_along_axis(self.leaf[None, :, :], place - self.split.shape[1], axis=2)
        raw = self.baseline + values.sum(axis=(1, 2))
        return 1.0 / (1.0 + np.exp(-raw))


@functools.lru_cache(maxsize=1)
def load_line_model(path: str = str(MODEL_PATH)) -> LineModel:
    """The shipped line model, read once per process."""
    with open(path, encoding="utf-8") as handle:
        return LineModel.from_dict(json.load(handle))


def apply_line_model(model: LineModel, lines: list[Line], values: list[float],
                     reasons: list[str | None], start: int, end: int) -> list[str | None]:
    """The reasons after the model's second opinion: a line the model scores above its threshold
    is kept (None), one below is removed (its rules reason, or ``MODEL_REASON`` when the rules
    kept it). ``FIXED_REASONS`` lines are left as they are; a repeat of a kept line is a
    ``duplicate``."""
    scores = model.probabilities(line_features(lines, values, reasons, start, end))
    decided: list[str | None] = []
    seen: set[str] = set()
    for line, reason, score in zip(lines, reasons, scores):
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
