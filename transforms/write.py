"""Write: the four Parquet tables and ``run.json``, published all at once.

Layout of an output (a local folder, or a prefix on an object store)::

    articles/language=<code>/part-<run>-00000-of-00001.parquet   one row per kept article
    entities/part-<run>-...parquet                              one row per article and distinct entity
    duplicates/part-<run>-...parquet                            one row per dropped copy
    rejected/part-<run>-...parquet                              one row per unusable record
    removed_lines/part-<run>-...parquet                         with keep_removed_lines: why each page line went
    run.json                                                    the last published run's counts
    _newsbeam/                                                  the commit log and current.json

Workers write each file straight to its place under a name only its run uses; nothing is renamed.
The last step commits the run (transforms/commit.py): until then readers of ``current.json`` see the
previous output, and a run that dies leaves it as it was.

Same input, same files: rows are sharded by a hash of their key into a number of files fixed by
the row count (``rows_per_file``), and sorted inside each file, so neither the runner nor the
number of workers changes what is written.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Optional

import apache_beam as beam
from apache_beam.metrics import Metrics
from pydantic import BaseModel

from transforms import commit, store
from transforms.commit import RUN_FILE, part_name
from transforms.config import RunConfig
from transforms.history import INDEX_TABLE
from transforms.records import Article, ArticleRow, DuplicateRow, EntityRow, IndexRow, RejectedRow, RemovedLineRow
from transforms.rejects import STAGE_ERROR, StageFailure
from transforms.schema import arrow_schema

STAGE = "write"
_SAFE_PARTITION = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class Table:
    name: str
    model: type[BaseModel]
    sort_key: Callable[[dict], tuple]
    partition_by: Optional[str] = None

    @property
    def schema(self):
        return arrow_schema(self.model, exclude=[self.partition_by] if self.partition_by else [])


TABLES = {
    "articles": Table("articles", ArticleRow, lambda r: (r["article_id"], r["source_file"], r["source_line"] or 0),
                      partition_by="language"),
    "entities": Table("entities", EntityRow, lambda r: (r["article_id"], r["first_start"], r["label"], r["text"])),
    "duplicates": Table("duplicates", DuplicateRow,
                        lambda r: (r["duplicate_of"], r["article_id"], r["source_file"], r["source_line"] or 0)),
    "rejected": Table("rejected", RejectedRow,
                      lambda r: (r["source_file"], r["source_line"] or 0, r["stage"], r["reason"], r["payload"])),
    "removed_lines": Table("removed_lines", RemovedLineRow, lambda r: (r["article_id"], r["ordinal"])),
    # Dated runs only: what later dates match their copies against (transforms/history.py).
    INDEX_TABLE: Table(INDEX_TABLE, IndexRow, lambda r: (r["record_key"],)),
}
CORE_TABLES = ("articles", "entities", "duplicates", "rejected")


def article_row(article: Article) -> ArticleRow:
    body = article.body
    return ArticleRow(
        article_id=article.article_id,
        given_id=article.given_id,
        source_file=article.source_file,
        source_line=article.source_line,
        url=article.url,
        canonical_url=article.canonical_url,
        source=article.source,
        title=article.title,
        byline=article.byline,
        published_at=article.published_at,
        published_text=article.published_text,
        body=body,
        language=article.language or "und",
        language_probability=article.language_probability or 0.0,
        other_languages=list(article.other_languages),
        entity_status=article.entity_status or "undetermined_language",
        entities=list(article.entities),
        char_count=len(body),
        word_count=len(body.split()),
        paragraph_count=len(article.paragraphs),
        removed_line_count=article.removed_line_count,
        entity_count=len(article.entities),
        text_encoding=article.text_encoding,
        content_hash=article.content_hash,
        cluster_id=article.cluster_id or article.article_id,
        copies=article.copies,
        stage_errors=list(article.stage_errors),
    )


def entity_rows(article: Article) -> list[EntityRow]:
    """One row per entity of the article (canonical name, label), with its mention count."""
    counts = Counter((e.canonical, e.label) for e in article.entities)
    first: dict[tuple[str, str], int] = {}
    forms: dict[tuple[str, str], list[str]] = {}
    for e in sorted(article.entities, key=lambda e: (e.start, e.end)):
        key = (e.canonical, e.label)
        first.setdefault(key, e.start)
        if e.text not in forms.setdefault(key, []):
            forms[key].append(e.text)
    return [
        EntityRow(article_id=article.article_id, language=article.language or "und", text=text, label=label,
                  mentions=counts[(text, label)], first_start=first[(text, label)], forms=forms[(text, label)])
        for (text, label) in sorted(counts, key=lambda k: (first[k], k))
    ]


def removed_line_rows(article: Article) -> list[RemovedLineRow]:
    return [RemovedLineRow(article_id=article.article_id, source=article.source, ordinal=i, text=line.text,
                           reason=line.reason)
            for i, line in enumerate(article.removed_lines)]


def partition_dir(table: Table, row: dict, date: Optional[str] = None) -> str:
    """The Hive folder of a row below its table ('' for unpartitioned tables of an undated run;
    ``dt=<date>/`` first for a dated one). Values never escape the table folder."""
    day = f"dt={date}" if date else ""
    if not table.partition_by:
        return day
    value = str(row.get(table.partition_by) or "und").lower()
    if not value or not set(value) <= _SAFE_PARTITION or value.strip("-_") == "":
        value = "und"
    return "/".join(p for p in (day, f"{table.partition_by}={value}") if p)


def shard_of(key: tuple, shards: int) -> int:
    digest = hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % shards


_CHUNK_ROWS = 1000  # rows turned into Arrow at a time: a file's rows are never all Python dicts at once


def write_part(output: str, run_id: str, table: Table, partition: str, shard: int, shards: int, rows) -> dict:
    """Write one Parquet file of sorted rows under a name only this run uses; returns its entry
    for the commit record. Writing it again (a retried bundle) writes the same rows.

    ``rows`` may be any iterable (a group as the runner hands it over): they are turned into Arrow
    record batches ``_CHUNK_ROWS`` at a time, with only their sort keys kept beside, then put in
    order by one ``take``. Peak memory is about twice the file's rows in Arrow form, not the rows
    as Python objects."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rel = "/".join(p for p in (table.name, partition, part_name(run_id, shard, shards)) if p)
    schema = table.schema
    keys: list[tuple] = []
    batches: list = []
    chunk: list[dict] = []

    def flush():
        if chunk:
            if table.partition_by:
                for r in chunk:
                    r.pop(table.partition_by, None)
            batches.append(pa.RecordBatch.from_pylist(chunk, schema=schema))
            chunk.clear()

    for row in rows:
        keys.append(table.sort_key(row))
        chunk.append(dict(row))
        if len(chunk) >= _CHUNK_ROWS:
            flush()
    flush()
    data = pa.Table.from_batches(batches, schema=schema)
    del batches
    # Always one take, even when the rows came in order: it leaves one chunk, and the file's bytes
    # (pages, dictionary fallback) follow the chunks, so they must not depend on the arrival order.
    order = sorted(range(len(keys)), key=keys.__getitem__)
    data = data.take(pa.array(order, type=pa.int64()))
    with store.create(store.join(output, rel)) as handle:
        pq.write_table(data, pa.PythonFile(handle, mode="w"), compression="snappy")
    entry = {"table": table.name, "path": rel, "rows": len(keys)}
    if partition.startswith("dt="):
        entry["dt"] = partition.split("/", 1)[0][len("dt="):]
    return entry


