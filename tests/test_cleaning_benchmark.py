"""The cleaning benchmark's snippet scoring (benchmarks/cleaning.py), as the multilingual set is scored."""
from benchmarks import cleaning


def test_snippets_found_and_missed_with_whitespace_collapsed():
    row = {"with": ["the council  approved", "new budget\non Tuesday", "not in the body"],
           "without": ["Subscribe now", "Share this"]}
    body = "In the end the council approved the\nnew budget on Tuesday.\n\nShare   this article"
    assert cleaning.snippet_counts(row, body) == (2, 1, 1)


def test_snippet_scores_are_micro_averaged_over_pages():
    scores = cleaning.snippet_summary([(2, 1, 1), (0, 0, 3), (4, 0, 0)])
    assert scores["precision"] == 6 / 7 and scores["recall"] == 6 / 10
    assert abs(scores["f1"] - 2 * 6 / (2 * 6 + 1 + 4)) < 1e-12 and scores["docs"] == 3
