"""Read: turn input paths into :class:`RawRecord` values, one per article-sized record.

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

import errno
import glob
import gzip
import io
import json
import math
import os
import stat
from typing import Any, BinaryIO, Iterable, Iterator, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import store
from transforms.config import DEFAULT_PAYLOAD_LIMIT, ReadLimits, RunConfig
from transforms.progress import Progress
from transforms.records import PartialRead, RawRecord, RejectedRow
from transforms.rejects import (REJECTED, STAGE_ERROR, DeadLetterDoFn, dead_letter, fault_detail, is_transient,
                                make_rejection)

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


_GLOB_CHARS = "*?["


class InputSource(NamedTuple):
    """One --input as the pipeline lists it: a local folder or file, a glob, or an object-store
    object or prefix. ``root`` is where hidden names start to count (names starting with '.' below
    it are skipped)."""

    path: str
    kind: str  # 'folder', 'file', 'glob' or 'prefix'
    root: str


def _has_glob(path: str) -> bool:
    return any(ch in path for ch in _GLOB_CHARS)


def _glob_root(pattern: str) -> str:
    head = pattern[: min(pattern.index(ch) for ch in _GLOB_CHARS if ch in pattern)]
    return head.rsplit("/", 1)[0] if "/" in head else head


def resolve_inputs(paths: Iterable[str]) -> list[InputSource]:
    """Check each --input at launch and say how the pipeline will list it, without listing it
    (a prefix of a million objects costs one request here). Raises ``ValueError`` for an input that
    is not there or matches nothing: a scheduled job pointed at the wrong place fails loudly."""
    sources = []
    for given in paths:
        path = store.check_path(given, "--input")
        if store.is_local(path):
            if _has_glob(given) and not os.path.exists(path):  # a folder named "data[2024]" is a folder
                source = InputSource(path, "glob", _glob_root(path))
            elif os.path.isdir(path):
                source = InputSource(path, "folder", path)
            elif os.path.isfile(path):
                source = InputSource(path, "file", os.path.dirname(path))
            elif os.path.exists(path):  # a FIFO or a device named on the command line
                raise ValueError(f"input {given!r} cannot be read: {not_regular(path)}")
            else:  # also a dangling symbolic link
                raise ValueError(f"input {given!r} does not exist (give files, folders or glob patterns)")
        elif _has_glob(path):
            source = InputSource(path, "glob", _glob_root(path))
        elif not path.endswith("/") and store.exists(path):
            source = InputSource(path, "file", path.rsplit("/", 1)[0])
        else:
            source = InputSource(path.rstrip("/"), "prefix", path.rstrip("/"))
        # Cheap first: one entry is usually enough. The first entries may all be skipped ones
        # (a console's "folder" object, hidden files), so look further before giving up.
        if not any(next(iter(list_source(source, limit=limit)), None) is not None for limit in (1, 1000, None)):
            what = "pattern" if source.kind == "glob" else "prefix" if source.kind == "prefix" else "folder"
            raise ValueError(f"input {what} {given!r} matches no files")
        sources.append(source)
    return sources


def list_source(source: InputSource, limit: Optional[int] = None) -> Iterator[tuple[str, int]]:
    """(path, size in bytes) of every file of ``source``, skipping hidden names below its root.
    Local globs also read the folders they match; on object stores '*' stays within one level of
    '/' and '**' crosses levels (Beam's matching)."""
    if source.kind == "file":
        try:
            size = _size(source.path)
        except (OSError, IndexError):  # gone since launch: the reader rejects it as unreadable
            size = 0
        yield source.path, size
        return
    if store.is_local(source.path):
        if source.kind == "folder":
            yield from _files_under(source.path)
            return
        for match in sorted(glob.iglob(source.path, recursive=True)):
            if os.path.isdir(match):
                yield from _files_under(match)
            elif not _hidden(source.root, match):
                yield os.path.abspath(match), _local_size(match)
        return
    pattern = source.path if source.kind == "glob" else store.join(store.escape_glob(source.path), "**")
    (result,) = FileSystems.match([pattern], limits=[limit])
    for meta in result.metadata_list:
        # A key ending in '/' is the empty "folder" object that consoles create: not a file.
        if not meta.path.endswith("/") and not _hidden(source.root, meta.path):
            yield meta.path, meta.size_in_bytes


def _size(path: str) -> int:
    return _local_size(path) if store.is_local(path) else FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def _local_size(path: str) -> int:
    """The size of a regular file; 0 for any other entry (a dangling link, a FIFO...), which is listed
    all the same: the reader rejects it without opening it."""
    try:
        info = os.stat(path)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def not_regular(path: str) -> Optional[str]:
    """Why the local entry ``path`` cannot be read as a file ("dangling symbolic link",
    "symbolic link loop", "not a regular file: a FIFO", ...), or None for a regular file and for
    faults that opening it reports (a missing file, a permission refused). Opening a FIFO for
    reading blocks until a writer comes, and a device may never end: they are never opened."""
    try:
        mode = os.stat(path).st_mode  # follows links
    except OSError as exc:
        if not os.path.islink(path):
            return None
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return f"dangling symbolic link: its target {display_name(os.readlink(path))!r} does not exist"
        return None
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), f"an entry of mode {stat.filemode(mode)}")
    return f"not a regular file: {kind}"


