"""The regular expressions and word sets of the line rules, built from a ``Phrasebook``.

``RULES`` is built once, at import time, from the phrase files shipped in
``transforms/clean/phrases/``; ``compile_rules(load_phrasebook(folder))`` builds the rules
of another folder (tests, a language being written).

Every regular expression is linear. The phrase book's entries are escaped (``re.escape``)
and joined into alternations of literals, longest first, written as a trie: entries that
share a prefix share one literal for it, so each position of a line is tested against a
few first characters rather than against every entry, and no quantifier is involved. The
shapes around them, written here, use only literals, single-character classes and their
repeats, optional groups of literals and one-character lookaheads: never a quantifier
over a quantified pattern. An empty alternation never matches.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from transforms.clean.limits import LIMITS
from transforms.clean.phrasebook import (ANY_LINE_PHRASE_REASONS, CAPTION_PHRASE_REASONS, LABEL_REASONS,
                                         SHORT_LINE_PHRASE_REASONS, Phrasebook, load_phrasebook)

_NEVER = "(?!)"
_WORD_CHAR = re.compile(r"\w")


def _trie(items: list[tuple[str, str]], right: bool) -> str:
    """Alternation of ``items`` ((entry, the part of it still to match), rests non-empty)
    as a trie: entries sharing a prefix share one escaped literal for it, and at every node
    a longer entry is tried before a shorter one that ends there (longest first). With
    ``right``, an entry ending with a letter or digit must not be followed by one."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry, rest in items:
        groups.setdefault(rest[0], []).append((entry, rest[1:]))
    branches = []
    for first in sorted(groups):
        group, stem = groups[first], first
        while all(rest for _, rest in group) and len({rest[0] for _, rest in group}) == 1:
            stem += group[0][1][0]
            group = [(entry, rest[1:]) for entry, rest in group]
        tails = [(entry, rest) for entry, rest in group if rest]
        ends = len(tails) < len(group)
        end = r"\b" if ends and right and _WORD_CHAR.match(stem[-1]) else ""
        if not tails:
            branches.append(re.escape(stem) + end)
        else:
            inner = _trie(tails, right) + ("|" + end if ends else "")
            branches.append(re.escape(stem) + "(?:" + inner + ")")
    return "|".join(branches)


def _words(entries: Iterable[str], left: bool = False, right: bool = False) -> str:
    """A non-capturing alternation of the escaped ``entries`` (a trie, longest first), or a
    pattern that never matches when there are none. With ``left`` (``right``), an entry
    starting (ending) with a letter or digit must not be glued to one before (after) it."""
    entries = set(entries)
    if not entries:
        return _NEVER
    if not left:
        return "(?:" + _trie([(entry, entry) for entry in entries], right) + ")"
    word_start = [entry for entry in entries if _WORD_CHAR.match(entry)]
    other = entries - set(word_start)
    parts = [r"\b" + _words(word_start, right=right)] if word_start else []
    parts += [_words(other, right=right)] if other else []
    return "(?:" + "|".join(parts) + ")"


def alternation(entries: Iterable[str]) -> str:
    """A non-capturing alternation of the escaped ``entries`` (a trie, longest first), or a
    pattern that never matches when there are none."""
    return _words(entries)


