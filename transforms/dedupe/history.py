"""Copies across the days of a lake: the dedupe index and the lookup of earlier dates.

A dated run (``--date``) writes, beside its tables, ``dedupe_index/dt=<date>/``: one
:class:`~transforms.records.IndexRow` per input record Dedupe decided on, with what matching needs
and no text (body hash, canonical URL, publisher-scoped id, MinHash signature, and the article of
``articles/`` the record is or copies). It is committed with the date's other files, so a rerun of
the date replaces it too.

The next dated run looks back ``--dedupe-days`` dates (strictly earlier than its own: a rerun of an
old date sees the same history it saw the first time, whatever ran after it). It never re-reads
earlier bodies and never gathers the history in one place:

1. **Today's keys** (one combiner over today's fingerprints): the set of today's body hashes,
   canonical URLs and ids, and one 64-bit number per LSH band of each signature. Its size follows
   the day, not the number of days looked back.
2. **Lookup** (one element per index file, on any worker): each file of the window is read in
   columns and a row is kept only when it shares a key with today (the band numbers are compared
   vectorised); most of the history stops here.
3. The rows kept become fingerprints of earlier dates and join today's in Dedupe's graph, where
   they come first in every order (:func:`transforms.dedupe.rules.canonical_order`): a story that holds
   an earlier article keeps that article, and today's copies name it (``duplicate_of`` with
   ``duplicate_of_dt``). Earlier dates' files are never written.

An index written with other MinHash settings (``--near-*``) still matches exact copies, URLs and
ids; its signatures are not compared (they would measure nothing), and a warning says so.
"""
from __future__ import annotations

import datetime
import logging
from typing import NamedTuple, Optional

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics

from transforms.dedupe.minhash import MinHashParams, band_hashes, signature_array
from transforms.dedupe.rules import Fingerprint
from transforms.io import lake, store
from transforms.records import INDEX_TABLE, IndexRow
from transforms.rejects import StageFailure, is_transient

LOG = logging.getLogger("newsbeam.history")
STAGE = "dedupe"
_COLUMNS = ["record_key", "article_id", "cluster_id", "cluster_dt", "body_hash", "canonical_url", "published_at",
            "body_chars", "source_file", "source_line", "minhash", "signature", "shingles", "cluster_body_hash",
            "cluster_url", "cluster_signature", "cluster_shingles"]


def minhash_id(params: MinHashParams) -> str:
    return f"{params.shingle_size}/{params.num_perm}/{params.bands}"


def _shift(day: datetime.date, days: int) -> datetime.date:
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:  # before year 1 or after 9999: the calendar's own end
        return datetime.date.min if days < 0 else datetime.date.max


def window(day: datetime.date, days: int) -> tuple[str, str]:
    """[first, last] dates a run of ``day`` looks back on, as the lake's state writes dates (first >
    last: none)."""
    if days <= 0 or day == datetime.date.min:  # nothing before it to look back on
        return day.isoformat(), "0000-00-00"
    return _shift(day, -days).isoformat(), _shift(day, -1).isoformat()


class LakeHistory(NamedTuple):
    """What a dated run sees of its lake: the index files it matches against, and the later dates
    that ran without it."""

    files: list  # (date, path) of the current index files of the dates looked back on, sorted
    later: list  # dates after the run's own that look back on it (within the same number of days)
    known_dates: tuple = ()  # every date the lake holds

    @property
    def dates(self) -> list[str]:
        return sorted({dt for dt, _ in self.files})


def lake_history(output: str, date: Optional[datetime.date], days: int) -> LakeHistory:
    """The lake ``output`` around ``date`` (one read of its state); nothing for an undated run, a
    new output or ``days == 0``. Later dates were run without this date's articles as history, so a
    story of both dates is an article in each."""
    state = lake.lake_state(output) if date and days > 0 else None
    if state is None:
        return LakeHistory([], [], ())
    first, last = window(date, days)
    files = sorted((e["dt"], store.join(output, e["path"])) for e in state["tables"].get(INDEX_TABLE, [])
                   if e.get("dt") and first <= e["dt"] <= last and e.get("rows", 1) > 0)
    until = _shift(date, days).isoformat()
    dates = state.get("dates", [])
    return LakeHistory(files, [d for d in dates if date.isoformat() < d <= until], tuple(dates))