def _hidden(root: str, path: str) -> bool:
    rel = path[len(root):] if path.startswith(root) else os.path.basename(path)
    return any(part.startswith(".") for part in rel.replace(os.sep, "/").split("/") if part)


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """Every input file, sorted (the pipeline lists them in a step instead; this is for tools)."""
    return sorted({path for source in resolve_inputs(paths) for path, _ in list_source(source)})


def _files_under(folder: str) -> Iterator[tuple[str, int]]:
    """Every file below ``folder``, recursively, skipping hidden files and folders."""
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(n for n in names if not n.startswith(".")):
            path = os.path.abspath(os.path.join(root, name))
            yield path, _local_size(path)


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


def display_name(path: str) -> str:
    """``path`` as valid Unicode: bytes of a file name that are not UTF-8 are shown as \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


class _ListSource(beam.DoFn):
    """The files of one --input, listed on a worker (a prefix of a million objects does not go
    through the launcher)."""

    def __init__(self, fs_options: dict):
        self._fs_options = fs_options

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, source: InputSource):
        for path, size in list_source(source):
            # As bytes: a file name that is not valid UTF-8 cannot travel as a str through Beam's coders.
            yield os.fsencode(path), size


class _SplitFile(beam.DoFn):
    """A file's pieces: one for most files; an uncompressed .jsonl or .parquet file larger than
    ``split_bytes`` is cut into byte ranges or runs of row groups, read by different workers."""

    def __init__(self, split_bytes: int, fs_options: dict):
        self._split = split_bytes
        self._fs_options = fs_options

    def setup(self):
        store.ensure_options(self._fs_options)

    def process(self, element):
        encoded, size = element
        path = os.fsdecode(encoded)
        fmt = input_format(path)
        if size <= self._split or is_gzip(path) or fmt not in ("jsonl", "parquet"):
            yield encoded, None
        elif fmt == "jsonl":
            count = math.ceil(size / self._split)
            for index in range(count):
                yield encoded, Piece(index, index * size // count, (index + 1) * size // count)
        else:
            yield from ((encoded, piece) for piece in self._row_group_pieces(path))

    def _row_group_pieces(self, path: str) -> list[Optional[Piece]]:
        import pyarrow.parquet as pq

        if store.is_local(path) and not_regular(path):  # the reader rejects it without opening it
            return [None]
        try:
            with store.open_read(path) as handle:
                meta = pq.ParquetFile(handle).metadata
        except Exception as exc:  # the reader of the whole file says what is wrong with it
            if is_transient(exc):
                raise
            return [None]
        pieces, start, rows, first, size = [], 0, 0, 0, 0
        for group in range(meta.num_row_groups):
            size += meta.row_group(group).total_byte_size
            rows += meta.row_group(group).num_rows
            if size >= self._split or group == meta.num_row_groups - 1:
                pieces.append(Piece(len(pieces), start, group + 1, first, "row_groups"))
                start, first, size = group + 1, rows, 0
        return pieces or [None]


class _ReadPiece(DeadLetterDoFn):
    """Every record of a file or of a piece of it. Records of a piece of a .jsonl file are numbered
    within the piece; Read numbers them within the file afterwards."""

    stage = STAGE

    def __init__(self, limits: ReadLimits, payload_limit: int, fs_options: dict):
        super().__init__(payload_limit)
        self._limits = limits
        self._fs_options = fs_options
        self._records = Metrics.counter(STAGE, "records")
        self._files = Metrics.counter(STAGE, "files")
        self._partial = Metrics.counter(STAGE, "files_cut_short")
        self._progress = None

    def setup(self):
        store.ensure_options(self._fs_options)
        self._progress = Progress(STAGE, "files read")

    def handle(self, element):
        encoded, piece = element
        if piece is None or piece.index == 0:
            self._files.inc()
            self._progress.add()
        read = lines = 0  # records of this file (or piece) accounted for so far; lines among them
        later = piece is not None and piece.numbered_later

        def numbered(item):
            """A record of a later piece travels with its piece until it is numbered in its file."""
            if not later:
                return item
            if isinstance(item, RejectedRow):  # counted here, as DeadLetterDoFn counts the others
                return beam.pvalue.TaggedOutput(REJECTED, (encoded, piece, dead_letter(item).value))
            return (encoded, piece, item)

        first = piece.first_row if piece is not None else 0  # rows of a Parquet file before this piece
        try:
            for item in read_file(os.fsdecode(encoded), self._limits, self.payload_limit, piece):
                if isinstance(item, RejectedRow) and item.reason in FILE_FAULTS:
                    self._partial.inc()
                    partial = PartialRead(source_file=item.source_file, records_read=first + read,
                                          reason=item.reason, detail=item.detail)
                    yield beam.pvalue.TaggedOutput(PARTIAL_READS, (encoded, piece, partial) if later else partial)
                else:
                    lines += 1
                if isinstance(item, RawRecord):
                    self._records.inc()
                read += 1
                yield numbered(item)
        finally:  # also when the piece fails: the pieces after it are numbered from this count
            if piece is not None and piece.kind == "bytes":
                yield beam.pvalue.TaggedOutput(_LINES, (encoded, piece.index, lines))

    def fault_row(self, element, exc: BaseException) -> RejectedRow:
        encoded, _ = element
        return make_rejection(STAGE, STAGE_ERROR, fault_detail(exc),
                              source_file=display_name(os.fsdecode(encoded)), payload="",
                              limit=self.payload_limit)


_LINES = "lines"  # tag: (file, piece index, lines that start in the piece)


def _line_offsets(counts: Iterable[tuple[bytes, int, int]]) -> dict:
    """{(file, piece index): lines in the pieces before it} from each piece's line count."""
    by_file: dict[bytes, dict[int, int]] = {}
    for encoded, index, lines in counts:
        by_file.setdefault(encoded, {})[index] = lines
    offsets = {}
    for encoded, pieces in by_file.items():
        total = 0
        for index in sorted(pieces):
            offsets[(encoded, index)] = total
            total += pieces[index]
    return offsets


