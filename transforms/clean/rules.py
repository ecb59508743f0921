"""Line rules that turn scraped news page text into an article body.

Pure functions (the rules use the standard library only; the line model, numpy).
``clean_page`` takes the text of a page as a scraper saw it (one block of text per line:
navigation, breadcrumbs, the title, the article, "see also" boxes, comment forms, footers...)
and returns a ``CleanResult``: the title, byline, publication date, the article's paragraphs
(each one line of the page, never rewritten, in page order) and every other line with the
reason it was removed.

How it works:

1. normalise: Unicode NFC, whitespace runs collapsed to one space, blank lines dropped;
2. describe every line (``describe_page``): its length in words, whether it ends like a
   sentence, whether it is a list ('A | B | C', tag clouds), a boilerplate label or phrase
   (share, subscribe, cookies, comments, related, advertisement, copyright, read more...
   in the languages of ``transforms/clean/phrases/``: English, French, German, Spanish, Italian,
   Portuguese, Polish, Dutch, Chinese, Arabic, Russian), a breadcrumb, a caption,
   a byline or a date line, and whether the page repeats it;
3. lay the page out (``lay_out``): give every line a value, its words for prose and a
   penalty for short, link-like or boilerplate lines (heavy for comment forms and footers),
   and take the run of lines with the largest sum, the way Body Text Extraction finds the
   densest stretch of text; the run starts after the headline (the copy of the page's
   <title> or of the doubled title nearest the article) and stops before the comments;
   a list right after the run (tour dates, ingredients) joins it;
4. keep the prose and the lone subheadings inside the run, and give every other line a
   reason code from ``REASONS``;
5. let the line model (``clean_model``, learned from the two dev sets) decide again: it may
   remove a line kept so far (``model_not_article``) or bring back prose left outside the run;
   lines with a boilerplate phrase, title copies, the byline and the date stay as they are
   (``clean_page(..., line_model=False)`` stops at step 4).

No rule is written for a particular site. Every regular expression is linear: alternations
of escaped literals (written as tries, longest first), single-character classes and their
repeats, bounded gaps, never a quantifier over a quantified pattern; phrase, label and
date checks only look at the first few hundred characters of a line.

This module is the public face of the rules, which live in modules split by what changes
together:

- ``clean_results``: ``REASONS``, ``RemovedLine``, ``CleanResult``;
- ``clean_limits``: every threshold, in one frozen dataclass (``LIMITS``);
- ``phrases/<language>.json`` and ``clean_phrasebook``: the words and phrases of each
  language, as data, and their loader (adding a language is adding a file);
- ``clean_patterns``: the regular expressions and word sets built from the phrase files
  (``RULES``; ``compile_rules(load_phrasebook(folder))`` for another folder);
- ``clean_text``: normalised lines, line keys, word counts, sentence ends;
- ``clean_lines``: describing each line (words, sentence end, list, boilerplate reason,
  byline, date);
- ``clean_layout``: line values, the densest run, the title, placing lines, ``clean_page``;
- ``clean_model`` and ``models/line_model.json``: the line model's features, trees and
  decisions (retrained by ``benchmarks/train_line_model.py``).
"""
from __future__ import annotations

from transforms.clean.layout import (Layout, clean_page, densest_run, headline_like, lay_out, line_value, line_values,
                                     main_run, place_lines, strip_site_name)
from transforms.clean.limits import LIMITS, Limits
from transforms.clean.lines import (Line, boilerplate_reason, describe_line, describe_page, find_byline, find_date,
                                    is_breadcrumb, line_fingerprint, looks_like_list, looks_like_name,
                                    page_fingerprints)
from transforms.clean.patterns import RULES, Rules, compile_rules
from transforms.clean.phrasebook import PHRASE_DIR, Phrasebook, load_phrasebook
from transforms.clean.results import REASONS, CleanResult, RemovedLine
from transforms.clean.text import ends_sentence, ends_with_period, line_key, normalise_lines, word_count

__all__ = [
    "LIMITS", "PHRASE_DIR", "REASONS", "RULES",
    "CleanResult", "Layout", "Limits", "Line", "Phrasebook", "RemovedLine", "Rules",
    "boilerplate_reason", "clean_page", "compile_rules", "densest_run", "describe_line",
    "describe_page", "ends_sentence", "ends_with_period", "find_byline", "find_date",
    "headline_like", "is_breadcrumb", "lay_out", "line_fingerprint", "line_key", "line_value",
    "line_values", "load_phrasebook", "looks_like_list", "looks_like_name", "main_run",
    "normalise_lines", "page_fingerprints", "place_lines", "strip_site_name", "word_count",
]