def _shapes(book: Phrasebook, reason: str) -> tuple[list[str], list[str]]:
    """Phrases with gaps or digits, which a list of literals cannot hold, per reason:
    (those found at the start of a line, written without '^'; those found anywhere)."""
    gap, publisher = LIMITS.phrase_gap, LIMITS.publisher_gap
    words = book.words
    if reason == "cookie_notice":
        return [], [
            rf"cookie.{{0,{gap}}}" + alternation(words("cookie_context_words")),
            alternation(words("cookie_subjects")) + " " + alternation(words("cookie_verbs"))
            + " " + alternation(words("cookie_objects")),
        ]
    if reason == "footer":
        # English: 'X is part of Y, a Z media company'
        return [r"\(c\) \d{4}", r"© ?\d{4}"], [
            rf"is part of [^.]{{1,{publisher}}}, an? [^.]{{0,{publisher}}}(?:media|publish)"]
    if reason == "promo":
        return [rf"for .{{0,{gap}}}\bvisit\b"], []  # English: 'For the latest news ... visit X'
    if reason == "caption":
        return [
            alternation(words("caption_labels")) + "(?: " + alternation(words("caption_label_qualifiers"))
            + ")? ?:",
            alternation(words("credit_nouns")) + " " + alternation(words("credit_words")) + r"\b",
            r"\d{1,3} ?" + alternation(words("caption_counter_words")) + r" ?\d{1,3}(?: |$)",
        ], []
    return [], []


def family(book: Phrasebook, reason: str) -> tuple[str, str]:
    """The patterns of one phrase family, every phrase of ``reason``: (the phrases found at
    the start of a line, for ``match``; the phrases found anywhere, for ``search``)."""
    at_start, anywhere = _shapes(book, reason)
    starts = book.reason_words("phrase_starts", reason)
    if starts:
        at_start.insert(0, alternation(starts))
    start_words = book.reason_words("phrase_start_words", reason)
    if start_words:
        at_start.insert(1 if starts else 0, _words(start_words, right=True))
    phrases = book.reason_words("phrases", reason)
    if phrases:
        anywhere.append(alternation(phrases))
    words = book.reason_words("phrase_words", reason)
    if words:
        anywhere.append(_words(words, left=True, right=True))
    word_ends = book.reason_words("phrase_word_ends", reason)
    if word_ends:
        anywhere.append(_words(word_ends, right=True))
    return "|".join(at_start) or _NEVER, "|".join(anywhere) or _NEVER


def _families(book: Phrasebook, reasons: tuple[str, ...]) -> re.Pattern[str]:
    """One alternation with a named group per phrase family, so a line is scanned once; at
    the leftmost match the first family in ``reasons`` wins."""
    groups = []
    for reason in reasons:
        at_start, anywhere = family(book, reason)
        groups.append(f"(?P<{reason}>^(?:{at_start})|{anywhere})")
    return re.compile("|".join(groups))


@dataclass(frozen=True)
class Rules:
    """Everything language-specific the line rules use, compiled."""

    labels: tuple[tuple[str, frozenset[str]], ...]  # (reason, line keys)
    see_also: re.Pattern[str]           # on the line key: 'see also ...'
    see_also_site: re.Pattern[str]      # on the lower-cased line: 'on cnn.com: ...'
    more_prefix: re.Pattern[str]        # on the line key
    widget_prefix: re.Pattern[str]      # on the line key
    share_prefix: re.Pattern[str]       # on the line key
    gallery_counter: re.Pattern[str]    # on the line: '3 of 12', '3 of 12 The ...'
    follow_prefix: re.Pattern[str]      # on the lower-cased line
    about_prefix: re.Pattern[str]       # on the line, any case
    newsletter_words: tuple[str, ...]   # looked for in the line key
    social_words: frozenset[str]
    comment_count: re.Pattern[str]      # on the lower-cased line
    phrases_any_line: re.Pattern[str]   # named groups: comment_form, cookie_notice, footer
    phrases_short_line: re.Pattern[str]  # named groups: subscribe, promo
    caption_start: re.Pattern[str]      # on the lower-cased line, matched at its start
    caption_anywhere: re.Pattern[str]   # on the lower-cased line, searched
    breadcrumb_start: re.Pattern[str]   # on the line, case kept
    date: re.Pattern[str]
    byline_start: re.Pattern[str]
    name_joiners: frozenset[str]
    name_stop: re.Pattern[str]
    lone_by_words: frozenset[str]
    bio_verbs: frozenset[str]


_YEAR = r"(?:19|20)\d\d"


