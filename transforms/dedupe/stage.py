"""Dedupe in Beam: the rules of :mod:`transforms.dedupe.rules` computed with combiners and shuffles,
over light fingerprints of the articles (never whole articles), the verdicts joined back at the end.
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import DedupeConfig, RunConfig
from transforms.dedupe import history
from transforms.dedupe.components import ConnectedComponents
from transforms.dedupe.minhash import MinHashParams, band_keys, pairs_in_bucket
from transforms.dedupe.rules import (Verdict, canonical_order, copies_by_similarity, fingerprint, identities,
                                     make_verdict, minhash_params, version_order)
from transforms.records import Article, DuplicateRow
from transforms.rejects import REJECTED, DeadLetterDoFn, reject_fault

STAGE = "dedupe"
DUPLICATES = "duplicates"
INDEX = "index"

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


# --------------------------------------------------------------------------------------
# Near-copy links between bodies

def _candidate_pairs(bucket, max_bucket: int):
    _, members = bucket
    members = list(members)
    if len(members) > max_bucket:
        Metrics.counter(STAGE, "near_oversized_buckets").inc()
    return pairs_in_bucket(members, max_bucket)


def _attach_first(key_group):
    """(u, {sig: [(sig_u, n_u)], pairs: [v...]}) -> (v, (u, sig_u, n_u)) for each partner v."""
    u, group = key_group
    for sig, count in group["sig"]:
        for v in group["pairs"]:
            yield v, (u, sig, count)


def _verify(key_group, config: DedupeConfig):
    """(v, {sig: [(sig_v, n_v)], firsts: [(u, sig_u, n_u)...]}) -> verified links (u, v)."""
    v, group = key_group
    for sig_v, count_v in group["sig"]:
        for u, sig_u, count_u in group["firsts"]:
            if copies_by_similarity(sig_u, count_u, sig_v, count_v, config):
                Metrics.counter(STAGE, "near_pairs_verified").inc()
                yield u, v
            else:
                Metrics.counter(STAGE, "near_pairs_rejected").inc()


class _NearLinks(beam.PTransform):
    """Body representatives -> links (body hash, body hash) between near-copies: LSH candidate
    pairs verified by their signatures."""

    def __init__(self, config: DedupeConfig):
        super().__init__()
        self._config = config

    def expand(self, reps):
        config = self._config
        params = minhash_params(config)
        signed = reps | "With Signature" >> beam.Filter(lambda fp: fp.signature is not None)
        sigs = signed | "Signature By Body" >> beam.Map(lambda fp: (fp.body_hash, (fp.signature, fp.shingles)))
        pairs = (
            signed
            | "Band Keys" >> beam.FlatMap(lambda fp: [(band, fp.body_hash) for band in band_keys(fp.signature, params)])
            | "Group Buckets" >> beam.GroupByKey()
            | "Candidate Pairs" >> beam.FlatMap(_candidate_pairs, config.max_bucket)
            | "Distinct Pairs" >> beam.Distinct()
        )
        firsts = (
            {"sig": sigs, "pairs": pairs}
            | "Join First Signature" >> beam.CoGroupByKey()
            | "To Second Body" >> beam.FlatMap(_attach_first)  # (v, (u, sig_u, n_u))
        )
        return (
            {"sig": sigs, "firsts": firsts}
            | "Join Second Signature" >> beam.CoGroupByKey()
            | "Verify Pairs" >> beam.FlatMap(_verify, config)
        )


# --------------------------------------------------------------------------------------
# Identity links between bodies

def _identity_links(key_group):
    """(identity, {bodies: [hash...], first: [hash]}) -> links (hash, first hash)."""
    _, group = key_group
    for first in group["first"]:
        for body in group["bodies"]:
            if body != first:
                yield body, first


class _IdentityLinks(beam.PTransform):
    """Fingerprints -> links between bodies that share a canonical URL or an id: each body to the
    smallest body of the identity, decided by a combiner."""

    def expand(self, fps):
        keyed = (fps | "Identities" >> beam.FlatMap(lambda fp: [(i, fp.body_hash) for i in identities(fp)])
                 | "One Per Identity And Body" >> beam.Distinct())
        first = keyed | "First Body" >> beam.CombinePerKey(min)
        return ({"bodies": keyed, "first": first}
                | "Join Bodies" >> beam.CoGroupByKey()
                | "Links" >> beam.FlatMap(_identity_links))


# --------------------------------------------------------------------------------------
# Decisions per story

def _with_labels(key_group):
    """(body, {rep: [fp], story: [label], publication: [label]}) -> (story, (rep, publication))."""
    body, group = key_group
    for rep in group["rep"]:
        for story in group["story"]:
            publication = next(iter(group["publication"]), body)
            yield story, (rep, publication)


def _lineage(key_group):
    """Members of the origin's publication: (story, (rep, publication))."""
    story, group = key_group
    for _, origin_publication in group["origin"]:
        for rep, publication in group["members"]:
            if publication == origin_publication:
                yield story, (rep, publication)