def write_empty(output: str, run_id: str, table: Table, date: Optional[str] = None) -> dict:
    """A zero-row file, so that a glob over an empty table still finds its schema (a partitioned
    table gets it in its 'und' partition)."""
    return write_part(output, run_id, table, partition_dir(table, {}, date), 0, 1, [])


def check_output_replaceable(output: str) -> None:
    """Refuse an output that is not a newsbeam output and is not empty (a typo must not turn
    someone's folder or bucket prefix into a newsbeam output)."""
    if store.is_local(output):
        if os.path.exists(output) and not os.path.isdir(output):
            raise ValueError(f"--output {output} exists and is not a folder")
        parent = os.path.dirname(output)
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise ValueError(f"--output {output}: {parent} is not a folder")
        if not os.path.isdir(output) or not os.listdir(output):
            return
    elif not store.list_files(output, limit=1):
        return
    if not commit.is_newsbeam_output(output):
        raise ValueError(
            f"refusing to write into {output}: it is not empty and holds no {commit.CURRENT} or {RUN_FILE}, so "
            "it is not a newsbeam output. Choose an empty or new --output.")


class StageErrorLimit(StageFailure):
    """Too many records failed inside the stages: the run fails instead of publishing."""


def stage_error_count(counts: dict) -> int:
    return sum(v for k, v in counts.items() if k.startswith("stage_error."))


