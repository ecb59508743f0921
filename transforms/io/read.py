"""Read: every input listed, split and read by workers into :class:`RawRecord` values, with a
rejection for what cannot be read (:mod:`transforms.io.paths` lists the inputs,
:mod:`transforms.io.formats` parses one file), and the records of a large file read in pieces
numbered within their file.
"""
from __future__ import annotations

import math
import os
from typing import Any, Iterable, NamedTuple, Optional, Union

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.config import ReadLimits, RunConfig
from transforms.io import store
from transforms.io.formats import FILE_FAULTS, PARTIAL_READS, STAGE, Piece, input_format, is_gzip, read_file
from transforms.io.paths import InputSource, display_name, glob_root, has_glob, list_source, not_regular
from transforms.progress import Progress
from transforms.records import PartialRead, RawRecord, RejectedRow
from transforms.rejects import (REJECTED, STAGE_ERROR, DeadLetterDoFn, dead_letter, fault_detail, is_transient,
                                make_rejection)


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

    def __init__(self, inputs: Iterable[Union[str, InputSource]], config: Optional[RunConfig] = None):
        super().__init__()
        self._sources = sorted({s if isinstance(s, InputSource) else _unchecked_source(s) for s in inputs})
        if not self._sources:
            raise ValueError("ReadArticles needs at least one input")
        self._config = config or RunConfig()

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
    if has_glob(path):
        return InputSource(path, "glob", glob_root(path))
    return InputSource(path, "file", path.rsplit("/", 1)[0])
