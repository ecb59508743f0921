"""Text primitives of the line rules: normalised lines, line keys, word counts, sentence ends.

Nothing here depends on a language: these are the script-level facts the rules and the
phrase book loader share.
"""
from __future__ import annotations

import re
import unicodedata

from transforms.clean.limits import LIMITS

_WHITESPACE = re.compile(r"\s+")
_WORD_SPLIT = re.compile(r"[\W\d_]+")
_CJK = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

CLOSERS = "\"'”’»)]"
_TERMINALS = frozenset(".!?…。！？:;")


def normalise_lines(text: str) -> list[str]:
    """NFC-normalise ``text``, split it into lines, collapse whitespace, drop blank lines."""
    text = unicodedata.normalize("NFC", text)
    lines = []
    for raw in text.splitlines():
        line = _WHITESPACE.sub(" ", raw).strip()
        if line:
            lines.append(line)
    return lines


def line_key(line: str) -> str:
    """Lower-case ``line`` keeping only its words: '12 Comments »' -> 'comments'."""
    return _WORD_SPLIT.sub(" ", line.lower()).strip()


def word_count(line: str) -> float:
    """Words in ``line``; a Chinese, Japanese or Thai character counts as half a word."""
    spaced = line.count(" ") + 1
    if line.isascii():
        return spaced
    return spaced + len(_CJK.findall(line)) * LIMITS.cjk_char_words


def ends_sentence(line: str) -> bool:
    """True when ``line`` ends with sentence punctuation, closing quotes aside."""
    return line.rstrip(CLOSERS)[-1:] in _TERMINALS


def ends_with_period(line: str) -> bool:
    """True when ``line`` ends with a full stop (not an ellipsis), closing quotes aside."""
    bare = line.rstrip(CLOSERS)
    return bare.endswith(".") and not bare.endswith("..")