def _outcomes(key_group):
    """(story, {members, kept}) -> (body, (kept, same publication as kept)) for every member."""
    _, group = key_group
    for kept_rep, kept_publication in group["kept"]:
        for rep, publication in group["members"]:
            yield rep.body_hash, (kept_rep, publication == kept_publication)


def _record_verdicts(key_group):
    """(body, {records: [fp], rep: [fp], outcome: [...]}) -> a Verdict for every record not kept."""
    _, group = key_group
    for rep in group["rep"]:
        kept, same = next(iter(group["outcome"]), (rep, True))
        for fp in group["records"]:
            if fp.rk != kept.rk:
                yield make_verdict(fp, rep, kept, same)


class _DecideStories(beam.PTransform):
    """Body representatives, story labels and publication labels -> (body, outcome) for every
    body in a story of two or more bodies."""

    def expand(self, inputs):
        reps, stories, publications = inputs
        members = (
            {"rep": reps | "Rep By Body" >> beam.Map(lambda fp: (fp.body_hash, fp)), "story": stories,
             "publication": publications}
            | "Join Labels" >> beam.CoGroupByKey()
            | "Key By Story" >> beam.FlatMap(_with_labels)
        )
        origin = members | "Origin" >> beam.CombinePerKey(_Smallest(lambda m: canonical_order(m[0])))
        lineage = ({"members": members, "origin": origin}
                   | "Join Origin" >> beam.CoGroupByKey()
                   | "Origin's Publication" >> beam.FlatMap(_lineage))
        kept = lineage | "Newest Version" >> beam.CombinePerKey(_Smallest(lambda m: version_order(m[0])))
        return ({"members": members, "kept": kept}
                | "Join Kept" >> beam.CoGroupByKey()
                | "Outcomes" >> beam.FlatMap(_outcomes))


# --------------------------------------------------------------------------------------
# Joining back to the articles

class _Finish(DeadLetterDoFn):
    """Joins the verdicts back to the articles: a kept Article or a DuplicateRow each. Identical
    input records (the same element twice) share a record key: the first is what was decided, the
    others are its copies."""

    stage = STAGE

    def __init__(self, payload_limit: int, index: Optional[MinHashParams] = None):
        super().__init__(payload_limit)
        self._dropped = Metrics.counter(STAGE, "duplicates")
        self._index = index  # MinHash settings, when the run writes the dedupe index (a dated run)

    def handle(self, key_group):
        _, group = key_group
        verdict = next(iter(group["verdict"]), None)
        copies = sum(group["copies"])
        articles = list(group["article"])
        for index, article in enumerate(articles):
            if verdict is None and index == 0:
                yield article.model_copy(update={"cluster_id": article.article_id,
                                                 "copies": copies + len(articles) - 1})
                continue
            row = verdict or Verdict("", "", articles[0].article_id, "content", "same_content", 1.0)
            Metrics.counter(STAGE, f"duplicates_{row.method}").inc()
            if row.target_dt:
                Metrics.counter(STAGE, "duplicates_of_earlier_dates").inc()
            self._dropped.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES, DuplicateRow(
                article_id=article.article_id, given_id=article.given_id, duplicate_of=row.target_id,
                duplicate_of_dt=row.target_dt, cluster_id=row.target_id, method=row.method, reason=row.reason,
                similarity=row.similarity, source_file=article.source_file, source_line=article.source_line,
                url=article.url, source=article.source, published_at=article.published_at,
                content_hash=article.content_hash))
        if self._index is not None and articles:
            for fp in group["fp"]:
                yield beam.pvalue.TaggedOutput(INDEX, history.index_row(fp, verdict, self._index))

    def fault_row(self, key_group, exc):
        return [reject_fault(STAGE, exc, article, self.payload_limit) for article in key_group[1]["article"]]


class DedupeOutput(NamedTuple):
    """Dedupe's outputs: the kept articles, rejections (faults) and the dropped copies."""

    articles: Any  # PCollection[Article]
    rejected: Any  # PCollection[RejectedRow]
    duplicates: Any  # PCollection[DuplicateRow]
    index: Any = None  # PCollection[IndexRow], for a dated run: what later dates match against