def check_stage_errors(counts: dict, max_share: float, examples: list) -> None:
    """Raise :class:`StageErrorLimit` when the share of stage errors among the records in passes
    ``max_share`` (``--max-stage-error-share``)."""
    errors = stage_error_count(counts)
    records_in = counts.get("records_in", 0)
    if errors == 0 or errors <= max_share * records_in:
        return
    by_stage = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(counts.items())
                         if k.startswith("stage_error."))
    first = "; ".join(f"{f}{'' if line is None else ':' + str(line)}: {detail}" for f, line, detail in examples)
    raise StageErrorLimit(
        f"{errors} of {records_in} records ({errors / max(records_in, 1):.1%}) failed inside a stage ({by_stage}), "
        f"more than --max-stage-error-share {max_share:g} allows, so nothing was published. Examples: {first}")


class RejectedLimit(StageFailure):
    """Too many records were rejected: the run fails instead of publishing an output of rejections."""


def check_rejected_share(counts: dict, max_share: float) -> None:
    """Raise :class:`RejectedLimit` when the share of rejected records among the records in passes
    ``max_share`` (``--max-rejected-share``), naming the most common reasons."""
    rejected, records_in = counts.get("rejected", 0), counts.get("records_in", 0)
    if rejected == 0 or rejected <= max_share * records_in:
        return
    reasons = sorted(((v, k.split(".", 1)[1]) for k, v in counts.items() if k.startswith("reject.")),
                     key=lambda item: (-item[0], item[1]))
    top = ", ".join(f"{reason.replace('.', '/', 1)} {count}" for count, reason in reasons[:3])
    raise RejectedLimit(
        f"{rejected} of {records_in} records ({rejected / max(records_in, 1):.1%}) were rejected, more than "
        f"--max-rejected-share {max_share:g} allows, so nothing was published. Top reasons (stage/reason): {top}. "
        "Check the input's format, or raise --max-rejected-share to publish anyway")


def summarise(counts: dict, manifest: list[dict], run: dict, partial: list[dict] = ()) -> dict:
    """run.json: counts by outcome and reason, whether they reconcile, and the files read only in part."""
    def group(prefix):
        return {k[len(prefix):]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    records_in = counts.get("records_in", 0)
    articles = counts.get("articles", 0)
    duplicates = counts.get("duplicates", 0)
    rejected = counts.get("rejected", 0)
    finished = time.time()
    return {
        **run,
        "finished_at": datetime.fromtimestamp(finished, timezone.utc).isoformat(),
        "wall_seconds": round(finished - run["started_at_epoch"], 3),
        "inputs": counts.get("input_files", 0),
        "records_in": records_in,
        "articles_written": articles,
        "duplicates": duplicates,
        "rejected": rejected,
        "reconciled": records_in == articles + duplicates + rejected,
        "articles_by_language": group("language."),
        "entity_status": group("entity_status."),
        "entity_rows": counts.get("entity_rows", 0),
        "duplicates_by_reason": group("duplicate."),
        "duplicates_by_method": group("duplicate_method."),
        "duplicates_of_earlier_dates": counts.get("duplicates_of_earlier_dates", 0),
        "rejected_by_reason": group("reject."),
        "stage_errors": stage_error_count(counts),
        "partial_files": sorted(partial, key=lambda p: p["source_file"]),
        "files": sorted(manifest, key=lambda m: m["path"]),
    }


class _WriteParts(beam.DoFn):
    def __init__(self, output: str, run_id: str, fs_options: dict):
        self._output, self._run_id, self._fs_options = output, run_id, fs_options

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, element):
        (table_name, partition, shard, shards), rows = element
        entry = write_part(self._output, self._run_id, TABLES[table_name], partition, shard, shards, rows)
        Metrics.counter(STAGE, f"rows_{table_name}").inc(entry["rows"])
        yield entry


