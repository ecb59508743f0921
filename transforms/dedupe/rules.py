"""The rules of Dedupe, as pure functions: one article per story; exact copies, updates and near-copies
collapse into it.

Runs on cleaned articles, so site chrome neither hides a copy nor makes two articles of one site
look alike. Every decision is made over a light *fingerprint* of each article (keys, order, MinHash
signature), never over whole articles, and the verdicts are joined back to the articles at the end.

1. **Bodies.** Records with the same normalised body are one *body*; its representative is its
   canonical record (below), chosen by a combiner, so a thousand identical pages are never one
   group. The graph below has one node per distinct body.
2. **Links.** Two bodies are linked when records of them share a canonical URL or a publisher's id
   (*identity links*), and when they are near-copies: MinHash signatures over word shingles,
   locality-sensitive banding, candidate pairs verified by estimated Jaccard similarity
   (``threshold``) or containment (``containment``: a paragraph cut or added).
3. **Publications and stories.** The connected components of the identity links are
   *publications* (one piece and its versions and copies); the components of all links are
   *stories* (:mod:`transforms.dedupe.components`).
4. **The article kept.** A story's *origin* is its canonical record: the earliest
   ``published_at`` (records without one come last), then the longest body, then the smallest
   ``article_id``. The article kept is the newest version of the origin's publication (an *update*
   replaces what it updates: the first record of the body that appeared last), which is the origin
   itself when the publication was never updated.

Every other record becomes a :class:`DuplicateRow` naming the kept article (``duplicate_of`` =
``cluster_id``), with how it relates to it (``method``/``reason``): ``content``/``same_content``
(the same body), ``url`` or ``id``/``superseded`` (an earlier version under the same URL or id),
``content``/``superseded`` (an earlier version linked through other records, or a copy of one),
``near``/``near_duplicate`` (a near-copy, or a copy of one), and the estimated similarity of the
two bodies. The kept article gets ``cluster_id`` (its own ``article_id``) and ``copies``.
Components and choices depend only on the data, never on arrival order, bundles or workers.
:func:`decide` states the rules as one plain function; :mod:`transforms.dedupe.stage` computes the
same with Beam's combiners and shuffles.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Iterable, NamedTuple, Optional

from transforms.config import DedupeConfig
from transforms.dedupe.components import components_of
from transforms.dedupe.minhash import MinHashParams, containment, shingle_hashes, signature_of, similarity
from transforms.records import Article
from transforms.text import content_hash, remove_invisible

_NO_DATE = datetime.max.replace(tzinfo=timezone.utc)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc) - _EPOCH


class Fingerprint(NamedTuple):
    """What Dedupe decides on: an article's keys, order and signature, without its text."""

    rk: str  # record key: unique per input record
    article_id: str
    body_hash: str
    canonical_url: Optional[str]
    published_at: Optional[datetime]  # always with a time zone (UTC)
    body_chars: int  # characters of the body, invisible format characters (Cf) left out
    source_file: str
    source_line: Optional[int]
    signature: Optional[bytes]  # None: too few words for near-duplicate detection
    shingles: int  # distinct shingles of the body (for the containment estimate)
    # A record of an earlier date of the lake (transforms.dedupe.history) has its date, and the article of
    # articles/ it is or copies (cluster_id, in date cluster_dt); today's records have None.
    history_dt: Optional[str] = None
    cluster_id: Optional[str] = None
    cluster_dt: Optional[str] = None
    # For a record of an earlier date that was a copy: its article's (body hash, canonical URL,
    # signature, shingles), what today's records are compared with when they collapse into it.
    cluster_view: Optional[tuple] = None


class Verdict(NamedTuple):
    """A dropped record and the article it collapsed into (``target``), with how it relates to it."""

    rk: str
    target: str  # record key of the article kept
    target_id: str  # that article's article_id
    method: str
    reason: str
    similarity: Optional[float]  # None when one of the bodies was too short for a signature
    target_dt: Optional[str] = None  # the earlier date of the lake holding the target, if any
    target_view: Optional[tuple] = None  # the named article's (body hash, canonical URL, signature, shingles)


# --------------------------------------------------------------------------------------
# Fingerprints and orders (pure)