def index_row(fp, verdict, params: MinHashParams) -> IndexRow:
    """The index row of a fingerprint of today's run (``transforms.dedupe.rules.Fingerprint``) and its
    verdict (None for a kept article): a copy also carries what its article is compared by."""
    body, url, sig, shingles = verdict.target_view if verdict is not None and verdict.target_view else (
        None, None, None, None)
    return IndexRow(record_key=fp.rk, article_id=fp.article_id,
                    cluster_id=verdict.target_id if verdict is not None else fp.article_id,
                    cluster_dt=verdict.target_dt if verdict is not None else None,
                    body_hash=fp.body_hash, canonical_url=fp.canonical_url, published_at=fp.published_at,
                    body_chars=fp.body_chars, source_file=fp.source_file, source_line=fp.source_line,
                    minhash=minhash_id(params), signature=fp.signature, shingles=fp.shingles,
                    cluster_body_hash=body, cluster_url=url, cluster_signature=sig, cluster_shingles=shingles)


class TodayKeys(NamedTuple):
    """What an earlier record must share with today's records to matter."""

    strings: frozenset  # body hashes, 'u:<canonical url>', 'i:<article id>'
    bands: np.ndarray  # sorted distinct band numbers of today's signatures (uint64)


class CollectTodayKeys(beam.CombineFn):
    """Fingerprints -> :class:`TodayKeys` (a set and a sorted array: about 40 bytes per key)."""

    def __init__(self, params: MinHashParams):
        self._params = params

    def create_accumulator(self):
        return set(), []

    def add_input(self, acc, fp):
        strings, bands = acc
        strings.add(fp.body_hash)
        strings.add(f"i:{fp.article_id}")
        if fp.canonical_url:
            strings.add(f"u:{fp.canonical_url}")
        if fp.signature is not None:
            bands.append(band_hashes(signature_array(fp.signature)[None, :], self._params).ravel())
            if len(bands) >= 1024:
                bands[:] = [np.unique(np.concatenate(bands))]
        return acc

    def merge_accumulators(self, accumulators):
        strings, bands = set(), []
        for more_strings, more_bands in accumulators:
            strings |= more_strings
            bands.extend(more_bands)
        return strings, ([np.unique(np.concatenate(bands))] if bands else [])

    def extract_output(self, acc):
        strings, bands = acc
        merged = np.unique(np.concatenate(bands)) if bands else np.zeros(0, dtype=np.uint64)
        return TodayKeys(frozenset(strings), merged)


def matching_rows(table, keys: TodayKeys, params: MinHashParams) -> list[int]:
    """Positions of the rows of an index table (pyarrow) that share a key with today's records."""
    hits = set()
    columns = {name: table.column(name).to_pylist() for name in ("body_hash", "canonical_url", "article_id")}
    strings = keys.strings
    for i, (body, url, article) in enumerate(zip(columns["body_hash"], columns["canonical_url"], columns["article_id"])):
        if body in strings or f"i:{article}" in strings or (url and f"u:{url}" in strings):
            hits.add(i)
    if len(keys.bands):
        same = [i for i, m in enumerate(table.column("minhash").to_pylist()) if m == minhash_id(params)]
        sigs = table.column("signature").to_pylist()
        signed = [i for i in same if sigs[i] is not None]
        if signed:
            matrix = np.stack([signature_array(sigs[i]) for i in signed])
            found = np.isin(band_hashes(matrix, params), keys.bands).any(axis=1)
            hits.update(np.asarray(signed)[found].tolist())
    return sorted(hits)


def unreadable_index_message(output: str, dt: str, path: str, exc: BaseException) -> str:
    """Why the dedupe index file ``path`` of date ``dt`` of the lake ``output`` cannot be read, and
    how to mend the lake."""
    try:
        named = any(store.join(output, e["path"]) == path
                    for e in lake.current_state(output)["tables"].get(INDEX_TABLE, []))
    except Exception:  # pylint: disable=broad-except  (the state itself is damaged: say what we know)
        named = True
    if not named:
        return (f"the dedupe index of {dt} ({path}) was replaced while this run was running (that date was rerun "
                "meanwhile), so this run's history changed under it. Run this date again; dates of one lake must "
                "run one at a time.")
    what = "is missing" if not store.exists(path) else f"cannot be read ({type(exc).__name__}: {str(exc)[:160]})"
    return (f"the lake is damaged: the dedupe index file {path} of {dt} {what}. Repair it by running {dt} and the "
            f"dates after it again, oldest first (newsbeam backfill --from {dt} --to LAST_DATE --input "
            f"'RAW{{date}}' --output {output}), or run this date with a --dedupe-days that does not reach back to "
            f"{dt}.")