class _Publish(beam.DoFn):
    """The last step: check the stage-error and rejected shares, then commit the run (see
    transforms/commit.py)."""

    def __init__(self, output: str, run: dict, tables: tuple[str, ...], max_stage_error_share: float,
                 grace_hours: float, fs_options: dict, date: Optional[str] = None, max_rejected_share: float = 1.0):
        self._output, self._run, self._tables, self._date = output, run, tables, date
        self._max_share = max_stage_error_share
        self._max_rejected_share = max_rejected_share
        self._grace = grace_hours * 3600
        self._fs_options = fs_options

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, manifest, counts, partial, error_examples):
        check_stage_errors(counts, self._max_share, error_examples)  # Top.Smallest: already in order
        check_rejected_share(counts, self._max_rejected_share)
        manifest = list(manifest)
        run_id = self._run["run_id"]
        for name in self._tables:
            if not any(m["table"] == name for m in manifest):
                manifest.append(write_empty(self._output, run_id, TABLES[name], self._date))
        summary = summarise(counts, manifest, self._run, list(partial))
        replaces = {"dt": self._date} if self._date else "all"
        commit.publish(self._output, run_id, manifest, summary, replaces=replaces, grace_seconds=self._grace)
        yield summary


# What each output adds to run.json's counts (summed per key by "Sum Counts").
def _record_counts(_record) -> list[tuple[str, int]]:
    return [("records_in", 1)]


def _article_counts(article: Article) -> list[tuple[str, int]]:
    return [("articles", 1), (f"language.{article.language}", 1), (f"entity_status.{article.entity_status}", 1)] + [
        (f"stage_error.{error.split(':', 1)[0]}", 1) for error in article.stage_errors]


def _duplicate_counts(row: DuplicateRow) -> list[tuple[str, int]]:
    earlier = [("duplicates_of_earlier_dates", 1)] if row.duplicate_of_dt else []
    return [("duplicates", 1), (f"duplicate.{row.reason}", 1), (f"duplicate_method.{row.method}", 1)] + earlier


def _rejected_counts(row: RejectedRow) -> list[tuple[str, int]]:
    # A rejection at read stands for a record that never became a RawRecord: it is also a record in.
    extra = [("records_in", 1)] if row.stage == "read" else []
    if row.reason == STAGE_ERROR:
        extra.append((f"stage_error.{row.stage}", 1))
    return [("rejected", 1), (f"reject.{row.stage}.{row.reason}", 1)] + extra


def _example_order(example: tuple) -> tuple:
    source_file, line, detail = example
    return source_file, line if line is not None else -1, detail


