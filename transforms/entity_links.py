"""Entities across a whole article: what one sentence at a time cannot see.

spaCy's NER reads a window of words. News has patterns that only the whole article shows, and these
functions, pure and model-free, use them (``transforms.entities`` calls them around ``nlp.pipe``):

* :func:`ner_view`: headlines and datelines in capitals ("MARKETS RALLY AS FED HOLDS RATES",
  "PARIS, MAY 12") give the model no case to go by. The model reads a copy of the body in which
  every line without a lower-case letter is re-cased as a sentence, word by word: as the word is
  written most often elsewhere in the article, else in lower case (capitalised in a line of one or
  two words: a dateline or a label), the first word capitalised. The copy has the same length, so
  the offsets of what the model finds are offsets into the body.
* :func:`link`: a mention is the name alone, without what news text puts around names (see
  :func:`_trim`); one name keeps one label in an article (the label most of its mentions got, the
  first mention breaking ties); a name the model found is found at its other mentions too, and a
  person's surname alone where it reads as a name; a lone surname is the person named in full
  ("Sullivan" is "Jake Sullivan") when only one person in the article has it, and so is a lone first
  name the model took for a person; every mention gets the article's canonical name for its
  entity, which ``entities/`` groups by.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from typing import Iterable, NamedTuple, Optional

_WORD = re.compile(r"[^\W\d_]+(?:['’.-][^\W\d_]+)*")
_LINE = re.compile(r"[^\n]+")
_SHORT_LINE_WORDS = 2  # a line of one or two words in capitals is a dateline or a label
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
        words = list(_WORD.finditer(text, s, e))
        short = len(words) <= _SHORT_LINE_WORDS
        for n, m in enumerate(words):
            word = m.group()
            forms = seen.get(word)
            if forms:
                # most used; a capitalised form before a lower-case one at equal counts
                recased = max(forms.items(), key=lambda kv: (kv[1], kv[0][:1].isupper(), kv[0]))[0]
            elif short:  # a dateline or a label ("SAN FRANCISCO", "THE HAGUE"): names
                recased = word[:1] + word[1:].lower()
            else:  # in a headline, a word only the capitals use is more often a verb or a noun than a name
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


# A name does not run across a line break, a spaced dash ("SPORT - ESSEX": a section label and a
# name) or an opening bracket it does not close.
_LINE_BREAK = re.compile(r"\n")
_SPACED_DASH = re.compile(r"\s[-–—]{1,2}\s|^[-–—]+\s")
_OPEN_BRACKET = re.compile(r"\s*\((?![^()]*\))")
_LEADING_THE = re.compile(r"(?:the|The|THE)\s+(?=\w)")
_TRAILING_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
# A possessive is not part of these names ("Merkel's"); it is of brands ("McDonald's", "Moody's").
_POSSESSIVE_LABELS = PERSON_LABELS | {"GPE", "LOC", "NORP"}
# Labels of names (OntoNotes and WikiNER): a name has a letter in it, a date or an amount need not.
_NAME_LABELS = _POSSESSIVE_LABELS | {"ORG", "MISC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}


def _without_numbers(text: str, start: int, end: int) -> tuple[int, int]:
    """A person's name without words with digits before or after it ("J. Adams 4-43", "3 Bob Estes")."""
    words = text[start:end].split(" ")
    while len(words) > 1 and any(ch.isdigit() for ch in words[-1]):
        words.pop()
    while len(words) > 1 and any(ch.isdigit() for ch in words[0]):
        start += len(words.pop(0)) + 1
    return start, start + len(" ".join(words))


def _written_bare(text: str, start: int, end: int) -> bool:
    """Whether the name in ``text[start:end]`` (before a possessive) also stands elsewhere in
    ``text`` without one."""
    bare = text[start:end].rstrip()
    return any(other.start() != start
               for other in re.finditer(r"(?<!\w)" + re.escape(bare) + r"(?!\w|\s?['’])", text))


def _trim(text: str, start: int, end: int, label: str) -> Optional[tuple[int, int]]:
    """The mention's name without what news text puts around names: its first line; after a spaced
    dash; before an unclosed bracket; without a leading 'the'; without a possessive (for people and
    places; for others only when the article also writes the name without it: "Air France's" and
    "Air France", but "McDonald's"); without words with digits around a person's name (a rank, a
    score); without surrounding spaces."""
    def strip():
        nonlocal start, end
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1

    m = _LINE_BREAK.search(text, start, end)
    if m:
        end = m.start()
    m = _SPACED_DASH.search(text[start:end])
    if m:
        start += m.end()
    m = _OPEN_BRACKET.search(text, start, end)
    if m:
        end = m.start()
    strip()
    m = _LEADING_THE.match(text, start, end)
    # 'the' goes ("the White House"); 'The' only before two words or more ("The Hague" stays)
    if m and m.end() < end and (text[start] == "t" or len(text[m.end():end].split()) >= 2):
        start = m.end()
    m = _TRAILING_POSSESSIVE.search(text, start, end)
    if m and m.start() > start and (label in _POSSESSIVE_LABELS or _written_bare(text, start, m.start())):
        end = m.start()
    if label in PERSON_LABELS:
        start, end = _without_numbers(text, start, end)
    strip()
    kept = text[start:end]
    if not any(ch.isalnum() for ch in kept) or (label in _NAME_LABELS and not any(ch.isalpha() for ch in kept)):
        return None  # nothing left, or a name without a letter ("182nd", "1-0")
    return start, end