def _renumber(element, offsets: dict):
    """A record read from a piece of a .jsonl file, numbered within the whole file."""
    encoded, piece, item = element
    offset = offsets.get((encoded, piece.index), 0)
    if isinstance(item, PartialRead):
        return item.model_copy(update={"records_read": item.records_read + offset})
    if item.source_line is None:
        return item
    return item.model_copy(update={"source_line": item.source_line + offset})


class ReadOutput(NamedTuple):
    """Read's outputs: raw records, rejections, a report per file that ended early, and the
    (file, size) of every input file."""

    records: Any  # PCollection[RawRecord]
    rejected: Any  # PCollection[RejectedRow]
    partial_reads: Any  # PCollection[PartialRead]
    files: Any = None  # PCollection[tuple[bytes, int]]


class ReadArticles(beam.PTransform):
    """Read every record of the given inputs (paths, folders, globs, object-store prefixes, or
    :class:`InputSource` values from :func:`resolve_inputs`)."""

    def __init__(self, inputs: Iterable[Union[str, InputSource]], config: RunConfig = RunConfig()):
        super().__init__()
        self._sources = sorted({s if isinstance(s, InputSource) else _unchecked_source(s) for s in inputs})
        if not self._sources:
            raise ValueError("ReadArticles needs at least one input")
        self._config = config

    def expand(self, pbegin):
        fs_options = store.filesystem_options(pbegin.pipeline)
        files = (
            pbegin
            | "Inputs" >> beam.Create(self._sources)
            | "List Input Files" >> beam.ParDo(_ListSource(fs_options))
            | "One Entry Per File" >> beam.Distinct()
        )
        out = (
            files
            | "Spread Files" >> beam.Reshuffle()
            | "Split Large Files" >> beam.ParDo(_SplitFile(self._config.read.split_bytes, fs_options))
            | "Spread Pieces" >> beam.Reshuffle()
            | "Read Records" >> beam.ParDo(_ReadPiece(self._config.read, self._config.payload_limit, fs_options)).with_outputs(
                REJECTED, PARTIAL_READS, _LINES, main="records")
        )
        offsets = beam.pvalue.AsSingleton(
            out[_LINES] | "Lines Per Piece" >> beam.combiners.ToList() | "Line Offsets" >> beam.Map(_line_offsets))

        def renumbered(pcoll, label):
            numbered, plain = pcoll | f"Pieces Of {label}" >> beam.Partition(
                lambda item, _: 0 if isinstance(item, tuple) else 1, 2)
            fixed = numbered | f"Number {label} In File" >> beam.Map(_renumber, offsets)
            return (fixed, plain) | f"Merge {label}" >> beam.Flatten()

        return ReadOutput(renumbered(out.records, "Records"), renumbered(out[REJECTED], "Rejected"),
                          renumbered(out[PARTIAL_READS], "Partial Reads"), files)


def _unchecked_source(path: str) -> InputSource:
    """An input given to :class:`ReadArticles` directly: a missing file becomes a read rejection
    instead of an error at launch."""
    if store.is_local(path) and os.path.isdir(path):
        return InputSource(os.path.abspath(path), "folder", os.path.abspath(path))
    if _has_glob(path):
        return InputSource(path, "glob", _glob_root(path))
    return InputSource(path, "file", path.rsplit("/", 1)[0])