def _date_pattern(book: Phrasebook) -> re.Pattern[str]:
    """Dates as written in a line: 'November 20, 2019', '20. November 2019 um 10:15', '2019-11-20'."""
    month = alternation(book.words("months"))
    time = (r"(?:,? (?:" + alternation(book.words("time_words")) + r" |@ ?|- |· |\| )?"
            r"\d{1,2}[:.h]\d\d(?: ?[ap]\.?m\.?)?)?")
    return re.compile(
        r"\b(?:"
        + month + r"\.? \d{1,2}(?:st|nd|rd|th)?,? " + _YEAR           # November 20, 2019
        + r"|\d{1,2}(?:\.|er|º|°|st|nd|rd|th)? (?:de )?" + month      # 20 novembre 2019
        + r"\.?,? (?:de )?" + _YEAR                                   # 20. November 2019
        + r"|" + _YEAR + r"-\d\d-\d\d"                                # 2019-11-20
        + r"|\d{1,2}[./-]\d{1,2}[./-](?:" + _YEAR + r"|\d\d)"         # 20.11.2019, 11/20/19
        + r"|" + _YEAR + r"年\d{1,2}月\d{1,2}日"                       # 2019年11月20日
        + r")\b" + time,
        re.IGNORECASE)


def compile_rules(book: Phrasebook) -> Rules:
    """Build the rules from the entries of a phrase book."""
    words = book.words
    return Rules(
        labels=tuple((reason, book.reason_words("labels", reason)) for reason in LABEL_REASONS
                     if book.reason_words("labels", reason)),
        see_also=re.compile("^" + alternation(words("see_also_prefixes")) + r"\b"),
        # The site name is matched in the line itself: the line key has no dots left.
        see_also_site=re.compile(
            "^" + alternation(words("site_prepositions")) + r" [\w-][\w.-]*\.[a-z]{2,6}(?=[ :])"),
        more_prefix=re.compile("^" + alternation(words("more_prefixes")) + r"\b"),
        widget_prefix=re.compile("^" + alternation(words("widget_prefixes")) + r"\b"),
        share_prefix=re.compile("^" + alternation(words("share_prefixes")) + r"\b"),
        gallery_counter=re.compile(
            r"^\d+ ?" + alternation(words("gallery_counter_words")) + r" ?\d+(?:$| (?=[A-Z]))"),
        follow_prefix=re.compile("^" + alternation(words("follow_prefixes")) + " "),
        about_prefix=re.compile(alternation(words("about_prefixes")) + r" (?=[^\W\d_])", re.IGNORECASE),
        newsletter_words=tuple(sorted(words("newsletter_words"))),
        social_words=words("social_words"),
        comment_count=re.compile(
            r"\b\d+ " + alternation(words("comment_count_nouns")) + r"\b|"
            "^" + alternation(words("comment_headings")) + r"\b"),
        phrases_any_line=_families(book, ANY_LINE_PHRASE_REASONS),
        phrases_short_line=_families(book, SHORT_LINE_PHRASE_REASONS),
        caption_start=re.compile("|".join(family(book, r)[0] for r in CAPTION_PHRASE_REASONS)),
        caption_anywhere=re.compile("|".join(family(book, r)[1] for r in CAPTION_PHRASE_REASONS)),
        breadcrumb_start=re.compile(
            "^" + alternation(words("breadcrumb_homes")) + r"(?:[\s>»›/|:•-]|(?=[A-Z]))"),
        date=_date_pattern(book),
        byline_start=re.compile("^" + alternation(words("byline_starts")) + "(?: ?:)? ", re.IGNORECASE),
        name_joiners=words("name_joiners"),
        name_stop=re.compile(r"[|,•·/—–;(]| - | " + alternation(words("name_stops")) + " "),
        lone_by_words=words("lone_by_words"),
        bio_verbs=words("bio_verbs"),
    )


RULES = compile_rules(load_phrasebook())
