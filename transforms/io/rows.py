"""The output's tables: their rows made from the records (the Arrow schemas come from the models in
:mod:`transforms.records`), their partitions and shards, and one Parquet file written per shard.
"""
from __future__ import annotations

import datetime
import hashlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Optional

from pydantic import BaseModel

from transforms.config import date_partition
from transforms.io import store
from transforms.io.lake import part_name
from transforms.records import (INDEX_TABLE, Article, ArticleRow, DuplicateRow, EntityRow, IndexRow, RejectedRow,
                                RemovedLineRow)
from transforms.schema import arrow_schema

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
    # Dated runs only: what later dates match their copies against (transforms/dedupe/history.py).
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


def partition_dir(table: Table, row: dict, date: Optional[datetime.date] = None) -> str:
    """The Hive folder of a row below its table ('' for unpartitioned tables of an undated run;
    ``dt=<date>/`` first for a dated one). Values never escape the table folder."""
    day = date_partition(date) if date else ""
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


def write_part(output: str, run_id: str, table: Table, partition: str, shard: int, shards: int, rows,
               date: Optional[datetime.date] = None) -> dict:
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
    sink = pa.BufferOutputStream()  # the file's exact size goes into the table's log
    pq.write_table(data, sink, compression="snappy")
    body = sink.getvalue()
    with store.create(store.join(output, rel)) as handle:
        handle.write(body.to_pybytes())
    entry = {"table": table.name, "path": rel, "rows": len(keys), "size": body.size,
             "partition_values": partition_values(partition), "written_at": time.time(),
             "null_count": {f.name: data.column(f.name).null_count for f in schema
                            if not pa.types.is_struct(f.type)}}
    if date is not None:
        entry["dt"] = date.isoformat()
    return entry


def partition_values(partition: str) -> dict[str, str]:
    """{"dt": "2025-03-01", "language": "en"} of a partition folder ("dt=2025-03-01/language=en")."""
    return dict(part.split("=", 1) for part in partition.split("/") if part)
