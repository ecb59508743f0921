"""The words and phrases of the line rules, read from one JSON file per language.

``transforms/clean/phrases/`` holds ``<language>.json`` files (``en.json``, ``fr.json``,
...) and ``common.json`` for what belongs to no language (social network names, photo
agencies, '©'). Every file is an object whose keys are sections from ``SECTIONS`` (a list
of strings) or ``REASON_SECTIONS`` (an object from reason codes to lists of strings); a
file only has the sections its language needs. The rules use the union of all files, so
adding a language is adding a file: no code changes. Files are read in sorted name order,
once, when ``transforms.clean.patterns`` is imported.

Entries are plain text, never regular expressions: ``clean_patterns`` escapes them and
joins them into alternations. They are matched against lower-cased text
(``breadcrumb_homes`` aside, which keeps its case) and must be NFC, non-empty, without
leading or doubled spaces. A trailing space is part of an entry ('(image: ' must be
followed by a space). ``parse_phrase_file`` says what is wrong with a file.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Protocol

from transforms.clean.text import line_key

# Not a Python name, so packaging tools treat the folder as data, not as a package.
PHRASE_DIR = resources.files("transforms.clean") / "phrases"

# Sections holding a list of entries: section -> what an entry is and how it is matched.
SECTIONS: dict[str, str] = {
    "see_also_prefixes": "a line whose key starts with one of these words links to another article "
                         "('see also', 'lire aussi')",
    "site_prepositions": "'<preposition> <site.tld>: ...' links to an article on another site "
                         "('on' in 'On CNN.com: ...', 'sur' in 'Sur lemonde.fr : ...')",
    "more_prefixes": "a short line whose key starts with one of these is a widget heading "
                     "('more', 'you may also like')",
    "widget_prefixes": "a very short line whose key starts with one of these is a widget heading "
                       "('most', 'trending')",
    "share_prefixes": "a short line whose key starts with one of these is a share button ('share')",
    "follow_prefixes": "a short line starting with one of these and a space is a promotion ('follow')",
    "about_prefixes": "'<prefix> <Name>' is an author box ('about', 'über')",
    "gallery_counter_words": "'3 <word> 12' at the start of a line is a gallery counter ('of', 'von')",
    "newsletter_words": "a short line whose key contains one of these is a subscription prompt",
    "social_words": "a line whose words are all of these is a share bar ('facebook', 'email')",
    "comment_count_nouns": "'<number> <noun>' is a comment count ('comments', 'kommentare')",
    "comment_headings": "a line starting with one of these heads a comment section ('comments on')",
    "breadcrumb_homes": "a line starting with one of these (case kept) and a separator is a breadcrumb "
                        "('Home', 'Accueil')",
    "months": "month names and abbreviations of dates",
    "time_words": "'<date>, <word> 10:15': the word before a time ('at', 'um')",
    "byline_starts": "'<start> <Name>' is a byline ('by', 'par', 'written by')",
    "name_joiners": "lower-case words allowed inside a name ('van', 'de', 'and')",
    "name_stops": "' <word> ' ends a name in a byline ('on' in 'By Jane Doe on Monday')",
    "lone_by_words": "a line that is only one of these is a byline whose name is on the next line",
    "bio_verbs": "'<byline name> <verb> ...' is an author box ('is', 'writes')",
    "caption_labels": "'<label>:' or '<label> <qualifier>:' starts a caption ('photo', 'source')",
    "caption_label_qualifiers": "the qualifier of a caption label ('credit' in 'Photo credit:')",
    "credit_nouns": "'<noun> <credit word>' starts a caption ('photo' in 'Photo by ...')",
    "credit_words": "'<noun> <credit word>' starts a caption ('by', 'courtesy')",
    "caption_counter_words": "'3 <word> 12' at the start of a line is a caption counter ('of', '/')",
    "cookie_context_words": "'cookie' and one of these within a few words is a cookie notice ('accept')",
    "cookie_subjects": "'<subject> <verb> <object>' is a cookie notice ('we' in 'we use cookies')",
    "cookie_verbs": "'<subject> <verb> <object>' is a cookie notice ('use' in 'we use cookies')",
    "cookie_objects": "'<subject> <verb> <object>' is a cookie notice ('cookies' in 'we use cookies')",
}

# Sections holding, per reason code, a list of entries.
REASON_SECTIONS: dict[str, str] = {
    "labels": "a line whose key (lower-cased words, see line_key) is one of these is removed "
              "with the reason ('12 Comments' -> 'comments')",
    "phrases": "a line holding one of these in its first LIMITS.scan characters is removed with the reason",
    "phrase_words": "as phrases, but only as whole words: not glued to a letter or digit on either side",
    "phrase_word_ends": "as phrases, but not followed by a letter or digit ('via reuters')",
    "phrase_starts": "as phrases, but only at the start of the line",
    "phrase_start_words": "as phrase_starts, but not followed by a letter or digit ('copyright')",
}

# Reasons a label may name, and reasons a phrase may name (those the phrase checks use).
LABEL_REASONS = ("ad_marker", "widget_heading", "comment_form", "share", "subscribe", "footer",
                 "navigation", "read_more")
ANY_LINE_PHRASE_REASONS = ("comment_form", "cookie_notice", "footer")  # checked in lines of any length
SHORT_LINE_PHRASE_REASONS = ("subscribe", "promo")                    # checked in short lines
CAPTION_PHRASE_REASONS = ("caption",)                                 # checked in caption-sized lines
PHRASE_REASONS = ANY_LINE_PHRASE_REASONS + SHORT_LINE_PHRASE_REASONS + CAPTION_PHRASE_REASONS
_ALLOWED_REASONS = {"labels": LABEL_REASONS}

_CASE_KEPT = frozenset({"breadcrumb_homes"})


class PhraseDirectory(Protocol):
    """A folder of phrase files: a ``pathlib.Path`` or an ``importlib.resources`` Traversable."""

    def iterdir(self) -> Iterable: ...


@dataclass(frozen=True)
class Phrasebook:
    """The entries of every section, merged over the phrase files of a folder."""

    languages: tuple[str, ...]                                  # file names without '.json', sorted
    lists: tuple[tuple[str, frozenset[str]], ...]               # (section, entries)
    by_reason: tuple[tuple[str, str, frozenset[str]], ...]      # (section, reason, entries)

    def words(self, section: str) -> frozenset[str]:
        """The entries of a list section (empty when no file has it)."""
        if section not in SECTIONS:
            raise KeyError(f"unknown phrase section {section!r}")
        for name, entries in self.lists:
            if name == section:
                return entries
        return frozenset()

    def reason_words(self, section: str, reason: str) -> frozenset[str]:
        """The entries of a reason section for one reason (empty when no file has them)."""
        if section not in REASON_SECTIONS:
            raise KeyError(f"unknown phrase section {section!r}")
        for name, code, entries in self.by_reason:
            if name == section and code == reason:
                return entries
        return frozenset()


def _check_entries(where: str, section: str, entries: object) -> None:
    """Raise ValueError saying what is wrong with the entries of one list (``where`` names it)."""
    if not isinstance(entries, list):
        raise ValueError(f"{where} must be a list of strings")
    seen = set()
    for entry in entries:
        if not isinstance(entry, str) or not entry.strip():
            raise ValueError(f"{where} has an empty or non-string entry {entry!r}")
        if entry != entry.lstrip() or "  " in entry or any(ch in entry for ch in "\t\r\n"):
            raise ValueError(f"{where}: entry {entry!r} has leading, doubled or non-space whitespace")
        if not unicodedata.is_normalized("NFC", entry):
            raise ValueError(f"{where}: entry {entry!r} is not NFC-normalised, so it could never match")
        if section not in _CASE_KEPT and entry != entry.lower():
            raise ValueError(f"{where}: entry {entry!r} must be lower-case: lines are lower-cased")
        if section == "labels" and line_key(entry) != entry:
            raise ValueError(f"{where}: label {entry!r} is not a line key (lower-case words separated "
                             f"by single spaces); write it as {line_key(entry)!r}")
        if entry in seen:
            raise ValueError(f"{where} lists {entry!r} twice")
        seen.add(entry)


def parse_phrase_file(name: str, text: str) -> dict[str, object]:
    """Parse and check the text of one phrase file; raise ValueError saying what to fix."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{name}: must hold a JSON object of sections")
    for section, value in data.items():
        if section in SECTIONS:
            _check_entries(f"{name}: {section}", section, value)
        elif section in REASON_SECTIONS:
            if not isinstance(value, dict):
                raise ValueError(f"{name}: {section} must map reason codes to lists of strings")
            allowed = _ALLOWED_REASONS.get(section, PHRASE_REASONS)
            for reason, entries in value.items():
                if reason not in allowed:
                    raise ValueError(f"{name}: {section} names reason {reason!r}; "
                                     f"allowed: {', '.join(allowed)}")
                _check_entries(f"{name}: {section}.{reason}", section, entries)
        else:
            known = ", ".join(sorted(SECTIONS) + sorted(REASON_SECTIONS))
            raise ValueError(f"{name}: unknown section {section!r}; known sections: {known}")
    return data


