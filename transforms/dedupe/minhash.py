"""MinHash signatures and locality-sensitive banding for near-duplicate detection (pure functions).

A body is reduced to its *shingles*: every run of ``shingle_size`` consecutive words, after the
text is normalised so that what syndication changes does not count (invisible format characters,
Unicode NFKC, case, curly and straight quotes, dashes, punctuation, whitespace). Scripts written
without spaces (Chinese, Japanese, Thai) count each character as a word.

Each shingle is hashed to 64 bits (CRC-32 of each word, mixed in a fixed way: no salted ``hash()``,
so every process and runner gets the same numbers). The signature is, for each of ``num_perm``
fixed hash functions ``h_i(x) = (a_i * x + b_i) mod 2^64 >> 32``, the smallest value over the
shingles: two signatures agree in a position with probability equal to the Jaccard similarity of
the two shingle sets, so the share of equal positions estimates it (standard error
``sqrt(J(1-J)/num_perm)``, 0.031 at J = 0.5 with 256 permutations).

Banding splits the signature into ``bands`` bands of ``num_perm / bands`` rows; two bodies become
candidates when any band is equal, which happens with probability ``1 - (1 - J^rows)^bands``: the
S-curve whose steep part sits near ``(1/bands)^(1/rows)``.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from transforms.text import remove_invisible

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_SEED = 20240611  # fixed: signatures must be comparable across runs, runners and days
# Quotes, apostrophes and dashes that syndication rewrites; all become a space (punctuation is not
# part of a word).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NO_SPACE_SCRIPTS = re.compile(r"([\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")


@dataclass(frozen=True)
class MinHashParams:
    """Shingle size, permutations and bands; the defaults are what ``benchmarks/dedupe.py`` chose."""

    shingle_size: int = 5
    num_perm: int = 128
    bands: int = 32

    def __post_init__(self):
        if self.shingle_size < 1 or self.num_perm < 1 or self.bands < 1:
            raise ValueError("shingle size, permutations and bands must be positive")
        if self.num_perm % self.bands:
            raise ValueError(f"permutations ({self.num_perm}) must be a multiple of bands ({self.bands})")

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that two bodies of this Jaccard similarity share at least one band."""
        return 1.0 - (1.0 - jaccard ** self.rows) ** self.bands


def words(text: str) -> list[str]:
    """The words of ``text`` once normalised: invisible format characters removed (a zero-width
    space inside a word does not split it), NFKC, case-folded, punctuation and quotes dropped; each
    character of a script written without spaces is a word of its own."""
    text = unicodedata.normalize("NFKC", remove_invisible(text)).casefold()
    text = _NO_SPACE_SCRIPTS.sub(r" \1 ", text)
    return _WORD.findall(text)


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """The distinct 64-bit hashes of the ``size``-word shingles of ``text`` (sorted). A text shorter
    than ``size`` words is one shingle; a text without words has none."""
    tokens = words(text)
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    ids = np.fromiter((zlib.crc32(t.encode("utf-8", "surrogatepass")) for t in tokens), dtype=np.uint64,
                      count=len(tokens))
    span = min(size, len(ids))
    count = len(ids) - span + 1
    mixed = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(span):  # a polynomial over the word ids: order matters, as in the text
            mixed = mixed * np.uint64(0x100000001B3) + ids[offset:offset + count] + np.uint64(offset + 1)
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(32)
    return np.unique(mixed)


def _constant(num_perm_index: int, role: str) -> int:
    """A fixed 64-bit constant from a hash of its name: the same for every numpy and Python version
    (numpy does not promise its random streams stay the same across versions)."""
    name = f"newsbeam-minhash:{_SEED}:{num_perm_index}:{role}".encode("ascii")
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "little")


