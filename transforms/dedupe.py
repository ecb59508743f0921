"""Dedupe: one article per story; exact copies, updates and near-copies collapse into it.

Runs on cleaned articles, so site chrome neither hides a copy nor makes two articles of one site
look alike. Every decision is made over a light *fingerprint* of each article (keys, order, MinHash
signature), never over whole articles, and the verdicts are joined back to the articles at the end.

1. **Links.** Records are linked when they have the same normalised body, the same canonical URL,
   or the same ``article_id`` (the same publisher's id), and when their bodies are near-copies:
   MinHash signatures over word shingles, locality-sensitive banding, candidate pairs verified by
   estimated Jaccard similarity (``threshold``) or containment (``containment``, a paragraph cut
   or added). Exact keys link every record to its key's smallest record key, decided by a
   combiner; a thousand identical pages are never one group of articles.
2. **Stories.** The connected components of the links (:mod:`transforms.components`).
3. **The article kept.** The story's canonical record is the earliest ``published_at`` (records
   without one come last), then the longest body, then the smallest ``article_id``. If a URL or
   publisher id that carries the canonical body also carries newer content (an *update*), the
   newest version is kept instead (the first record of the newest content); the earlier versions
   and their copies are ``superseded``.

Every other record of the story becomes a :class:`DuplicateRow` naming the kept article
(``duplicate_of`` = ``cluster_id``), with how it matches it: ``content`` (the same body:
``same_content``; the body of an earlier version: ``superseded``), ``url`` / ``id`` (an earlier
version: ``superseded``) or ``near`` (``near_duplicate``), and the estimated similarity of the two
bodies. The kept article gets ``cluster_id`` (its own ``article_id``) and ``copies``. Components
and choices depend only on the data, so every runner and worker count gives the same result.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, NamedTuple, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.components import ConnectedComponents
from transforms.config import DedupeConfig, RunConfig
from transforms.minhash import (MinHashParams, band_keys, containment, pairs_in_bucket, shingle_hashes, signature_of,
                                similarity)
from transforms.records import Article, DuplicateRow
from transforms.rejects import REJECTED, DeadLetterDoFn, reject_fault
from transforms.validate import normalise_for_hash

STAGE = "dedupe"
DUPLICATES = "duplicates"
_NO_DATE = datetime.max.replace(tzinfo=timezone.utc)

class Fingerprint(NamedTuple):
    """What Dedupe decides on: an article's keys, order and signature, without its text."""

    rk: str  # record key: unique per input record
    article_id: str
    body_hash: str
    canonical_url: Optional[str]
    published_at: Optional[datetime]
    body_chars: int
    source_file: str
    source_line: Optional[int]
    signature: Optional[bytes]  # None: too few words for near-duplicate detection
    shingles: int  # distinct shingles of the body (for the containment estimate)


class Verdict(NamedTuple):
    """A dropped record and the record it lost to (``target``), with how it was matched."""

    rk: str
    target: str  # record key of the record it collapsed into
    target_id: str  # that record's article_id
    method: str
    reason: str
    similarity: Optional[float]  # None when one of the bodies was too short for a signature


