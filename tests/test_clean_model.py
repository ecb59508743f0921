"""Tests for transforms.clean.model: the cleaner's learned line model.

The shipped model is checked as a user of the pipeline meets it (it loads, it matches the code's
features, it brings back what the rules cut off); the tree walk and the decisions are checked on
hand-built models; and the retraining script is run end to end on small generated dev sets.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from transforms.clean.layout import read_page
from transforms.clean.model import (
    MODEL_PATH,
    MODEL_REASON,
    LineModel,
    apply_line_model,
    feature_names,
    line_features,
    load_line_model,
)
from transforms.clean.rules import clean_page


def _sentence(i: int, topic: str) -> str:
    return (f"The {topic} sentence number {i} says what happened in the town on Monday, who said it and "
            f"why the council thinks the plan for the bridge will cost more than anyone expected at first.")


def _model(trees: list[dict], depth: int, baseline: float = 0.0, threshold: float = 0.5,
           rescue: float = 0.5) -> LineModel:
    return LineModel.from_dict({"features_version": 3, "features": feature_names(), "depth": depth,
                                "baseline": baseline, "threshold": threshold, "rescue_threshold": rescue,
                                "trees": trees})


def _leaf(value: float) -> dict:
    return {"feature": [0], "split": [0.0], "left": [0], "right": [0], "value": [value]}


def _rules(page: str):
    lines, layout, _, reasons = read_page(page)
    return lines, layout.values, reasons, layout.start, layout.end


# --------------------------------------------------------------------------------------
# The shipped model

def test_the_shipped_model_loads_and_reports_cross_validated_scores():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    model = load_line_model()
    assert model.feature.shape[0] == len(data["trees"]) > 0
    assert data["features"] == feature_names()
    for name in ("english", "multilingual"):
        scores = data["cross_validated"][name]
        assert 0.5 < scores["cv_f1"] <= 1 and scores["pages"] > 0
    assert MODEL_PATH.stat().st_size < 200_000  # small enough to ship in the wheel


def test_the_model_keeps_a_lead_paragraph_the_rules_cut_off_by_a_menu():
    lead = "Der Stadtrat hat die Abstimmung über die neue Brücke überraschend um zwei Wochen verschoben."
    body = [" ".join(_sentence(i * 2 + k, "bridge") for k in range(2)) for i in range(4)]
    page = "\n".join(["Council delays vote on the bridge | Town News", "Council delays vote on the bridge", lead,
                      "News | Sport | Weather | Travel", *body, "Impressum", "Datenschutz"])
    assert lead not in clean_page(page, line_model=False).paragraphs
    assert clean_page(page).paragraphs == (lead, *body)


def test_the_model_leaves_menus_footers_and_the_title_out():
    body = [" ".join(_sentence(i * 2 + k, "budget") for k in range(2)) for i in range(4)]
    page = "\n".join(["Budget agreed | Daily Wire", "Home", "World", "Business", "Budget agreed", "Share on Facebook",
                      *body, "Most Popular", "Another story about the weather", "Privacy Policy",
                      "All rights reserved"])
    result = clean_page(page)
    assert result.title == "Budget agreed"
    assert result.paragraphs == tuple(body)


def test_the_model_runs_on_a_page_of_one_line_and_on_empty_text():
    assert clean_page("").paragraphs == ()
    assert clean_page(_sentence(1, "only")).paragraphs == (_sentence(1, "only"),)
    assert clean_page("\ud800 lone surrogate " * 3).paragraphs is not None


# --------------------------------------------------------------------------------------
# Trees and decisions on hand-built models

def test_trees_of_different_depths_are_walked_like_their_node_lists():
    # tree 1: x0 <= 0.5 -> 1.0; else x1 <= 2.0 -> -1.0 else 0.5.  tree 2: a single leaf 0.25.
    tree = {"feature": [0, 0, 1, 0, 0], "split": [0.5, 0.0, 2.0, 0.0, 0.0], "left": [1, 1, 3, 3, 4],
            "right": [2, 1, 4, 3, 4], "value": [0.0, 1.0, 0.0, -1.0, 0.5]}
    model = _model([tree, _leaf(0.25)], depth=2, baseline=-0.5)
    features = np.zeros((4, len(feature_names())))
    features[:, 0] = [0.5, 0.7, 0.7, 3.0]
    features[:, 1] = [9.0, 2.0, 2.1, 0.0]
    raw = np.array([1.0, -1.0, 0.5, -1.0]) + 0.25 - 0.5
    assert np.allclose(model.probabilities(features), 1 / (1 + np.exp(-raw)))


def test_a_model_that_wants_every_line_still_leaves_boilerplate_and_repeats_out():
    body = [_sentence(i, "harbour") for i in range(3)]
    teaser = _sentence(9, "teaser")
    page = "\n".join(["Harbour reopens | Port News", "Harbour reopens", "By Jane Doe", *body, "Share on Facebook",
                      "Home | News | Sport", body[0], "Most Popular", teaser, "All rights reserved"])
    lines, values, reasons, start, end = _rules(page)
    assert reasons[lines.index(next(l for l in lines if l.text == teaser))] == "outside_main_text"
    decided = apply_line_model(_model([_leaf(10.0)], depth=1), lines, values, reasons, start, end)
    by_text = {}
    for line, reason in zip(lines, decided):
        by_text.setdefault(line.text, []).append(reason)
    assert by_text[teaser] == [None]                         # prose outside the run: brought back
    assert by_text[body[0]] == [None, "duplicate"]           # a repeat stays a duplicate
    assert by_text["Share on Facebook"] == ["share"]         # a boilerplate phrase stays out
    assert by_text["All rights reserved"] == ["footer"]
    assert by_text["Home | News | Sport"] == ["navigation"]  # short link-like lines stay out
    assert by_text["Harbour reopens"] == ["title"]
    assert by_text["By Jane Doe"] == ["byline"]


def test_a_model_that_wants_no_line_removes_the_body_with_its_own_reason():
    body = [_sentence(i, "harbour") for i in range(3)]
    page = "\n".join(["Harbour reopens", *body, "All rights reserved"])
    lines, values, reasons, start, end = _rules(page)
    decided = apply_line_model(_model([_leaf(-10.0)], depth=1), lines, values, reasons, start, end)
    assert [r for line, r in zip(lines, decided) if line.text in body] == [MODEL_REASON] * 3
    assert decided[-1] == "footer"


def test_a_model_for_other_features_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="train_line_model.py"):
        LineModel.from_dict({"features_version": 3, "features": feature_names()[:-1], "depth": 1,
                             "baseline": 0.0, "threshold": 0.5, "trees": [_leaf(1.0)]})


def test_features_have_one_row_per_line_and_the_named_columns():
    lines, values, reasons, start, end = _rules("\n".join(["Title", *[_sentence(i, "x") for i in range(5)], "Home"]))
    features = line_features(lines, values, reasons, start, end)
    assert features.shape == (len(lines), len(feature_names()))
    assert np.isfinite(features).all()


# --------------------------------------------------------------------------------------
# Retraining

def _generated_pages(n: int, seed: int):
    """Pages of a menu, a title, article paragraphs, teasers and a footer, with what is article."""
    rng = np.random.default_rng(seed)
    for p in range(n):
        title = f"Story {p} about the council and the bridge"
        article = [_sentence(p * 10 + k, "article") for k in range(int(rng.integers(3, 7)))]
        teasers = [f"Teaser {p}-{k}: another story about the weather" for k in range(3)]
        lines = [f"{title} | Town News", "Home", "News", "Sport", title, *article, "Most Popular", *teasers,
                 "Privacy Policy", "All rights reserved"]
        yield f"https://site{p}.example/{seed}", "\n".join(lines), article, teasers


def test_the_training_script_writes_a_model_that_learnt_which_lines_are_article(tmp_path):
    pytest.importorskip("sklearn")
    english, multilingual = tmp_path / "en.jsonl", tmp_path / "ml.jsonl"
    with open(english, "w") as out:
        for url, text, article, _ in _generated_pages(12, 1):
            out.write(json.dumps({"id": url, "page_text": text, "gold_body": "\n".join(article)}) + "\n")
    with open(multilingual, "w") as out:
        for url, text, article, teasers in _generated_pages(12, 2):
            out.write(json.dumps({"url": url, "page_text": text, "with": article[:2], "without": teasers[:2]}) + "\n")
    from benchmarks import train_line_model as script
    out = tmp_path / "model.json"
    assert script.main(["--english", str(english), "--multilingual", str(multilingual), "--out", str(out),
                        "--folds", "2", "--trees", "5"]) == 0
    data = json.loads(out.read_text())
    assert set(data["cross_validated"]) == {"english", "multilingual"}
    assert data["settings"]["trees"] == 5 and len(data["trees"]) == 5
    model = LineModel.from_dict(data)
    url, text, article, teasers = next(_generated_pages(1, 3))
    lines, values, reasons, start, end = _rules(text)
    scores = dict(zip((line.text for line in lines), model.probabilities(
        line_features(lines, values, reasons, start, end))))
    assert min(scores[a] for a in article) > max(scores[t] for t in teasers + ["Home", "Privacy Policy"])


def test_a_repeat_is_kept_when_the_model_removes_the_first_copy():
    # A tree that removes the first quarter of the page and keeps the rest.
    position = feature_names().index("position")
    tree = {"feature": [position, 0, 0], "split": [0.25, 0.0, 0.0], "left": [1, 1, 2], "right": [2, 1, 2],
            "value": [0.0, -10.0, 10.0]}
    repeated = _sentence(1, "harbour")
    others = [_sentence(i, "harbour") for i in range(2, 9)]
    page = "\n".join(["Harbour reopens", others[0], repeated, *others[1:4], repeated, *others[4:]])
    lines, values, reasons, start, end = _rules(page)
    assert [r for line, r in zip(lines, reasons) if line.text == repeated] == [None, "duplicate"]
    decided = apply_line_model(_model([tree], depth=1), lines, values, reasons, start, end)
    assert [r for line, r in zip(lines, decided) if line.text == repeated] == [MODEL_REASON, None]


def test_long_pages_are_scored_in_chunks_with_the_same_result():
    model = load_line_model()
    lines, values, reasons, start, end = _rules("\n".join(
        ["Harbour reopens", *[_sentence(i, "harbour") if i % 3 else f"Menu {i}" for i in range(300)]]))
    features = line_features(lines, values, reasons, start, end)
    whole = model.probabilities(features, chunk=10_000)
    assert np.array_equal(model.probabilities(features, chunk=7), whole)
    assert len(whole) == len(lines)
