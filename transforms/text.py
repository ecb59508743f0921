"""The normalised text that exact copies are compared by: one definition for the content hash of a
page (Validate's ``content_hash``) and of a cleaned body (Dedupe's body hash)."""
from __future__ import annotations

import hashlib
import re
import unicodedata

from transforms.records import remove_invisible

_WS = re.compile(r"\s+")


def normalise_for_hash(text: str) -> str:
    """The text that exact dedupe compares: invisible format characters removed (before NFKC, so
    that a letter and its accent split by one compose again), NFKC, case-folded, whitespace
    collapsed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", remove_invisible(text)).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8", "surrogatepass")).hexdigest()