def record_key(article: Article) -> str:
    """A key unique to one input record (its file and line, with its id and content hash for records
    made without a place in a file), as a plain string."""
    line = article.source_line if article.source_line is not None else ""
    where = f"{article.source_file}\x00{line}\x00{article.article_id}\x00{article.content_hash}"
    return hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def body_hash(article: Article) -> str:
    return hashlib.sha256(normalise_for_hash(article.body).encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(article: Article, config: DedupeConfig = DedupeConfig()) -> Fingerprint:
    body = article.body
    sig, count = None, 0
    if config.near:
        hashes = shingle_hashes(body, config.shingle_size)
        count = len(hashes)
        if count + config.shingle_size - 1 >= config.min_words:
            sig = signature_of(hashes, minhash_params(config))
    return Fingerprint(rk=record_key(article), article_id=article.article_id, body_hash=body_hash(article),
                       canonical_url=article.canonical_url, published_at=article.published_at,
                       body_chars=len(body), source_file=article.source_file, source_line=article.source_line,
                       signature=sig, shingles=count)


def minhash_params(config: DedupeConfig) -> MinHashParams:
    return MinHashParams(shingle_size=config.shingle_size, num_perm=config.permutations, bands=config.bands)


def canonical_order(fp: Fingerprint) -> tuple:
    """The smallest is the canonical article: earliest date, then longest body, then smallest id."""
    return (fp.published_at or _NO_DATE, -fp.body_chars, fp.article_id, fp.rk)


def version_order(fp: Fingerprint) -> tuple:
    """The smallest is the newest version of a URL or id: the latest first appearance (records
    without a date count as older than any dated one), then the canonical order."""
    dated = fp.published_at is not None
    return (0 if dated else 1, -fp.published_at.timestamp() if dated else 0.0) + canonical_order(fp)


def identities(fp: Fingerprint) -> list[str]:
    """What makes two records versions of one publication: its canonical URL and its id."""
    return ([f"u:{fp.canonical_url}"] if fp.canonical_url else []) + [f"i:{fp.article_id}"]


def in_lineage(fp: Fingerprint, origin_identities: frozenset) -> bool:
    """A version of the origin's publication: the same URL or id as a record of the origin's body."""
    return any(identity in origin_identities for identity in identities(fp))


def verdict_for(fp: Fingerprint, kept: Fingerprint, lineage_hashes: frozenset) -> Verdict:
    """How a record of a story relates to the article kept for it."""
    if fp.body_hash == kept.body_hash:
        method, reason = "content", "same_content"
    elif kept.canonical_url and fp.canonical_url == kept.canonical_url:
        method, reason = "url", "superseded"
    elif fp.article_id == kept.article_id:
        method, reason = "id", "superseded"
    elif fp.body_hash in lineage_hashes:
        method, reason = "content", "superseded"  # a copy of an earlier version of the kept article
    else:
        method, reason = "near", "near_duplicate"
    if fp.body_hash == kept.body_hash:
        sim: Optional[float] = 1.0
    elif fp.signature is not None and kept.signature is not None:
        sim = round(similarity(fp.signature, kept.signature), 4)
    else:
        sim = None
    return Verdict(fp.rk, kept.rk, kept.article_id, method, reason, sim)


def decide_story(members: Iterable[Fingerprint]) -> tuple[Fingerprint, list[Verdict]]:
    """The article kept for one story and the verdict of every other member: what the Beam steps
    of :class:`Dedupe` compute with combiners, written as one function."""
    members = list(members)
    origin = min(members, key=canonical_order)
    known = frozenset(i for fp in members if fp.body_hash == origin.body_hash for i in identities(fp))
    firsts: dict[str, Fingerprint] = {}
    for fp in members:
        if in_lineage(fp, known) and (fp.body_hash not in firsts
                                      or canonical_order(fp) < canonical_order(firsts[fp.body_hash])):
            firsts[fp.body_hash] = fp
    kept = min(firsts.values(), key=version_order)
    hashes = frozenset(firsts)
    return kept, [verdict_for(fp, kept, hashes) for fp in sorted(members, key=canonical_order) if fp.rk != kept.rk]


class _Smallest(beam.CombineFn):
    """Keeps the element with the smallest ``order(element)``: a winner per key, without groups."""

    def __init__(self, order: Callable[[Any], tuple]):
        self._order = order

    def create_accumulator(self):
        return None

    def add_input(self, best, item):
        return item if best is None or self._order(item) < self._order(best) else best

    def merge_accumulators(self, accumulators):
        best = None
        for item in accumulators:
            if item is not None:
                best = self.add_input(best, item)
        return best

    def extract_output(self, best):
        return best


def record_order(fp: Fingerprint) -> tuple:
    return (fp.rk,)


class _Union(beam.CombineFn):
    """The set union of small sets (the content versions of one story's lineage)."""

    def create_accumulator(self):
        return frozenset()

    def add_input(self, acc, item):
        return acc | {item}

    def merge_accumulators(self, accumulators):
        return frozenset().union(*accumulators)

    def extract_output(self, acc):
        return acc


def _candidate_pairs(bucket, max_bucket: int):
    _, members = bucket
    members = list(members)
    if len(members) > max_bucket:
        Metrics.counter(STAGE, "near_oversized_buckets").inc()
    return pairs_in_bucket(members, max_bucket)


def copies_by_similarity(sig_a: bytes, size_a: int, sig_b: bytes, size_b: int, config: DedupeConfig) -> bool:
    """The verification of a candidate pair: an estimated Jaccard similarity of at least
    ``threshold``, or one body mostly inside the other (``containment``, a paragraph cut or added)
    with a Jaccard similarity of at least ``min_jaccard``."""
    jaccard = similarity(sig_a, sig_b)
    if jaccard >= config.threshold:
        return True
    return jaccard >= config.min_jaccard and containment(jaccard, size_a, size_b) >= config.containment


def _attach_first(key_group):
    """(u, {sig: [(sig_u, n_u)], pairs: [v...]}) -> (v, (u, sig_u, n_u)) for each partner v."""
    u, group = key_group
    for sig, count in group["sig"]:
        for v in group["pairs"]:
            yield v, (u, sig, count)


def _verify(key_group, config: DedupeConfig):
    """(v, {sig: [(sig_v, n_v)], firsts: [(u, sig_u, n_u)...]}) -> verified edges (u, v)."""
    v, group = key_group
    for sig_v, count_v in group["sig"]:
        for u, sig_u, count_u in group["firsts"]:
            if copies_by_similarity(sig_u, count_u, sig_v, count_v, config):
                Metrics.counter(STAGE, "near_pairs_verified").inc()
                yield u, v
            else:
                Metrics.counter(STAGE, "near_pairs_rejected").inc()


class _Finish(DeadLetterDoFn):
    """Joins the final verdicts back to the articles: a kept Article or a DuplicateRow each."""

    stage = STAGE

    def __init__(self, payload_limit: int):
        super().__init__(payload_limit)
        self._dropped = Metrics.counter(STAGE, "duplicates")

    def handle(self, key_group):
        _, group = key_group
        verdicts = list(group["verdict"])
        copies = sum(group["copies"])
        for article in group["article"]:
            if not verdicts:
                yield article.model_copy(update={"cluster_id": article.article_id, "copies": copies})
                continue
            (verdict,) = verdicts
            Metrics.counter(STAGE, f"duplicates_{verdict.method}").inc()
            self._dropped.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES, DuplicateRow(
                article_id=article.article_id, given_id=article.given_id, duplicate_of=verdict.target_id,
                cluster_id=verdict.target_id, method=verdict.method, reason=verdict.reason,
                similarity=verdict.similarity, source_file=article.source_file, source_line=article.source_line,
                url=article.url, source=article.source, published_at=article.published_at,
                content_hash=article.content_hash))

    def fault_row(self, key_group, exc):
        return [reject_fault(STAGE, exc, article, self.payload_limit) for article in key_group[1]["article"]]