class WriteOutputs(beam.PTransform):
    """Write articles/entities/duplicates/rejected as Parquet plus run.json, then publish.

    Input: a dict with ``records`` (every RawRecord read), ``articles`` (annotated Articles),
    ``duplicates`` (DuplicateRow), ``rejected`` (RejectedRow from every stage) and, optionally,
    ``partial_reads`` (PartialRead: files read only up to a fault). The run fails instead of
    publishing when more than ``config.max_stage_error_share`` of the records in are stage errors,
    or more than ``config.max_rejected_share`` of them are rejected.
    """

    def __init__(self, config: RunConfig, run_info: Optional[dict] = None):
        super().__init__()
        self._tables = (CORE_TABLES + (("removed_lines",) if config.keep_removed_lines else ())
                        + ((INDEX_TABLE,) if config.date else ()))
        self._output = store.check_path(config.output, "--output")
        check_output_replaceable(self._output)
        self._rows_per_file = config.write.rows_per_file
        self._max_share = config.max_stage_error_share
        self._max_rejected_share = config.max_rejected_share
        self._grace_hours = config.write.orphan_grace_hours
        self._date = config.date
        now = time.time()
        self._run = {"run_id": config.run_id, "date": config.date, "started_at": datetime.fromtimestamp(now, timezone.utc).isoformat(),
                     "started_at_epoch": now, **(run_info or {})}

    def expand(self, pcolls):
        articles = pcolls["articles"]
        rows = {
            "articles": articles | "To Article Rows" >> beam.Map(lambda a: article_row(a).model_dump()),
            "entities": articles | "To Entity Rows" >> beam.FlatMap(lambda a: [r.model_dump() for r in entity_rows(a)]),
            "duplicates": pcolls["duplicates"] | "Duplicates To Rows" >> beam.Map(lambda r: r.model_dump()),
            "rejected": pcolls["rejected"] | "Rejected To Rows" >> beam.Map(lambda r: r.model_dump()),
        }
        if INDEX_TABLE in self._tables:
            rows[INDEX_TABLE] = pcolls["index"] | "Index To Rows" >> beam.Map(lambda r: r.model_dump())
        if "removed_lines" in self._tables:
            rows["removed_lines"] = articles | "To Removed Line Rows" >> beam.FlatMap(
                lambda a: [r.model_dump() for r in removed_line_rows(a)])
        manifests = [self._write_table(TABLES[name], rows[name]) for name in self._tables]
        manifest = (manifests | "Merge Manifests" >> beam.Flatten()
                    | "Collect Manifest" >> beam.combiners.ToList())
        count_inputs = [
            pcolls["records"] | "Count Records In" >> beam.FlatMap(_record_counts),
            articles | "Count Articles" >> beam.FlatMap(_article_counts),
            rows["entities"] | "Count Entity Rows" >> beam.Map(lambda _: ("entity_rows", 1)),
            pcolls["duplicates"] | "Count Duplicates" >> beam.FlatMap(_duplicate_counts),
            pcolls["rejected"] | "Count Rejected" >> beam.FlatMap(_rejected_counts),
        ]
        if "files" in pcolls:  # the input files Read matched
            count_inputs.append(pcolls["files"] | "Count Input Files" >> beam.Map(lambda _: ("input_files", 1)))
        counts = (count_inputs | "Merge Counts" >> beam.Flatten()
                  | "Sum Counts" >> beam.CombinePerKey(sum)
                  | "Counts To Dict" >> beam.combiners.ToDict())
        pipeline = articles.pipeline
        partial = pcolls.get("partial_reads") or (pipeline | "No Partial Reads" >> beam.Create([]))
        partial = partial | "Partial Reads To Dicts" >> beam.Map(lambda p: p.model_dump())
        error_examples = (
            (pcolls["rejected"]
             | "Stage Errors" >> beam.Filter(lambda r: r.reason == STAGE_ERROR)
             | "Stage Error Examples" >> beam.Map(lambda r: (r.source_file, r.source_line, f"{r.stage}: {r.detail}"[:300])),
             articles
             | "Article Stage Errors" >> beam.FlatMap(
                 lambda a: [(a.source_file, a.source_line, e[:300]) for e in a.stage_errors]))
            | "Merge Stage Errors" >> beam.Flatten()
            | "First Three Stage Errors" >> beam.combiners.Top.Smallest(3, key=_example_order))
        return manifest | "Publish Output" >> beam.ParDo(
            _Publish(self._output, self._run, self._tables, self._max_share, self._grace_hours,
                     store.filesystem_options(pipeline), self._date, self._max_rejected_share),
            counts=beam.pvalue.AsSingleton(counts), partial=beam.pvalue.AsList(partial),
            error_examples=beam.pvalue.AsSingleton(error_examples))

    def _write_table(self, table: Table, rows):
        label = table.name.replace("_", " ").title()
        date = self._date
        keyed = rows | f"Partition {label}" >> beam.Map(lambda r: (partition_dir(table, r, date), r))
        sizes = keyed | f"Count {label} Per Partition" >> beam.combiners.Count.PerKey()
        rows_per_file = self._rows_per_file

        def assign(item, sizes):
            partition, row = item
            shards = max(1, math.ceil(sizes[partition] / rows_per_file))
            return (table.name, partition, shard_of(table.sort_key(row), shards), shards), row

        return (
            keyed
            | f"Shard {label}" >> beam.Map(assign, sizes=beam.pvalue.AsDict(sizes))
            | f"Group {label} Files" >> beam.GroupByKey()
            | f"Write {label} Files" >> beam.ParDo(
                _WriteParts(self._output, self._run["run_id"], store.filesystem_options(rows.pipeline)))
        )