def load_phrasebook(directory: PhraseDirectory = PHRASE_DIR) -> Phrasebook:
    """Read every ``*.json`` phrase file of ``directory`` (sorted by name) and merge them.

    Raises ValueError when a file is invalid or when two reasons claim the same label.
    """
    files = sorted((item for item in directory.iterdir() if item.name.endswith(".json")),
                   key=lambda item: item.name)
    lists: dict[str, set[str]] = {}
    by_reason: dict[tuple[str, str], set[str]] = {}
    for item in files:
        data = parse_phrase_file(item.name, item.read_text(encoding="utf-8"))
        for section, value in data.items():
            if section in SECTIONS:
                lists.setdefault(section, set()).update(value)
            else:
                for reason, entries in value.items():
                    by_reason.setdefault((section, reason), set()).update(entries)
    label_reason: dict[str, str] = {}
    for (section, reason), entries in sorted(by_reason.items()):
        if section != "labels":
            continue
        for entry in sorted(entries):
            other = label_reason.setdefault(entry, reason)
            if other != reason:
                raise ValueError(f"label {entry!r} is listed for two reasons: {other} and {reason}")
    return Phrasebook(
        languages=tuple(item.name[:-len(".json")] for item in files),
        lists=tuple((section, frozenset(lists[section])) for section in sorted(lists)),
        by_reason=tuple((section, reason, frozenset(entries))
                        for (section, reason), entries in sorted(by_reason.items())),
    )