@functools.lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed hash functions (read-only arrays, made once per process)."""
    a = np.array([_constant(i, "a") | 1 for i in range(num_perm)], dtype=np.uint64)  # odd multipliers
    b = np.array([_constant(i, "b") for i in range(num_perm)], dtype=np.uint64)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def signature(text: str, params: MinHashParams = MinHashParams()) -> Optional[bytes]:
    """The MinHash signature of ``text`` as ``num_perm`` little-endian uint32 values, or None when the
    text has no words."""
    return signature_of(shingle_hashes(text, params.shingle_size), params)


def signature_of(hashes: np.ndarray, params: MinHashParams = MinHashParams()) -> Optional[bytes]:
    """The signature of a set of shingle hashes (see :func:`signature`)."""
    if not len(hashes):
        return None
    a, b = _permutations(params.num_perm)
    sig = np.full(params.num_perm, 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for start in range(0, len(hashes), 2048):  # bounded memory for very long bodies
            chunk = hashes[start:start + 2048]
            values = ((a[:, None] * chunk[None, :] + b[:, None]) >> np.uint64(32)).astype(np.uint32)
            np.minimum(sig, values.min(axis=1), out=sig)
    return sig.astype("<u4").tobytes()


def similarity(sig_a: bytes, sig_b: bytes) -> float:
    """Estimated Jaccard similarity: the share of positions where the two signatures agree."""
    a = np.frombuffer(sig_a, dtype="<u4")
    b = np.frombuffer(sig_b, dtype="<u4")
    if len(a) != len(b):
        raise ValueError("signatures of different lengths cannot be compared")
    return float(np.count_nonzero(a == b)) / len(a)


def containment(jaccard: float, size_a: int, size_b: int) -> float:
    """The share of the smaller shingle set found in the larger, from their Jaccard similarity and
    sizes: |A n B| = J (|A| + |B|) / (1 + J). High when one body is the other with a paragraph cut
    or added, where the Jaccard similarity alone drops."""
    if not size_a or not size_b:
        return 0.0
    return min(1.0, jaccard * (size_a + size_b) / ((1.0 + jaccard) * min(size_a, size_b)))


def band_keys(sig: bytes, params: MinHashParams = MinHashParams()) -> list[str]:
    """One key per band: the band number and a digest of its rows (a plain string, so that grouping
    on it is deterministic)."""
    width = params.rows * 4
    return [f"{i:03d}:" + hashlib.blake2b(sig[i * width:(i + 1) * width], digest_size=10).hexdigest()
            for i in range(params.bands)]


def band_hashes(signatures: np.ndarray, params: MinHashParams = MinHashParams()) -> np.ndarray:
    """One 64-bit number per band of each signature (rows of ``num_perm`` uint32 values), equal
    whenever the bands are: a vectorised stand-in for :func:`band_keys` that is only ever used to
    find candidates (equal numbers of unequal bands merely add a pair that verification drops)."""
    sigs = np.asarray(signatures, dtype=np.uint64).reshape(len(signatures), params.bands, params.rows)
    mixed = np.zeros(sigs.shape[:2], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for row in range(params.rows):
            mixed = mixed * np.uint64(0x100000001B3) + sigs[:, :, row]
        mixed = mixed * np.uint64(0x9E3779B97F4A7C15) + np.arange(params.bands, dtype=np.uint64)
        mixed ^= mixed >> np.uint64(31)
    return mixed


def signature_array(sig: bytes) -> np.ndarray:
    return np.frombuffer(sig, dtype="<u4")


def exact_jaccard(text_a: str, text_b: str, size: int) -> float:
    """The true Jaccard similarity of two texts' shingle sets (for tests and benchmarks)."""
    a, b = shingle_hashes(text_a, size), shingle_hashes(text_b, size)
    if not len(a) and not len(b):
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


OVERSIZED_WINDOW = 4  # in a bucket over max_bucket, each member is compared with this many next ones


def pairs_in_bucket(members: Iterable[str], max_bucket: int) -> list[tuple[str, str]]:
    """Candidate pairs (smaller, larger) among the members of one band bucket.

    Up to ``max_bucket`` members: every pair. Above it (thousands of pages sharing a band, such as
    a recurring short notice), each member is paired with the bucket's first member and with its
    next ``OVERSIZED_WINDOW`` members in sorted order only, so the work grows linearly with the
    bucket instead of with its square. Members that are all alike end up connected through the
    first one, a star that connected components resolve in a round or two.
    """
    ordered = sorted(set(members))
    n = len(ordered)
    if n <= max_bucket:
        return [(ordered[i], ordered[j]) for i in range(n) for j in range(i + 1, n)]
    pairs = {(ordered[0], ordered[j]) for j in range(1, n)}
    pairs.update((ordered[i], ordered[j]) for i in range(1, n) for j in range(i + 1, min(n, i + 1 + OVERSIZED_WINDOW)))
    return sorted(pairs)