class ReadHistory(beam.DoFn):
    """(date, index file) -> the fingerprints of its rows that share a key with today's records."""

    def __init__(self, params: MinHashParams, fs_options: dict, output: str):
        self._params = params
        self._fs_options = fs_options
        self._output = output  # the lake, named in the message when a file of its index cannot be read
        self._rows = Metrics.counter(STAGE, "history_rows_read")
        self._matched = Metrics.counter(STAGE, "history_rows_matched")

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, element, keys: TodayKeys):
        import pyarrow as pa
        import pyarrow.parquet as pq

        dt, path = element
        try:
            with store.open_read(path) as handle:
                parquet = pq.ParquetFile(handle)
                present = set(parquet.schema_arrow.names)
                table = parquet.read(columns=[c for c in _COLUMNS if c in present])  # older indexes lack some
        except Exception as exc:
            if is_transient(exc):
                raise
            raise StageFailure(unreadable_index_message(self._output, dt, path, exc)) from exc
        self._rows.inc(table.num_rows)
        ours = minhash_id(self._params)
        foreign = {m for m in table.column("minhash").to_pylist() if m != ours}
        if foreign:
            LOG.warning("%s was written with MinHash settings %s, not %s: its near-copies are not matched, only "
                        "exact copies, URLs and ids", path, ", ".join(sorted(foreign)), ours)
        rows = table.take(pa.array(matching_rows(table, keys, self._params), type=pa.int64())).to_pylist()
        self._matched.inc(len(rows))
        for row in rows:
            row = {**dict.fromkeys(_COLUMNS), **row}
            same_settings = row["minhash"] == ours
            view = None
            if row["cluster_body_hash"] is not None:  # a copy: today's records are compared with its article
                view = (row["cluster_body_hash"], row["cluster_url"],
                        row["cluster_signature"] if same_settings else None, row["cluster_shingles"] or 0)
            yield Fingerprint(
                rk=f"h{dt}:{row['record_key']}", article_id=row["article_id"], body_hash=row["body_hash"],
                canonical_url=row["canonical_url"], published_at=row["published_at"], body_chars=row["body_chars"],
                source_file=row["source_file"], source_line=row["source_line"],
                signature=row["signature"] if same_settings else None, shingles=row["shingles"],
                history_dt=dt, cluster_id=row["cluster_id"], cluster_dt=row["cluster_dt"] or dt, cluster_view=view)


class LookUpHistory(beam.PTransform):
    """Today's fingerprints -> fingerprints of earlier dates' records that share a key with them."""

    def __init__(self, files: list[tuple[str, str]], params: MinHashParams, output: str):
        super().__init__()
        self._files, self._params, self._output = files, params, output

    def expand(self, fps):
        params = self._params
        keys = fps | "Today's Keys" >> beam.CombineGlobally(CollectTodayKeys(params))
        return (
            fps.pipeline
            | "History Files" >> beam.Create(self._files)
            | "Spread History Files" >> beam.Reshuffle()
            | "Read Matching History" >> beam.ParDo(ReadHistory(params, store.filesystem_options(fps.pipeline),
                                                                self._output),
                                                    keys=beam.pvalue.AsSingleton(keys))
        )


def references_into(output: str, state: dict, first: str, last: str, after: str) -> dict[str, int]:
    """{later date: rows} of the duplicates of dates after ``after`` (in the lake ``output`` as
    ``state`` holds it) whose ``duplicate_of`` names an article of a date in [``first``, ``last``]:
    the rows a rerun of those dates could leave naming an article that is gone."""
    import pyarrow.parquet as pq

    found: dict[str, int] = {}
    for entry in state["tables"].get("duplicates", []):
        dt = entry.get("dt")
        if not dt or dt <= after or not entry.get("rows", 1):
            continue
        with store.open_read(store.join(output, entry["path"])) as handle:
            named = pq.ParquetFile(handle).read(columns=["duplicate_of_dt"]).column(0).to_pylist()
        count = sum(1 for day in named if day and first <= day <= last)
        if count:
            found[dt] = found.get(dt, 0) + count
    return dict(sorted(found.items()))
