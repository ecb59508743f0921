"""Read: turn input paths into :class:`RawRecord` values, one per article-sized record.

Formats (chosen by file name; ``.gz`` may follow any of them):

* ``.txt`` / ``.text``: the whole file is one page text.
* ``.jsonl`` / ``.ndjson``: one JSON object per line.
* ``.parquet``: one row per article, same columns as JSONL.

Bytes are decoded as UTF-8 (a leading BOM is dropped), or as UTF-16 when they start with its BOM. Bytes that are not valid UTF-8 are decoded
as Windows-1252, and where even that has undefined bytes, as Latin-1 (which cannot fail); the
record's ``text_encoding`` says which fallback was used. Nothing here raises on bad data: what
cannot be read becomes a :class:`RejectedRow` at stage ``read``.
"""
from __future__ import annotations

import glob
import gzip
import io
import json
import os
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.config import DEFAULT_PAYLOAD_LIMIT, ReadLimits, RunConfig
from transforms.progress import Progress
from transforms.records import PartialRead, RawRecord, RejectedRow
from transforms.rejects import REJECTED, STAGE_ERROR, DeadLetterDoFn, fault_detail, is_transient, make_rejection

STAGE = "read"
PARTIAL_READS = "partial_reads"  # tag of Read's report of files it could not read to the end
# Rejections that end the reading of a file: whatever followed the fault was never read.
FILE_FAULTS = frozenset({"unreadable_file", "truncated_file", "decompressed_too_large"})
TXT_SUFFIXES = (".txt", ".text")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
GZIP_SUFFIXES = (".gz", ".gzip")
_CHUNK = 1 << 20


def input_format(path: str) -> Optional[str]:
    """'txt', 'jsonl' or 'parquet' from the file name (a gzip suffix is looked through), else None."""
    name = path.lower()
    for gz in GZIP_SUFFIXES:
        if name.endswith(gz):
            name = name[: -len(gz)]
            break
    if name.endswith(TXT_SUFFIXES):
        return "txt"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def is_gzip(path: str) -> bool:
    return path.lower().endswith(GZIP_SUFFIXES)


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Resolve files, folders (recursively) and glob patterns to a sorted list of files.

    Hidden files and folders (names starting with '.') inside a folder are skipped. A path that
    matches nothing raises ``ValueError``: a scheduled job pointed at the wrong place should fail
    loudly, not write an empty output.
    """
    found: set[str] = set()
    for path in paths:
        if any(ch in path for ch in "*?["):
            matches = glob.glob(path, recursive=True)
            files = [os.path.abspath(m) for m in matches if os.path.isfile(m)]
            for folder in (m for m in matches if os.path.isdir(m)):  # a pattern may match folders too
                files.extend(_files_under(folder))
            if not files and "://" in path:
                files = [m.path for r in FileSystems.match([path]) for m in r.metadata_list]
            if not files:
                raise ValueError(f"input pattern {path!r} matches no files")
            found.update(files)
        elif os.path.isdir(path):
            found.update(_files_under(path))
        elif os.path.isfile(path):
            found.add(os.path.abspath(path))
        elif "://" in path and FileSystems.exists(path):
            found.add(path)
        else:
            raise ValueError(f"input {path!r} does not exist (give files, folders or glob patterns)")
    return sorted(found)


def _files_under(folder: str) -> list[str]:
    """Every file below ``folder``, recursively, skipping hidden files and folders."""
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(os.path.abspath(os.path.join(root, n)) for n in names if not n.startswith("."))
    return files


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode with the documented fallback chain; returns (text, encoding used)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


class DecompressedTooLarge(Exception):
    """The decompressed stream passed ``max_decompressed_bytes``."""


class _BoundedStream(io.RawIOBase):
    """Wraps a (decompressing) stream and fails once more than ``limit`` bytes came out of it."""

    def __init__(self, inner: BinaryIO, limit: int):
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        # read1: one decompressed block at a time, so a fault later in the file loses nothing before it.
        data = self._inner.read1(len(buffer))
        if len(data) > self._left:
            raise DecompressedTooLarge()
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def open_input(path: str, limits: ReadLimits) -> BinaryIO:
    """Open ``path`` through Beam's filesystems (local, gs://, s3://...), gunzipping if named so."""
    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    if is_gzip(path):
        return io.BufferedReader(_BoundedStream(gzip.GzipFile(fileobj=raw), limits.max_decompressed_bytes))
    return raw


def bounded_lines(stream: BinaryIO, max_line: int) -> Iterator[tuple[int, bytes, int]]:
    """Yield (line number, line bytes, full length) without ever holding more than ``max_line``.

    A line longer than ``max_line`` is yielded once with its first ``max_line`` bytes and its full
    length, so the caller can reject it; the rest of it is read and discarded.
    """
    lineno = 0
    parts: list[bytes] = []
    kept = 0
    total = 0
    read = getattr(stream, "read1", stream.read)
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        start = 0
        while start < len(chunk):
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            total += len(piece)
            if kept < max_line:
                take = piece[: max_line - kept]
                parts.append(take)
                kept += len(take)
            if end < 0:
                break
            lineno += 1
            yield lineno, b"".join(parts), total
            parts, kept, total = [], 0, 0
            start = end + 1
    if total or parts:
        lineno += 1
        yield lineno, b"".join(parts), total