class _Fingerprint(beam.DoFn):
    def __init__(self, config: DedupeConfig):
        self._config = config

    def process(self, article: Article):
        fp = fingerprint(article, self._config)
        yield fp.rk, article
        yield beam.pvalue.TaggedOutput("fingerprints", fp)


class Dedupe(beam.PTransform):
    """Article -> the kept Articles (main), DuplicateRows (``duplicates``), faults (``rejected``)."""

    def __init__(self, config: Optional[RunConfig] = None, history_files: Optional[list[tuple[str, str]]] = None):
        """``history_files``: (date, path) of the index files of earlier dates to match against;
        by default those of ``config.dedupe.history_days`` dates before ``config.date`` in
        ``config.output`` (found when the pipeline is built)."""
        super().__init__()
        self._config = config = config or RunConfig()
        if history_files is None:
            history_files = history.lake_history(config.output, config.date, config.dedupe.history_days).files
        self._history = history_files

    def expand(self, articles):
        config = self._config.dedupe
        split = articles | "Fingerprint" >> beam.ParDo(_Fingerprint(config)).with_outputs(
            "fingerprints", main="articles")
        keyed_fps = (split.fingerprints  # identical input records share a record key: one fingerprint each
                     | "Key By Record" >> beam.Map(lambda fp: (fp.rk, fp))
                     | "One Per Record" >> beam.CombinePerKey(_Smallest(canonical_order)))
        fps = keyed_fps | "Fingerprints" >> beam.Values()
        nodes = fps  # fingerprints in the graph: today's, and earlier dates' that share a key with them
        if self._history:
            earlier = fps | "Earlier Dates" >> history.LookUpHistory(self._history, minhash_params(config),
                                                                       self._config.output)
            nodes = (fps, earlier) | "With Earlier Dates" >> beam.Flatten()
        reps = (nodes | "Key By Body" >> beam.Map(lambda fp: (fp.body_hash, fp))
                | "Body Representative" >> beam.CombinePerKey(_Smallest(canonical_order))
                | "Representatives" >> beam.Values())
        identity_links = nodes | "Same URL Or Id" >> _IdentityLinks()
        publications = identity_links | "Publications" >> ConnectedComponents(
            rounds=config.rounds, namespace=STAGE)
        stories = publications  # without near links, a story is a publication
        if config.near:  # identical bodies are one node already: one signature per body is enough
            near_links = reps | "Near Copies" >> _NearLinks(config)
            stories = ((identity_links, near_links) | "All Links" >> beam.Flatten()
                       | "Stories" >> ConnectedComponents(rounds=config.rounds, namespace=STAGE))
        outcomes = (reps, stories, publications) | "Decide" >> _DecideStories()
        verdicts = (
            {"records": fps | "Records By Body" >> beam.Map(lambda fp: (fp.body_hash, fp)),
             "rep": reps | "Rep By Body For Records" >> beam.Map(lambda fp: (fp.body_hash, fp)),
             "outcome": outcomes}
            | "Join Outcomes" >> beam.CoGroupByKey()
            | "Record Verdicts" >> beam.FlatMap(_record_verdicts)
        )
        # Identical input records share a record key and a verdict: each counts as a copy.
        multiplicity = (split.articles | "Records Per Key" >> beam.MapTuple(lambda rk, _: (rk, 1))
                        | "Count Per Key" >> beam.CombinePerKey(sum))
        copies = (
            {"verdict": verdicts | "Verdict Targets" >> beam.Map(lambda v: (v.rk, v.target)), "n": multiplicity}
            | "Join Multiplicity" >> beam.CoGroupByKey()
            | "Count Copies" >> beam.FlatMap(lambda kg: [(target, sum(kg[1]["n"])) for target in kg[1]["verdict"]])
            | "Copies Per Kept" >> beam.CombinePerKey(sum))
        joined = {"article": split.articles, "verdict": verdicts | "Verdict By Record" >> beam.Map(lambda v: (v.rk, v)),
                  "copies": copies}
        index = minhash_params(config) if self._config.date else None
        if index is not None:
            joined["fp"] = keyed_fps
        out = (
            joined
            | "Join Verdicts To Articles" >> beam.CoGroupByKey()
            | "Keep Or Drop" >> beam.ParDo(_Finish(self._config.payload_limit, index)).with_outputs(
                DUPLICATES, REJECTED, INDEX, main="articles")
        )
        return DedupeOutput(out.articles, out[REJECTED], out[DUPLICATES], out[INDEX] if index is not None else None)
