"""Formats: the bytes of one input file turned into :class:`RawRecord` values, one per article-sized
record (:func:`read_file`).

Formats (chosen by file name; ``.gz`` may follow any of them):

* ``.txt`` / ``.text``: the whole file is one page text.
* ``.jsonl`` / ``.ndjson``: one JSON object per line.
* ``.parquet``: one row per article, same columns as JSONL.

Bytes are decoded as UTF-8 (a leading BOM is dropped), or as UTF-16 when they start with its BOM. Bytes that are not valid UTF-8 are decoded
as Windows-1252, and where even that has undefined bytes, as Latin-1 (which cannot fail); the
record's ``text_encoding`` says which fallback was used. Nothing here raises on bad data: what
cannot be read becomes a :class:`RejectedRow` at stage ``read``. Only regular files (and object-store
objects) are opened: a dangling symbolic link, a link loop, a FIFO, a device or a socket in an input
folder is listed like a file and rejected as ``unreadable_file`` without being opened. No file is read
past ``max_decompressed_bytes``, compressed or not (a file still being written keeps growing).
"""
from __future__ import annotations

import gzip
import io
import json
from typing import BinaryIO, Iterator, NamedTuple, Optional, Union

from transforms.config import DEFAULT_PAYLOAD_LIMIT, ReadLimits
from transforms.io import store
from transforms.io.paths import display_name, not_regular
from transforms.records import RawRecord, RejectedRow
from transforms.rejects import is_transient, make_rejection

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
    """Wraps a (decompressing) stream: gives its first ``limit`` bytes, then fails if there are more.
    ``seekable`` passes seeks through (a piece of a large .jsonl file starts with one); the bound
    counts the bytes read, wherever they were read from."""

    def __init__(self, inner: BinaryIO, limit: int, seekable: bool = False):
        self._inner = inner
        self._left = limit
        self._seekable = seekable
        self._read = getattr(inner, "read1", inner.read)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell() if self._seekable else super().tell()

    def readinto(self, buffer) -> int:
        # read1: one decompressed block at a time, so a fault later in the file loses nothing before it.
        if not self._left:
            if self._read(1):
                raise DecompressedTooLarge()
            return 0
        data = self._read(min(len(buffer), self._left))
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def open_input(path: str, limits: ReadLimits) -> BinaryIO:
    """Open ``path`` through Beam's filesystems (local, gs://, s3://...), gunzipping if named so.
    No more than ``max_decompressed_bytes`` can be read from it, compressed or not (a local file may
    still be growing); a .parquet file is read at the offsets its footer gives instead."""
    raw = store.open_read(path)
    if is_gzip(path):
        return io.BufferedReader(_BoundedStream(gzip.GzipFile(fileobj=raw), limits.max_decompressed_bytes))
    if input_format(path) == "parquet":
        return raw
    return io.BufferedReader(_BoundedStream(raw, limits.max_decompressed_bytes, seekable=raw.seekable()))


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



class Piece(NamedTuple):
    """A part of a large file read by one worker: a byte range of a .jsonl file (a line belongs to
    the piece it starts in), or a range of row groups of a .parquet file whose first row is
    ``first_row`` + 1."""

    index: int
    start: int
    end: int
    first_row: int = 0
    kind: str = "bytes"  # or "row_groups"

    @property
    def numbered_later(self) -> bool:
        """Whether its records are numbered within the piece (byte ranges after the first)."""
        return self.kind == "bytes" and self.index > 0


def read_file(path: str, limits: ReadLimits = ReadLimits(), payload_limit: int = DEFAULT_PAYLOAD_LIMIT,
              piece: Optional[Piece] = None) -> Iterator[Union[RawRecord, RejectedRow]]:
    """Every record of one input file, or rejections saying why a record or the file failed.

    A fault that ends the file (a gzip stream cut short, a corrupt Parquet page) is the last thing
    yielded: a rejection with a reason in ``FILE_FAULTS``, after every record read before it.
    Transient I/O errors (see :func:`transforms.rejects.is_transient`) are raised instead, so that
    the runner retries the read. ``source_file`` of what it yields is ``display_name(path)``, so
    that names that are not valid UTF-8 still reach Parquet.
    """
    name = display_name(path)
    for item in _read_file(path, limits, payload_limit, piece):
        yield item if item.source_file == name else item.model_copy(update={"source_file": name})


def _read_file(path: str, limits: ReadLimits, payload_limit: int,
               piece: Optional[Piece]) -> Iterator[Union[RawRecord, RejectedRow]]:
    fmt = input_format(path)
    problem = not_regular(path) if store.is_local(path) else None
    if problem:  # checked again here: the entry may have been replaced since it was listed
        yield make_rejection(STAGE, "unreadable_file", problem, source_file=path, payload="",
                             limit=payload_limit, fmt=fmt)
        return
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
                for line, data, size in _jsonl_lines(stream, limits.max_record_bytes, piece):
                    yield _jsonl_record(path, line, _strip_cr(data), size, limits, payload_limit)
                line = None
            else:
                yield from _read_parquet(path, stream, limits, payload_limit, piece)
    except DecompressedTooLarge:
        after = ("after decompression" if is_gzip(path) else
                 "read (is the file still being written?)" if store.is_local(path) else "read")
        yield make_rejection(STAGE, "decompressed_too_large",
                             f"more than {limits.max_decompressed_bytes} bytes {after}; rest of file skipped",
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
        size, more = len(data), ""
        try:  # its size, for the rejection, counted up to the bound on what one file may give
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
        except DecompressedTooLarge:
            if is_gzip(path):  # a .gz that expands past the bound is rejected as such
                raise
            size, more = limits.max_decompressed_bytes, "more than "
        text, _ = decode_bytes(data[: payload_limit])
        yield make_rejection(STAGE, "record_too_large",
                             f"{more}{size} bytes, over the {limits.max_record_bytes}-byte record limit",
                             source_file=path, payload=text, limit=payload_limit, size=size, fmt="txt")
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


def _jsonl_lines(stream: BinaryIO, max_line: int, piece: Optional[Piece]) -> Iterator[tuple[int, bytes, int]]:
    """The lines of the file, or of one piece of it, numbered from 1 within what is read."""
    if piece is None:
        yield from bounded_lines(stream, max_line)
        return
    position = piece.start
    if piece.start > 0:
        # From one byte early, up to and including the first newline, is the end of a line that
        # began in the piece before (or, when that byte is a newline, nothing): it is not this
        # piece's. The search stops at the piece's end, so a very long line is not read by every
        # piece it spans.
        position = piece.start - 1
        stream.seek(position)
        while True:
            chunk = stream.read(min(_CHUNK, piece.end - position + 1))
            if not chunk:
                return
            newline = chunk.find(b"\n")
            if newline >= 0:
                position += newline + 1
                break
            position += len(chunk)
            if position >= piece.end:
                return
    stream.seek(position)
    lines = bounded_lines(stream, max_line)
    number = 0
    while position < piece.end:
        line = next(lines, None)
        if line is None:
            return
        _, data, size = line
        number += 1
        position += size + 1
        yield number, data, size


def _read_parquet(path: str, stream: BinaryIO, limits: ReadLimits, payload_limit: int,
                  piece: Optional[Piece] = None) -> Iterator[Union[RawRecord, RejectedRow]]:
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
    row = piece.first_row if piece else 0
    groups = range(piece.start, piece.end) if piece else None
    try:
        for batch in parquet.iter_batches(batch_size=256, row_groups=groups):
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