def _strip_cr(line: bytes) -> bytes:
    return line[:-1] if line.endswith(b"\r") else line


def display_name(path: str) -> str:
    """``path`` as valid Unicode: bytes of a file name that are not UTF-8 are shown as \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_file(path: str, limits: ReadLimits = ReadLimits(),
              payload_limit: int = DEFAULT_PAYLOAD_LIMIT) -> Iterator[Union[RawRecord, RejectedRow]]:
    """Every record of one input file, or rejections saying why a record or the file failed.

    A fault that ends the file (a gzip stream cut short, a corrupt Parquet page) is the last thing
    yielded: a rejection with a reason in ``FILE_FAULTS``, after every record read before it.
    Transient I/O errors (see :func:`transforms.rejects.is_transient`) are raised instead, so that
    the runner retries the read. ``source_file`` of what it yields is ``display_name(path)``, so
    that names that are not valid UTF-8 still reach Parquet.
    """
    name = display_name(path)
    for item in _read_file(path, limits, payload_limit):
        yield item if item.source_file == name else item.model_copy(update={"source_file": name})


def _read_file(path: str, limits: ReadLimits, payload_limit: int) -> Iterator[Union[RawRecord, RejectedRow]]:
    fmt = input_format(path)
    if fmt is None:
        yield make_rejection(STAGE, "unsupported_file_type",
                             "file name does not end in .txt, .jsonl, .ndjson or .parquet (optionally .gz)",
                             source_file=path, payload="", limit=payload_limit)
        return
    line = None
    try:
        with open_input(path, limits) as stream:
            if fmt == "txt":
                yield from _read_txt(path, stream, limits, payload_limit)
            elif fmt == "jsonl":
                for line, data, size in bounded_lines(stream, limits.max_record_bytes):
                    yield _jsonl_record(path, line, _strip_cr(data), size, limits, payload_limit)
                line = None
            else:
                yield from _read_parquet(path, stream, limits, payload_limit)
    except DecompressedTooLarge:
        yield make_rejection(STAGE, "decompressed_too_large",
                             f"more than {limits.max_decompressed_bytes} bytes after decompression; rest of file skipped",
                             source_file=path, source_line=line, payload="", limit=payload_limit, fmt=fmt)
    except EOFError as exc:  # a compressed stream that ends before its end marker: the file was cut short
        yield make_rejection(STAGE, "truncated_file", f"the file ends early ({type(exc).__name__}: {exc})",
                             source_file=path, source_line=line, payload="", limit=payload_limit, fmt=fmt)
    except Exception as exc:  # a fault of the file itself is a verdict on it; a transient one is retried
        if is_transient(exc):
            raise
        # The records read before the fault were yielded above.
        yield make_rejection(STAGE, "unreadable_file", f"{type(exc).__name__}: {exc}",
                             source_file=path, source_line=line, payload="", limit=payload_limit, fmt=fmt)


def _read_txt(path: str, stream: BinaryIO, limits: ReadLimits, payload_limit: int) -> Iterator[Union[RawRecord, RejectedRow]]:
    data = stream.read(limits.max_record_bytes + 1)
    if len(data) > limits.max_record_bytes:
        extra = 0
        while chunk := stream.read(_CHUNK):
            extra += len(chunk)
        text, _ = decode_bytes(data[: payload_limit])
        yield make_rejection(STAGE, "record_too_large",
                             f"{len(data) + extra} bytes, over the {limits.max_record_bytes}-byte record limit",
                             source_file=path, payload=text, limit=payload_limit,
                             size=len(data) + extra, fmt="txt")
        return
    text, encoding = decode_bytes(data)
    yield RawRecord(source_file=path, format="txt", payload=text, text_encoding=encoding)


def _jsonl_record(path: str, line: int, data: bytes, size: int, limits: ReadLimits, payload_limit: int) -> Union[RawRecord, RejectedRow]:
    text, encoding = decode_bytes(data)
    if size > limits.max_record_bytes:
        return make_rejection(STAGE, "record_too_large",
                              f"line of {size} bytes, over the {limits.max_record_bytes}-byte record limit",
                              source_file=path, source_line=line, payload=text, limit=payload_limit,
                              size=size, fmt="jsonl")
    return RawRecord(source_file=path, source_line=line, format="jsonl", payload=text, text_encoding=encoding)


def _read_parquet(path: str, stream: BinaryIO, limits: ReadLimits, payload_limit: int) -> Iterator[Union[RawRecord, RejectedRow]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not stream.seekable():  # .parquet.gz: Parquet needs random access, so it is decompressed whole
        stream = io.BytesIO(stream.read())  # (bounded by max_decompressed_bytes)
    try:
        parquet = pq.ParquetFile(stream)
    except (pa.ArrowException, OSError, ValueError) as exc:
        if is_transient(exc):
            raise
        yield make_rejection(STAGE, "unreadable_file", f"not a Parquet file: {type(exc).__name__}: {exc}",
                             source_file=path, payload="", limit=payload_limit, fmt="parquet")
        return
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=256):
            for values in _batch_rows(batch):
                row += 1
                yield _parquet_record(path, row, values, limits, payload_limit)
    except Exception as exc:  # a corrupt page or cell: rows before it are kept, the rest is rejected
        if is_transient(exc):
            raise
        yield make_rejection(STAGE, "unreadable_file", f"from row {row + 1}: {type(exc).__name__}: {exc}",
                             source_file=path, source_line=row + 1, payload="", limit=payload_limit,
                             fmt="parquet")


def _batch_rows(batch) -> list[dict]:
    """Rows of a record batch; string columns holding invalid UTF-8 are read as bytes instead, so
    each cell goes through the same decoding fallback as file bytes."""
    import pyarrow as pa

    try:
        return batch.to_pylist()
    except UnicodeDecodeError:
        columns = [column.cast(pa.binary()) if pa.types.is_string(column.type)
                   else column.cast(pa.large_binary()) if pa.types.is_large_string(column.type) else column
                   for column in batch.columns]
        return pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pylist()


def _parquet_record(path: str, row: int, values: dict, limits: ReadLimits, payload_limit: int) -> Union[RawRecord, RejectedRow]:
    """One Parquet row as a JSON payload; binary cells are decoded like file bytes."""
    encoding = "utf-8"
    for key, value in values.items():
        if isinstance(value, (bytes, bytearray)):
            values[key], used = decode_bytes(bytes(value))
            if key == "text":
                encoding = used
    payload = json.dumps(values, default=str, ensure_ascii=False)
    if len(payload) > limits.max_record_bytes:
        return make_rejection(STAGE, "record_too_large", f"row of {len(payload)} characters, over the record limit",
                              source_file=path, source_line=row, payload=payload, limit=payload_limit,
                              fmt="parquet")
    return RawRecord(source_file=path, source_line=row, format="parquet", payload=payload, text_encoding=encoding)


class _ReadFile(DeadLetterDoFn):
    stage = STAGE

    def __init__(self, limits: ReadLimits, payload_limit: int):
        super().__init__(payload_limit)
        self._limits = limits
        self._records = Metrics.counter(STAGE, "records")
        self._files = Metrics.counter(STAGE, "files")
        self._partial = Metrics.counter(STAGE, "files_cut_short")
        self._progress = None

    def setup(self):
        self._progress = Progress(STAGE, "files read")

    def handle(self, encoded_path: bytes):
        self._files.inc()
        self._progress.add()
        read = 0  # records of this file accounted for so far
        for item in read_file(os.fsdecode(encoded_path), self._limits, self.payload_limit):
            if isinstance(item, RejectedRow) and item.reason in FILE_FAULTS:
                self._partial.inc()
                yield beam.pvalue.TaggedOutput(PARTIAL_READS, PartialRead(
                    source_file=item.source_file, records_read=read, reason=item.reason, detail=item.detail))
            elif isinstance(item, RawRecord):
                self._records.inc()
            read += 1
            yield item

    def fault_row(self, encoded_path: bytes, exc: BaseException) -> RejectedRow:
        return make_rejection(STAGE, STAGE_ERROR, fault_detail(exc),
                              source_file=display_name(os.fsdecode(encoded_path)), payload="",
                              limit=self.payload_limit)


class ReadOutput(NamedTuple):
    """Read's outputs: raw records, rejections, and a report per file that ended early."""

    records: Any  # PCollection[RawRecord]
    rejected: Any  # PCollection[RejectedRow]
    partial_reads: Any  # PCollection[PartialRead]


class ReadArticles(beam.PTransform):
    """Read every record of the given files."""

    def __init__(self, files: list[str], config: RunConfig = RunConfig()):
        super().__init__()
        if not files:
            raise ValueError("ReadArticles needs at least one input file")
        self._files = sorted(files)
        self._config = config

    def expand(self, pbegin):
        out = (
            pbegin
            # As bytes: a file name that is not valid UTF-8 cannot travel as a str through Beam's coders.
            | "List Input Files" >> beam.Create([os.fsencode(f) for f in self._files])
            | "Spread Files" >> beam.Reshuffle()
            | "Read Records" >> beam.ParDo(_ReadFile(self._config.read, self._config.payload_limit)).with_outputs(
                REJECTED, PARTIAL_READS, main="records")
        )
        return ReadOutput(out.records, out[REJECTED], out[PARTIAL_READS])