def record_key(article: Article) -> str:
    """A key unique to one input record (its file and line, with its id and content hash for records
    made without a place in a file), as a plain string."""
    line = article.source_line if article.source_line is not None else ""
    where = f"{article.source_file}\x00{line}\x00{article.article_id}\x00{article.content_hash}"
    return hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def body_hash(article: Article) -> str:
    """The cleaned body's hash, normalised as a page's content hash is."""
    return content_hash(article.body)


def minhash_params(config: DedupeConfig) -> MinHashParams:
    return MinHashParams(shingle_size=config.shingle_size, num_perm=config.permutations, bands=config.bands)


def fingerprint(article: Article, config: DedupeConfig = DedupeConfig()) -> Fingerprint:
    body = article.body
    sig, count = None, 0
    if config.near:
        hashes = shingle_hashes(body, config.shingle_size)
        count = len(hashes)
        if count + config.shingle_size - 1 >= config.min_words:
            sig = signature_of(hashes, minhash_params(config))
    published = article.published_at
    if published is not None and published.tzinfo is None:  # Validate gives UTC; other callers may not
        published = published.replace(tzinfo=timezone.utc)
    # the visible length: a copy padded with zero-width spaces is not the longer body
    return Fingerprint(rk=record_key(article), article_id=article.article_id, body_hash=body_hash(article),
                       canonical_url=article.canonical_url, published_at=published,
                       body_chars=len(remove_invisible(body)), source_file=article.source_file,
                       source_line=article.source_line,
                       signature=sig, shingles=count)


def _history_first(fp: Fingerprint) -> tuple:
    """Records of earlier dates of the lake come before today's, the earliest article first: an
    article once published stays the one its later copies name."""
    if fp.history_dt:  # the article itself before its copies
        return (0, fp.cluster_dt or fp.history_dt, fp.cluster_view is not None, fp.history_dt)
    return (1, "", False, "")


def canonical_order(fp: Fingerprint) -> tuple:
    """The smallest is the canonical record: a record of an earlier date, then the earliest
    ``published_at``, then longest body, then smallest id, then the first place in the input (file
    path, line). Never a hash of the path: a clone in another folder must keep the same copy."""
    line = -1 if fp.source_line is None else fp.source_line
    return _history_first(fp) + (fp.published_at or _NO_DATE, -fp.body_chars, fp.article_id, fp.source_file or "",
                                 line, fp.rk)


