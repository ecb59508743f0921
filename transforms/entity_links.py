"""Entities across a whole article: what one sentence at a time cannot see.

spaCy's NER reads a window of words. News has patterns that only the whole article shows, and these
functions, pure and model-free, use them (``transforms.entities`` calls them around ``nlp.pipe``):

* :func:`ner_view`: headlines and datelines in capitals ("MARKETS RALLY AS FED HOLDS RATES",
  "PARIS, MAY 12") give the model no case to go by. The model reads a copy of the body in which
  every line without a lower-case letter is re-cased as a sentence, word by word: as the word is
  written most often elsewhere in the article, else in lower case, the first word capitalised. The copy has the same length,
  so the offsets of what the model finds are offsets into the body.
* :func:`link`: a mention is the name alone, without what news text puts around names (the
  section label before a spaced dash, a line break, an unclosed bracket, a leading "the", a
  possessive, the score after a player's name); one name keeps one label in an article (the label most of its mentions got, the
  first mention breaking ties); a name the model found is found at its other mentions too; a
  surname or first name alone ("Sullivan") is the person named in full ("Jake Sullivan") when only
  one person in the article has that name; and every mention gets the article's canonical name for
  its entity, which ``entities/`` groups by.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, NamedTuple, Optional

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_LINE = re.compile(r"[^\n]+")
PERSON_LABELS = frozenset({"PERSON", "PER"})  # OntoNotes models say PERSON, WikiNER ones (French) PER


def _shouting(line: str) -> bool:
    """A line with letters but none in lower case (a headline, a dateline, a section label)."""
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 2 and not any(ch.islower() for ch in letters) and any(ch.isupper() for ch in letters)


def ner_view(text: str) -> str:
    """``text`` with every line in capitals re-cased word by word (see the module docstring); the
    same length, character for character, as ``text``. ``text`` itself when no line is in capitals."""
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text)]
    loud = {(s, e) for s, e in lines if _shouting(text[s:e])}
    if not loud:
        return text
    seen: dict[str, Counter] = {}
    for s, e in lines:
        if (s, e) in loud:
            continue
        for word in _WORD.findall(text[s:e]):
            seen.setdefault(word.upper(), Counter())[word] += 1
    out = list(text)
    for s, e in sorted(loud):
        for n, m in enumerate(_WORD.finditer(text, s, e)):
            word = m.group()
            forms = seen.get(word)
            if forms:
                # most used; a capitalised form before a lower-case one at equal counts
                recased = max(forms.items(), key=lambda kv: (kv[1], kv[0][:1].isupper(), kv[0]))[0]
            else:  # a word only the capitals use is more often a verb or a noun than a name
                recased = word.lower()
            if n == 0:  # the line starts as a sentence does
                recased = recased[:1].upper() + recased[1:]
            if len(recased) == len(word):  # a few letters change length with case (e.g. 'İ')
                out[m.start():m.end()] = recased
    return "".join(out)


class Mention(NamedTuple):
    start: int
    end: int
    label: str


class Linked(NamedTuple):
    start: int
    end: int
    label: str
    text: str
    canonical: str


# A name does not run across a line break, a spaced dash ("CRICKET - ESSEX": a section label and a
# name) or an opening bracket it does not close.
_LINE_BREAK = re.compile(r"\n")
_SPACED_DASH = re.compile(r"\s[-–—]{1,2}\s|^[-–—]+\s")
_OPEN_BRACKET = re.compile(r"\s*\((?![^()]*\))")
_LEADING_THE = re.compile(r"(?:the|The|THE)\s+(?=\w)")
_TRAILING_POSSESSIVE = re.compile(r"\s?(?:'s|’s|'|’)$")
_TRAILING_NUMBER = re.compile(r"(?:\s+\S*\d\S*)+$")
# Labels whose names never end in a number ("J. Adams 123" is a score after a name).
_NO_NUMBER_LABELS = frozenset({"PERSON", "PER", "GPE", "LOC", "NORP", "FAC"})
# Labels of names (OntoNotes and WikiNER): a name has a letter in it, a date or an amount need not.
_NAME_LABELS = _NO_NUMBER_LABELS | {"ORG", "MISC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def _trim(text: str, start: int, end: int, label: str) -> Optional[tuple[int, int]]:
    """The mention's name without what news text puts around names: its first line; after a spaced
    dash; before an unclosed bracket; without a leading 'the', a trailing possessive, or (for people
    and places) trailing numbers; without surrounding spaces."""
    def strip():
        nonlocal start, end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1

    m = _LINE_BREAK.search(text, start, end)
    if m:
        end = m.start()
    for m in _SPACED_DASH.finditer(text[start:end]):
        start, end = start + m.end(), end
        break
    m = _OPEN_BRACKET.search(text, start, end)
    if m:
        end = m.start()
    strip()
    m = _LEADING_THE.match(text, start, end)
    # 'the' goes ("the White House"); 'The' only before two words or more ("The Hague" stays)
    if m and m.end() < end and (text[start] == "t" or len(text[m.end():end].split()) >= 2):
        start = m.end()
    m = _TRAILING_POSSESSIVE.search(text[start:end])
    if m and m.start() > 0:
        end = start + m.start()
    if label in _NO_NUMBER_LABELS:
        m = _TRAILING_NUMBER.search(text[start:end])
        if m and m.start() > 0:
            end = start + m.start()
    strip()
    kept = text[start:end]
    if not any(ch.isalnum() for ch in kept) or (label in _NAME_LABELS and not any(ch.isalpha() for ch in kept)):
        return None  # nothing left, or a name without a letter ("182nd", "1-0")
    return start, end


_WORD_START = re.compile(r"(?<!\w)\w+")
_FIRST_WORD = re.compile(r"\w+")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in taken)


def link(text: str, mentions: Iterable[Mention], view: Optional[str] = None) -> list[Linked]:
    """The article-level pass of the module docstring over the model's ``mentions`` in ``text``.
    ``view`` is the text the model read (:func:`ner_view`): names are matched and written as there
    ("MACRON" in a headline is "Macron"); ``Linked.text`` is always as in ``text``."""
    original, text = text, (view if view is not None else text)
    if len(text) != len(original):
        raise ValueError("the view must have the length of the text")
    spans = []
    for m in mentions:
        trimmed = _trim(text, m.start, m.end, m.label)
        if trimmed:
            spans.append(Mention(trimmed[0], trimmed[1], m.label))
    spans.sort()
    # one label per name: the majority, the first mention breaking ties
    votes: dict[str, Counter] = {}
    first_label: dict[str, str] = {}
    for m in spans:
        name = text[m.start:m.end]
        votes.setdefault(name, Counter())[m.label] += 1
        first_label.setdefault(name, m.label)
    label_of = {name: max(c.items(), key=lambda kv: (kv[1], kv[0] == first_label[name]))[0]
                for name, c in votes.items()}
    spans = [Mention(m.start, m.end, label_of[text[m.start:m.end]]) for m in spans]
    return [m._replace(text=original[m.start:m.end]) for m in _canonical(text, _propagate(text, spans, label_of))]


def _propagate(text: str, spans: list[Mention], label_of: dict[str, str]) -> list[Mention]:
    """``spans`` and the other mentions of each name in them, and of each person's surname alone,
    where no mention already is (the longest name first)."""
    label_of = dict(label_of)
    for name, label in list(label_of.items()):
        parts = name.split()
        if label in PERSON_LABELS and len(parts) >= 2:
            label_of.setdefault(parts[-1], label)
    names = sorted((n for n in label_of if len(n) >= 3 and n[:1].isupper() and _FIRST_WORD.match(n)),
                   key=lambda n: (-len(n), n))
    if not names:
        return spans
    by_first_word: dict[str, list[str]] = {}
    for name in names:  # longest first, so the longest name at a place wins
        by_first_word.setdefault(_FIRST_WORD.match(name).group(), []).append(name)
    taken = [(m.start, m.end) for m in spans]
    added = []
    for word in _WORD_START.finditer(text):  # one pass, whatever the number of names
        s = word.start()
        for name in by_first_word.get(word.group(), ()):
            e = s + len(name)
            if text.startswith(name, s) and not (e < len(text) and _is_word_char(text[e])) and _free(taken, s, e):
                taken.append((s, e))
                added.append(Mention(s, e, label_of[name]))
                break
    return sorted(spans + added)


def _canonical(text: str, spans: list[Mention]) -> list[Linked]:
    """Each mention with its canonical name: its text with spaces normalised, except that a lone
    first or last name is the person named in full with it, when only one person is."""
    full_names: dict[str, set[str]] = {}
    for m in spans:
        parts = text[m.start:m.end].split()
        if m.label in PERSON_LABELS and len(parts) >= 2:
            for part in (parts[0], parts[-1]):
                full_names.setdefault(part, set()).add(" ".join(parts))
    person = next((m.label for m in spans if m.label in PERSON_LABELS), "PERSON")
    out = []
    for m in spans:
        surface = text[m.start:m.end]
        canonical, label = " ".join(surface.split()), m.label
        owners = full_names.get(canonical)
        if owners and len(owners) == 1 and canonical not in owners:
            canonical = next(iter(owners))
            label = label if label in PERSON_LABELS else person
        out.append(Linked(m.start, m.end, label, surface, canonical))
    return out
