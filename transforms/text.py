"""Text as newsbeam compares it: without invisible format characters (for hashes, shingles and
language detection), and normalised for the content hash of a page (Validate's ``content_hash``)
and of a cleaned body (Dedupe's body hash), one definition for both."""
from __future__ import annotations

import functools
import hashlib
import re
import sys
import unicodedata

_WS = re.compile(r"\s+")
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


@functools.lru_cache(maxsize=1)
def _format_characters() -> tuple[re.Pattern, re.Pattern]:
    """The characters of Unicode category Cf as Python's unicodedata knows them, made once per
    process on first use (the scan takes about 60 ms), in two patterns: those of the Basic
    Multilingual Plane, which ``re`` looks up in a bitmap (5 ms a million characters; one pattern
    of all of them took 140 ms), and the others (tags, musical and hieroglyph format controls),
    looked for only in a text holding characters beyond that plane."""
    found = [c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]

    def pattern(codes):
        return re.compile("[" + "".join(re.escape(chr(c)) for c in codes) + "]")

    return pattern(c for c in found if c <= 0xFFFF), pattern(c for c in found if c > 0xFFFF)


def remove_invisible(text: str) -> str:
    """``text`` without its invisible format characters (Unicode category Cf: zero-width space and
    joiners U+200B-U+200D, word joiner U+2060, byte order mark U+FEFF, soft hyphen U+00AD, bidi
    marks and isolates, ...), for what compares texts (hashes, shingles, language detection), never
    for what is stored.

    They are removed, not turned into spaces: a copy that differs from its original by inserted
    invisible characters ("T\u200bhe\u200b cat") is then the original again, wherever they were
    inserted. Where one stood between two words in place of a space, the words join, in every
    text alike."""
    basic, beyond = _format_characters()
    text = basic.sub("", text)
    return beyond.sub("", text) if _BEYOND_BMP.search(text) else text


def normalise_for_hash(text: str) -> str:
    """The text that exact dedupe compares: invisible format characters removed (before NFKC, so
    that a letter and its accent split by one compose again), NFKC, case-folded, whitespace
    collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", remove_invisible(text)).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8", "surrogatepass")).hexdigest()
