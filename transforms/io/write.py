"""Write: the tables as Parquet parts, committed to the lake's Delta tables all at once.

Layout of an output (a local folder, or a prefix on an object store)::

    articles/[dt=<date>/]language=<code>/part-<run>-00000-of-00001.parquet   one row per kept article
    entities/[dt=<date>/]part-<run>-...parquet                            one row per article and distinct entity
    duplicates/, rejected/                                                one row per dropped copy / unusable record
    removed_lines/                                                        with keep_removed_lines: why each page line went
    dedupe_index/dt=<date>/                                               dated runs: what later dates match against
    <table>/_delta_log/                                                   each table's Delta log
    run.json, _runs/<run>.json                                            the runs' counts and the tables' versions

Workers write each file straight to its place under a name only its run uses; nothing is renamed.
The last step commits the run to each table (transforms/io/lake.py): until then readers see the
previous state, and a run that dies leaves it as it was.

Same input, same files: rows are sharded by a hash of their key into a number of files fixed by
the row count (``rows_per_file``), and sorted inside each file, so neither the runner nor the
number of workers changes what is written.
"""
from __future__ import annotations

import datetime as dates
import math
import os
import time
from datetime import datetime, timezone
from typing import Optional

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import RunConfig
from transforms.io import lake, store
from transforms.io.rows import (CORE_TABLES, TABLES, Table, article_row, entity_rows, partition_dir, removed_line_rows,
                                shard_of, write_part)
from transforms.io.summary import check_rejected_share, check_stage_errors, summarise
from transforms.records import INDEX_TABLE, Article, DuplicateRow, RejectedRow
from transforms.rejects import STAGE_ERROR

STAGE = "write"


def check_output_replaceable(output: str) -> None:
    """Refuse an output that is not a newsbeam output and is not empty (a typo must not turn
    someone's folder or bucket prefix into a newsbeam output)."""
    if store.is_local(output):
        if os.path.exists(output) and not os.path.isdir(output):
            raise ValueError(f"--output {output} exists and is not a folder")
        parent = os.path.dirname(output)
        if os.path.exists(parent) and not os.path.isdir(parent):
            raise ValueError(f"--output {output}: {parent} is not a folder")
        if not os.path.isdir(output) or not any(files for _, _, files in os.walk(output)):
            return  # no file in it (empty folders left by a run that failed are nothing to keep)
    elif not store.list_files(output, limit=1):
        return
    if lake.only_uncommitted_parts(output):
        return  # a first run into it died before its commit: its parts stay outside the tables
    if lake.is_old_layout(output):
        raise ValueError(
            f"{output} is a newsbeam output of the layout before Delta Lake tables (it has {lake.OLD_LAYOUT}/): "
            f"convert it first with: newsbeam migrate {output}")
    if not lake.is_newsbeam_output(output):
        raise ValueError(
            f"refusing to write into {output}: it is not empty and is not a newsbeam lake (a lake's "
            f"{lake.MARKER_TABLE}/ is a Delta table named {lake.table_name(lake.MARKER_TABLE)}). Nothing was "
            "touched. Choose an empty or new --output.")


class _WriteParts(beam.DoFn):
    def __init__(self, output: str, run_id: str, fs_options: dict, date: Optional[dates.date] = None):
        self._output, self._run_id, self._fs_options, self._date = output, run_id, fs_options, date

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, element):
        (table_name, partition, shard, shards), rows = element
        entry = write_part(self._output, self._run_id, TABLES[table_name], partition, shard, shards, rows, self._date)
        Metrics.counter(STAGE, f"rows_{table_name}").inc(entry["rows"])
        yield entry


class _Publish(beam.DoFn):
    """The last step: check the stage-error and rejected shares, then commit the run to each table
    (see transforms/io/lake.py)."""

    def __init__(self, output: str, run: dict, tables: tuple[str, ...], max_stage_error_share: float,
                 fs_options: dict, date: Optional[dates.date] = None, max_rejected_share: float = 1.0,
                 expected_runs: Optional[int] = None, replace_kind: bool = False, emptied: tuple[str, ...] = ()):
        self._output, self._run, self._tables, self._date = output, run, tables, date
        self._emptied = emptied
        self._max_share = max_stage_error_share
        self._max_rejected_share = max_rejected_share
        self._fs_options = fs_options
        self._expected_runs, self._replace_kind = expected_runs, replace_kind

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, manifest, counts, partial, error_examples):
        check_stage_errors(counts, self._max_share, error_examples)  # Top.Smallest: already in order
        check_rejected_share(counts, self._max_rejected_share)
        manifest = list(manifest)
        summary = summarise(counts, manifest, self._run, list(partial))
        # A table of the lake this run does not write (removed_lines without --keep-removed-lines, the
        # dedupe index under an undated run) still has this run's date replaced: by nothing.
        tables = {name: {"entries": lake.files_of(manifest, name), "schema": TABLES[name].schema,
                         "partition_by": partition_columns(TABLES[name], self._date)}
                  for name in (*self._tables, *self._emptied)}
        yield lake.publish(self._output, self._run["run_id"], tables, summary,
                           self._date.isoformat() if self._date else None, self._expected_runs,
                           replace_kind=self._replace_kind)


def partition_columns(table: Table, date: Optional[dates.date]) -> list[str]:
    """A table's Delta partition columns: ``dt`` in a lake of dates, then its own (articles: language)."""
    return (["dt"] if date else []) + ([table.partition_by] if table.partition_by else [])


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
    """Write articles/entities/duplicates/rejected (and the dedupe index) as Parquet parts, then
    commit them to the lake's Delta tables and write run.json.

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
        self._date = config.date
        self._replace_kind = config.change_output_kind
        # The date's run counter as this run starts: a run of the same date that commits meanwhile
        # moves it, and this run then fails instead of replacing it (transforms/io/lake.py).
        self._expected_runs = lake.runs_of_date(self._output, config.date.isoformat() if config.date else None)
        self._emptied = tuple(name for name in lake.existing_tables(self._output) if name not in self._tables)
        now = time.time()
        self._run = {"run_id": config.run_id, "date": config.date.isoformat() if config.date else None,
                     "started_at": datetime.fromtimestamp(now, timezone.utc).isoformat(), "started_at_epoch": now,
                     **(run_info or {})}

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
            _Publish(self._output, self._run, self._tables, self._max_share, store.filesystem_options(pipeline),
                     self._date, self._max_rejected_share, self._expected_runs, self._replace_kind, self._emptied),
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
                _WriteParts(self._output, self._run["run_id"], store.filesystem_options(rows.pipeline), date))
        )