def version_order(fp: Fingerprint) -> tuple:
    """The smallest is the newest version: a record of an earlier date (published, so never
    replaced), else the latest ``published_at`` (records without one count as older than any dated
    one), then the canonical order."""
    if fp.history_dt:
        return (-1, 0) + canonical_order(fp)
    if fp.published_at is None:
        return (1, 0) + canonical_order(fp)
    return (0, -((fp.published_at - _EPOCH) // _MICROSECOND)) + canonical_order(fp)


def target_of(kept: Fingerprint) -> tuple[str, Optional[str]]:
    """(article_id, date) of the article of articles/ that a record collapsing into ``kept`` names:
    ``kept`` itself, or for a record of an earlier date the article it was kept as or copied."""
    if kept.history_dt:
        return kept.cluster_id or kept.article_id, kept.cluster_dt or kept.history_dt
    return kept.article_id, None


def identities(fp: Fingerprint) -> list[str]:
    """What makes records versions of one publication: a canonical URL, a publisher's id."""
    return ([f"u:{fp.canonical_url}"] if fp.canonical_url else []) + [f"i:{fp.article_id}"]


def body_similarity(rep: Fingerprint, kept: Fingerprint) -> Optional[float]:
    """Estimated similarity of a body to the kept article's (None when one is too short)."""
    if rep.body_hash == kept.body_hash:
        return 1.0
    if rep.signature is None or kept.signature is None:
        return None
    return round(similarity(rep.signature, kept.signature), 4)


def relation(fp: Fingerprint, kept: Fingerprint, same_publication: bool) -> tuple[str, str]:
    """(method, reason) of a record to the article kept for its story; ``same_publication`` says
    whether its body belongs to the kept article's publication."""
    if fp.body_hash == kept.body_hash:
        return "content", "same_content"
    if not same_publication:
        return "near", "near_duplicate"
    reason = "republished" if kept.history_dt else "superseded"  # a published article is never replaced
    if kept.canonical_url and fp.canonical_url == kept.canonical_url:
        return "url", reason
    if fp.article_id == kept.article_id:
        return "id", reason
    return "content", reason  # a copy of an earlier version, or linked to it through other records


def article_view(kept: Fingerprint) -> Fingerprint:
    """What a record collapsing into ``kept`` is compared with: ``kept``, or for a record of an
    earlier date that was itself a copy, the article it copied (from the index)."""
    if not kept.history_dt or kept.cluster_view is None:
        return kept
    body, url, sig, shingles = kept.cluster_view
    return kept._replace(body_hash=body, canonical_url=url, signature=sig, shingles=shingles,
                         article_id=kept.cluster_id, cluster_view=None)


def make_verdict(fp: Fingerprint, rep: Fingerprint, kept: Fingerprint, same_publication: bool) -> Verdict:
    """The verdict of record ``fp`` (``rep``: its body's representative) collapsing into ``kept``."""
    article = article_view(kept)
    if article is not kept:  # kept is an earlier copy of ``article``: relate the record to the article
        same_publication = bool(fp.canonical_url and fp.canonical_url == article.canonical_url) or (
            fp.article_id == article.article_id)
    target_id, target_dt = target_of(kept)
    return Verdict(fp.rk, kept.rk, target_id, *relation(fp, article, same_publication),
                   body_similarity(rep, article), target_dt,
                   (article.body_hash, article.canonical_url, article.signature, article.shingles))


def decide(fingerprints: Iterable[Fingerprint], near_links: Iterable[tuple[str, str]] = ()) -> dict[str, Verdict]:
    """The verdict of every record that is not kept, keyed by record key: the rules of the module
    docstring on one machine (the Beam steps of :class:`Dedupe` compute the same with combiners and
    shuffles). ``near_links`` are verified near-copy pairs of body hashes. Fingerprints of earlier
    dates (``history_dt``) take part in the decisions but get no verdict."""
    fps = {fp.rk: fp for fp in fingerprints}
    rep: dict[str, Fingerprint] = {}
    for fp in fps.values():
        if fp.body_hash not in rep or canonical_order(fp) < canonical_order(rep[fp.body_hash]):
            rep[fp.body_hash] = fp
    first_body: dict[str, str] = {}
    for fp in fps.values():
        for identity in identities(fp):
            first_body[identity] = min(first_body.get(identity, fp.body_hash), fp.body_hash)
    identity_links = [(fp.body_hash, first_body[i]) for fp in fps.values() for i in identities(fp)
                      if first_body[i] != fp.body_hash]
    publication = components_of(identity_links)
    story = components_of(identity_links + list(near_links))
    members: dict[str, list[str]] = {}
    for body, label in story.items():
        members.setdefault(label, []).append(body)
    outcome: dict[str, tuple[Fingerprint, bool]] = {}  # body -> (kept, in the kept article's publication)
    for bodies in members.values():
        origin = min((rep[b] for b in bodies), key=canonical_order)
        lineage = [rep[b] for b in bodies if publication.get(b, b) == publication.get(origin.body_hash, origin.body_hash)]
        kept = min(lineage, key=version_order)
        for b in bodies:
            outcome[b] = (kept, publication.get(b, b) == publication.get(kept.body_hash, kept.body_hash))
    verdicts = {}
    for fp in fps.values():
        kept, same = outcome.get(fp.body_hash, (rep[fp.body_hash], True))
        if fp.rk != kept.rk and not fp.history_dt:
            verdicts[fp.rk] = make_verdict(fp, rep[fp.body_hash], kept, same)
    return verdicts


# --------------------------------------------------------------------------------------
# Combiners


def copies_by_similarity(sig_a: bytes, size_a: int, sig_b: bytes, size_b: int, config: DedupeConfig) -> bool:
    """The verification of a candidate pair: an estimated Jaccard similarity of at least
    ``threshold``, or one body mostly inside the other (``containment``, a paragraph cut or added)
    with a Jaccard similarity of at least ``min_jaccard``."""
    jaccard = similarity(sig_a, sig_b)
    if jaccard >= config.threshold:
        return True
    return jaccard >= config.min_jaccard and containment(jaccard, size_a, size_b) >= config.containment