class DedupeOutput(NamedTuple):
    """Dedupe's outputs: the kept (canonical) articles, rejections (faults) and the dropped copies."""

    articles: Any  # PCollection[Article]
    rejected: Any  # PCollection[RejectedRow]
    duplicates: Any  # PCollection[DuplicateRow]


class _Fingerprint(beam.DoFn):
    def __init__(self, config: DedupeConfig):
        self._config = config

    def process(self, article: Article):
        yield record_key(article), article
        yield beam.pvalue.TaggedOutput("fingerprints", fingerprint(article, self._config))


def _key_links(key_group):
    """(key, {members: [rk...], first: [fp]}) -> links (rk, first rk) for every other member."""
    _, group = key_group
    for first in group["first"]:
        for rk in group["members"]:
            if rk != first.rk:
                yield rk, first.rk


class _LinkBy(beam.PTransform):
    """Links of the records that share a key: each to the key's smallest record (a combiner
    decides it), so no group of records is ever gathered. Returns (links, first record per key)."""

    def __init__(self, key: Callable[[Fingerprint], Optional[str]]):
        super().__init__()
        self._key = key

    def expand(self, fingerprints):
        key = self._key
        keyed = fingerprints | "Key" >> beam.FlatMap(lambda fp: [(key(fp), fp)] if key(fp) else [])
        firsts = keyed | "First Record" >> beam.CombinePerKey(_Smallest(record_order))
        links = ({"members": keyed | "Record Keys" >> beam.MapTuple(lambda k, fp: (k, fp.rk)), "first": firsts}
                 | "Join Members" >> beam.CoGroupByKey()
                 | "Links" >> beam.FlatMap(_key_links))
        return links, firsts | "Firsts" >> beam.Values()


class _NearLinks(beam.PTransform):
    """Links between near-copies: LSH candidate pairs verified by their signatures."""

    def __init__(self, config: DedupeConfig):
        super().__init__()
        self._config = config

    def expand(self, fingerprints):
        config = self._config
        params = minhash_params(config)
        signed = fingerprints | "With Signature" >> beam.Filter(lambda fp: fp.signature is not None)
        sigs = signed | "Signature By Record" >> beam.Map(lambda fp: (fp.rk, (fp.signature, fp.shingles)))
        pairs = (
            signed
            | "Band Keys" >> beam.FlatMap(lambda fp: [(band, fp.rk) for band in band_keys(fp.signature, params)])
            | "Group Buckets" >> beam.GroupByKey()
            | "Candidate Pairs" >> beam.FlatMap(_candidate_pairs, config.max_bucket)
            | "Distinct Pairs" >> beam.Distinct()
        )
        firsts = (
            {"sig": sigs, "pairs": pairs}
            | "Join First Signature" >> beam.CoGroupByKey()
            | "To Second Record" >> beam.FlatMap(_attach_first)  # (v, (u, sig_u, n_u))
        )
        return (
            {"sig": sigs, "firsts": firsts}
            | "Join Second Signature" >> beam.CoGroupByKey()
            | "Verify Pairs" >> beam.FlatMap(_verify, config)
        )