_WORD_START = re.compile(r"(?<!\w)\w+")
_FIRST_WORD = re.compile(r"\w+")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Free:
    """Whether a span overlaps none of the model's mentions (sorted, not overlapping) and none of
    those added since (added left to right): a binary search, not a scan."""

    def __init__(self, spans: list[Mention]):
        self._starts = [m.start for m in spans]
        self._ends = [m.end for m in spans]
        self._last_added_end = 0

    def take(self, start: int, end: int) -> bool:
        if start < self._last_added_end:
            return False
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0 and self._ends[i] > start:
            return False
        if i + 1 < len(self._starts) and self._starts[i + 1] < end:
            return False
        self._last_added_end = end
        return True


def link(text: str, mentions: Iterable[Mention], view: Optional[str] = None) -> list[Linked]:
    """The article-level pass of the module docstring over the model's ``mentions`` in ``text``.
    ``view`` is the text the model read (:func:`ner_view`): names are matched as written there
    ("MACRON" in a headline is "Macron"); ``Linked.text`` and ``canonical`` are as in ``text``."""
    view = text if view is None else view
    if len(view) != len(text):
        raise ValueError("the view must have the length of the text")
    spans = []
    for m in mentions:
        trimmed = _trim(view, m.start, m.end, m.label)
        if trimmed:
            spans.append(Mention(trimmed[0], trimmed[1], m.label))
    spans.sort()
    # one label per name: the majority, the first mention breaking ties
    votes: dict[str, Counter] = {}
    first_label: dict[str, str] = {}
    for m in spans:
        name = view[m.start:m.end]
        votes.setdefault(name, Counter())[m.label] += 1
        first_label.setdefault(name, m.label)
    label_of = {name: max(c.items(), key=lambda kv: (kv[1], kv[0] == first_label[name]))[0]
                for name, c in votes.items()}
    spans = [Mention(m.start, m.end, label_of[view[m.start:m.end]]) for m in spans]
    return _canonical(text, view, _propagate(view, spans, label_of))


_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})
_SENTENCE_END = frozenset('.!?:;"“”\n')


def _surname(name: str) -> Optional[str]:
    """The last word of a person's name of two words or more, without a suffix ("Jr.")."""
    parts = [p for p in name.split() if p not in _SUFFIXES]
    return parts[-1] if len(parts) >= 2 and len(parts[-1]) >= 3 else None


def _mid_sentence(text: str, start: int, end: int) -> bool:
    """A word inside a sentence, before a word that is neither capitalised nor a number: where a
    capitalised word is a name, not a sentence's first word or part of a longer name or date."""
    i = start - 1
    while i >= 0 and text[i].isspace():
        i -= 1
    if i < 0 or text[i] in _SENTENCE_END:
        return False
    after = text[end:end + 40].split(maxsplit=1)
    return not after or not (after[0][:1].isupper() or after[0][:1].isdigit())


def _propagate(text: str, spans: list[Mention], label_of: dict[str, str]) -> list[Mention]:
    """``spans`` and the other mentions of each name in them where no mention already is (the
    longest name first); and of a person's surname alone, in the middle of a sentence."""
    surnames = {}
    for name, label in label_of.items():
        surname = _surname(name) if label in PERSON_LABELS else None
        if surname and surname not in label_of:
            surnames.setdefault(surname, label)
    names = sorted((n for n in [*label_of, *surnames] if len(n) >= 3 and n[:1].isupper() and _FIRST_WORD.match(n)),
                   key=lambda n: (-len(n), n))
    if not names:
        return spans
    by_first_word: dict[str, list[str]] = {}
    for name in names:  # longest first, so the longest name at a place wins
        by_first_word.setdefault(_FIRST_WORD.match(name).group(), []).append(name)
    free = _Free(spans)
    added = []
    for word in _WORD_START.finditer(text):  # one pass, whatever the number of names
        s = word.start()
        for name in by_first_word.get(word.group(), ()):
            e = s + len(name)
            if not text.startswith(name, s) or (e < len(text) and _is_word_char(text[e])):
                continue
            if name in surnames and not _mid_sentence(text, s, e):
                continue
            if free.take(s, e):
                added.append(Mention(s, e, label_of.get(name) or surnames[name]))
            break
    return sorted(spans + added)


def _canonical(text: str, view: str, spans: list[Mention]) -> list[Linked]:
    """Each mention with its canonical name: its text with spaces normalised, except that a lone
    surname is the person named in full with it when only one person in the article is (and is a
    person, whatever the model said: in an article about Michael Jordan, "Jordan" is mostly him),
    and so is a lone first name the model took for a person."""
    by_surname: dict[str, set[str]] = {}
    by_first_name: dict[str, set[str]] = {}
    for m in spans:
        parts = view[m.start:m.end].split()
        if m.label in PERSON_LABELS and len(parts) >= 2:
            full = " ".join(text[m.start:m.end].split())
            by_first_name.setdefault(parts[0], set()).add(full)
            surname = _surname(" ".join(parts))
            if surname:
                by_surname.setdefault(surname, set()).add(full)
    person = next((m.label for m in spans if m.label in PERSON_LABELS), "PERSON")
    out = []
    for m in spans:
        surface = text[m.start:m.end]
        canonical, label, word = " ".join(surface.split()), m.label, view[m.start:m.end]
        owners = by_surname.get(word) or (by_first_name.get(word) if label in PERSON_LABELS else None)
        if owners and len(owners) == 1 and canonical not in owners:
            canonical = next(iter(owners))
            label = label if label in PERSON_LABELS else person
        out.append(Linked(m.start, m.end, label, surface, canonical))
    return out