def _origin_identities(key_group):
    """The URLs and ids of the records that carry the origin's body."""
    story, group = key_group
    for origin in group["origin"]:
        for fp in group["members"]:
            if fp.body_hash == origin.body_hash:
                for identity in identities(fp):
                    yield story, identity


def _in_lineage(key_group):
    story, group = key_group
    known = next(iter(group["identities"]), frozenset())
    for fp in group["members"]:
        if in_lineage(fp, known):
            yield (story, fp.body_hash), fp


def _verdicts(key_group):
    _, group = key_group
    hashes = next(iter(group["hashes"]), frozenset())
    for kept in group["kept"]:
        for fp in group["members"]:
            if fp.rk != kept.rk:
                yield verdict_for(fp, kept, hashes)


class _DecideStories(beam.PTransform):
    """(story label, fingerprint) of every linked record -> a Verdict for every record not kept;
    :func:`decide_story` with combiners instead of groups of members."""

    def expand(self, members):
        origin = members | "Canonical Record" >> beam.CombinePerKey(_Smallest(canonical_order))
        known = ({"members": members, "origin": origin}
                 | "Join Origin" >> beam.CoGroupByKey()
                 | "Origin URLs And Ids" >> beam.FlatMap(_origin_identities)
                 | "Identities Per Story" >> beam.CombinePerKey(_Union()))
        lineage = ({"members": members, "identities": known}
                   | "Join Identities" >> beam.CoGroupByKey()
                   | "Versions Of The Origin" >> beam.FlatMap(_in_lineage))
        firsts = (lineage
                  | "First Of Each Version" >> beam.CombinePerKey(_Smallest(canonical_order))
                  | "Key Versions By Story" >> beam.MapTuple(lambda story_version, fp: (story_version[0], fp)))
        kept = firsts | "Newest Version" >> beam.CombinePerKey(_Smallest(version_order))
        hashes = (firsts | "Version Hashes" >> beam.MapTuple(lambda story, fp: (story, fp.body_hash))
                  | "Versions Per Story" >> beam.CombinePerKey(_Union()))
        return ({"members": members, "kept": kept, "hashes": hashes}
                | "Join Kept" >> beam.CoGroupByKey()
                | "Verdicts" >> beam.FlatMap(_verdicts))


class Dedupe(beam.PTransform):
    """Article -> the kept Articles (main), DuplicateRows (``duplicates``), faults (``rejected``)."""

    def __init__(self, config: RunConfig = RunConfig()):
        super().__init__()
        self._config = config

    def expand(self, articles):
        config = self._config.dedupe
        split = articles | "Fingerprint" >> beam.ParDo(_Fingerprint(config)).with_outputs(
            "fingerprints", main="articles")
        fps = split.fingerprints
        content_links, one_per_body = fps | "Same Body" >> _LinkBy(lambda fp: fp.body_hash)
        url_links, _ = fps | "Same URL" >> _LinkBy(lambda fp: fp.canonical_url)
        id_links, _ = fps | "Same Id" >> _LinkBy(lambda fp: fp.article_id)
        links = [content_links, url_links, id_links]
        if config.near:  # identical bodies are linked already: one signature per body is enough
            links.append(one_per_body | "Near Copies" >> _NearLinks(config))
        labels = (links | "All Links" >> beam.Flatten()
                  | "Stories" >> ConnectedComponents(rounds=config.rounds, namespace=STAGE))
        members = (
            {"label": labels, "fp": fps | "Fingerprint By Record" >> beam.Map(lambda fp: (fp.rk, fp))}
            | "Join Labels" >> beam.CoGroupByKey()
            | "Key By Story" >> beam.FlatMap(
                lambda kv: [(label, fp) for label in kv[1]["label"] for fp in kv[1]["fp"]])
        )
        verdicts = members | "Decide" >> _DecideStories()
        copies = (verdicts | "Count Copies" >> beam.Map(lambda v: (v.target, 1))
                  | "Copies Per Kept" >> beam.CombinePerKey(sum))
        out = (
            {"article": split.articles, "verdict": verdicts | "Verdict By Record" >> beam.Map(lambda v: (v.rk, v)),
             "copies": copies}
            | "Join Verdicts To Articles" >> beam.CoGroupByKey()
            | "Keep Or Drop" >> beam.ParDo(_Finish(self._config.payload_limit)).with_outputs(
                DUPLICATES, REJECTED, main="articles")
        )
        return DedupeOutput(out.articles, out[REJECTED], out[DUPLICATES])
