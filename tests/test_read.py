import gzip
import io
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.config import ReadLimits
from transforms.io.formats import bounded_lines, decode_bytes, input_format, read_file
from transforms.io.paths import expand_inputs
from transforms.records import RawRecord, RejectedRow


def records(path, limits=ReadLimits()):
    return list(read_file(str(path), limits))


def test_input_format_by_name():
    assert input_format("a/b.txt") == "txt"
    assert input_format("B.JSONL.GZ") == "jsonl"
    assert input_format("x.ndjson") == "jsonl"
    assert input_format("x.parquet") == "parquet"
    assert input_format("x.csv") is None


def test_txt_file_is_one_record_with_provenance(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Title\n\nBody line.\n", encoding="utf-8")
    (rec,) = records(path)
    assert rec == RawRecord(source_file=str(path), format="txt", payload="Title\n\nBody line.\n")


def test_jsonl_lines_keep_their_line_numbers_and_crlf_is_dropped(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "one"}\r\n{"text": "two"}\n{"text": "three"}')
    got = records(path)
    assert [(r.source_line, r.payload) for r in got] == [
        (1, '{"text": "one"}'), (2, '{"text": "two"}'), (3, '{"text": "three"}')]


def test_gzip_jsonl_is_read(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "one"}\n{"text": "two"}\n'))
    assert [r.payload for r in records(path)] == ['{"text": "one"}', '{"text": "two"}']


def test_parquet_rows_become_json_payloads(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": ["x", "y"], "text": ["first", "second"]}), path)
    got = records(path)
    assert [(r.source_line, json.loads(r.payload)) for r in got] == [
        (1, {"id": "x", "text": "first"}), (2, {"id": "y", "text": "second"})]


def test_gzipped_parquet_is_read(tmp_path):
    import io

    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["first"]}), buffer)
    path = tmp_path / "a.parquet.gz"
    path.write_bytes(gzip.compress(buffer.getvalue()))
    assert [json.loads(r.payload) for r in records(path)] == [{"text": "first"}]


def test_invalid_utf8_falls_back_and_is_flagged(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Caf\u00e9 cr\u00e8me".encode("cp1252"))
    (rec,) = records(path)
    assert rec.payload == "Café crème" and rec.text_encoding == "cp1252"


def test_decode_fallback_chain():
    assert decode_bytes(b"\xef\xbb\xbfhello") == ("hello", "utf-8")
    assert decode_bytes("é".encode()) == ("é", "utf-8")
    assert decode_bytes(b"\x81\xe9") == ("\x81é", "latin-1")  # 0x81 is undefined in cp1252
    assert decode_bytes("Grüße".encode("utf-16")) == ("Grüße", "utf-16")


def test_oversized_txt_is_rejected_with_truncated_payload(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 5000)
    (rej,) = list(read_file(str(path), ReadLimits(max_record_bytes=1000), payload_limit=100))
    assert isinstance(rej, RejectedRow)
    assert (rej.stage, rej.reason, rej.payload_chars, rej.payload_truncated) == ("read", "record_too_large", 5000, True)
    assert rej.payload == "x" * 100


def test_long_jsonl_line_rejected_and_neighbours_kept(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "ok"}\n' + '{"text": "' + "y" * 3000 + '"}\n{"text": "after"}\n')
    got = records(path, ReadLimits(max_record_bytes=1000))
    assert [type(r).__name__ for r in got] == ["RawRecord", "RejectedRow", "RawRecord"]
    assert got[1].source_line == 2 and got[1].reason == "record_too_large"
    assert got[2].payload == '{"text": "after"}'


def test_truncated_gzip_keeps_records_before_the_fault(tmp_path):
    data = gzip.compress(b"".join(b'{"text": "line %d"}\n' % i for i in range(50000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    got = records(path)
    assert isinstance(got[-1], RejectedRow) and got[-1].reason == "truncated_file"
    assert all(isinstance(r, RawRecord) for r in got[:-1]) and len(got) > 1000


def test_gzip_bomb_stops_at_the_decompressed_limit(tmp_path):
    path = tmp_path / "bomb.txt.gz"
    path.write_bytes(gzip.compress(b"\0" * (20 << 20)))
    (rej,) = records(path, ReadLimits(max_record_bytes=64 << 20, max_decompressed_bytes=1 << 20))
    assert (rej.stage, rej.reason) == ("read", "decompressed_too_large")


def test_unsupported_file_is_rejected_not_skipped(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("a,b\n")
    (rej,) = records(path)
    assert rej.reason == "unsupported_file_type" and rej.source_file == str(path)


def test_bounded_lines_never_keeps_more_than_the_limit():
    import io

    stream = io.BytesIO(b"ab\n" + b"c" * 50 + b"\nd")
    assert list(bounded_lines(stream, 10)) == [(1, b"ab", 2), (2, b"c" * 10, 50), (3, b"d", 1)]


def test_expand_inputs_files_folders_globs(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.jsonl").write_text("{}")
    (tmp_path / ".hidden.txt").write_text("h")
    folder = expand_inputs([str(tmp_path)])
    assert folder == sorted([str(tmp_path / "a.txt"), str(tmp_path / "sub" / "b.jsonl")])
    assert expand_inputs([str(tmp_path / "**" / "*.jsonl")]) == [str(tmp_path / "sub" / "b.jsonl")]
    with pytest.raises(ValueError, match="does not exist"):
        expand_inputs([str(tmp_path / "missing")])
    with pytest.raises(ValueError, match="matches no files"):
        expand_inputs([str(tmp_path / "*.parquet")])


def test_parquet_with_invalid_utf8_and_binary_cells(tmp_path):
    path = tmp_path / "odd.parquet"
    # A string column whose bytes are not UTF-8 (written as binary, then relabelled as string).
    bad = pa.array([b"fine text", b"Caf\xe9 latin-1"], pa.binary()).view(pa.string())
    pq.write_table(pa.table({"text": bad, "raw": pa.array([b"\xc3\xa9", b"x"], pa.binary())}), path)
    got = records(path)
    assert [json.loads(r.payload)["text"] for r in got] == ["fine text", "Café latin-1"]
    assert [r.text_encoding for r in got] == ["utf-8", "cp1252"]
    assert json.loads(got[0].payload)["raw"] == "é"  # decoded, not "b'\\xc3\\xa9'"


def test_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path):
    name = os.fsdecode(b"caf\xe9-story.txt")
    (tmp_path / name).write_text("Body text.")
    (path,) = expand_inputs([str(tmp_path)])
    (rec,) = records(path)
    assert rec.payload == "Body text." and rec.source_file.endswith("caf\\xe9-story.txt")
    rec.source_file.encode("utf-8")  # valid Unicode: it can be written to Parquet


def test_glob_matching_folders_reads_what_is_inside(tmp_path):
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.txt").write_text("a")
    (tmp_path / "feed.jsonl").write_text("{}")
    assert expand_inputs([str(tmp_path / "*")]) == sorted([str(tmp_path / "day1" / "a.txt"),
                                                           str(tmp_path / "feed.jsonl")])
    assert expand_inputs([str(tmp_path / "day*")]) == [str(tmp_path / "day1" / "a.txt")]


# --------------------------------------------------------------------------------------
# Large files are read in pieces by several workers

def _big_jsonl(path, n=600):
    """Lines of varied length (some CRLF, some non-ASCII, one too long, one blank) so that piece
    boundaries fall everywhere: inside lines, on newlines, inside multi-byte characters."""
    lines = []
    for i in range(n):
        text = ("Zürich " if i % 7 == 0 else "word ") * (1 + (i * 37) % 90)
        line = json.dumps({"id": f"r{i}", "text": text}, ensure_ascii=False)
        lines.append(line + ("\r" if i % 11 == 0 else ""))
    lines[100] = json.dumps({"id": "long", "text": "x" * 5000})
    lines[200] = ""
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def _read_with(runner_options, inputs, config):
    import apache_beam as beam
    from apache_beam.testing.test_pipeline import TestPipeline
    from apache_beam.testing.util import assert_that, equal_to

    from transforms.io.read import ReadArticles

    def key(item):
        return (type(item).__name__, item.source_line, getattr(item, "payload", ""), getattr(item, "reason", ""))

    want = sorted(key(item) for path in inputs for item in read_file(str(path), config.read, config.payload_limit))
    with TestPipeline(options=runner_options) as p:
        read = p | ReadArticles([str(i) for i in inputs], config)
        got = (read.records, read.rejected) | beam.Flatten() | beam.Map(key)
        assert_that(got, equal_to(want))
    return want


def test_a_large_jsonl_file_read_in_byte_ranges_gives_every_line_once_with_its_number(tmp_path, runner_options):
    from transforms.config import RunConfig
    from transforms.io.read import _SplitFile

    path = _big_jsonl(tmp_path / "big.jsonl")
    config = RunConfig(read=ReadLimits(max_record_bytes=4000, split_bytes=2048))
    assert len(list(_SplitFile(2048, {}).process((os.fsencode(str(path)), os.path.getsize(path))))) > 40
    # The pipeline (pieces, numbered within the file afterwards) gives what reading it whole gives.
    want = _read_with(runner_options, [path], config)
    assert {w[1]: w[3] for w in want if w[0] == "RejectedRow"}[101] == "record_too_large"
    assert max(w[1] for w in want) == 600


def test_piece_boundaries_anywhere_cover_each_line_exactly_once(tmp_path):
    from transforms.io.formats import Piece, _jsonl_lines

    data = b"a\n\nbb\r\nccc\n\xc3\xa9\xc3\xa9\n" + b"d" * 30 + b"\nlast"
    whole = [(line, size) for _, line, size in bounded_lines(io.BytesIO(data), 100)]
    for cut in range(0, len(data) + 1):
        for cut2 in range(cut, len(data) + 1, 3):
            got = []
            for i, (start, end) in enumerate([(0, cut), (cut, cut2), (cut2, len(data))]):
                got += [(line, size) for _, line, size in _jsonl_lines(io.BytesIO(data), 100, Piece(i, start, end))]
            assert got == whole, (cut, cut2)


def test_a_large_parquet_file_is_read_by_row_groups_with_its_row_numbers(tmp_path, runner_options):
    from transforms.config import RunConfig
    from transforms.io.read import _SplitFile

    path = tmp_path / "big.parquet"
    texts = [f"Article number {i}. " + "Body words here. " * (i % 40) for i in range(500)]
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(500)], "text": texts}), path, row_group_size=40)
    pieces = [p for _, p in _SplitFile(4096, {}).process((os.fsencode(str(path)), os.path.getsize(path)))]
    assert len(pieces) > 3 and pieces[0].start == 0 and pieces[-1].end == 13  # 13 row groups, all covered
    want = _read_with(runner_options, [path], RunConfig(read=ReadLimits(split_bytes=4096)))
    assert sorted(w[1] for w in want) == list(range(1, 501))


def test_a_piece_inside_a_very_long_line_reads_little_of_it():
    from transforms.io.formats import Piece, _jsonl_lines

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, n=-1):
            data = super().read(n)
            Counting.read_bytes += len(data)
            return data

        read1 = read

    data = b"x" * (8 << 20) + b"\nshort\n"  # one 8 MiB line, then a short one
    pieces = [Piece(i, i * (1 << 20), min((i + 1) * (1 << 20), len(data))) for i in range(9)]
    got = []
    for piece in pieces[1:]:
        Counting.read_bytes = 0
        got += [line for _, line, _ in _jsonl_lines(Counting(data), 1 << 10, piece)]
        # a piece inside the long line stops at its own end (plus one read chunk), not the line's
        assert Counting.read_bytes <= (3 << 20), piece
    assert got == [b"short"]


def test_names_with_glob_characters_or_a_colon_are_plain_local_names(tmp_path, monkeypatch):
    from transforms.io.paths import resolve_inputs
    from transforms.io.store import StoreError, check_path

    folder = tmp_path / "data[2024]"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (tmp_path / "data2").mkdir()
    (tmp_path / "data2" / "b.txt").write_text("b")  # what the name would match as a pattern
    (source,) = resolve_inputs([str(folder)])
    assert source.kind == "folder" and expand_inputs([str(folder)]) == [str(folder / "a.txt")]
    monkeypatch.chdir(tmp_path)
    assert check_path("results:2024", "--output") == str(tmp_path / "results:2024")
    with pytest.raises(StoreError, match="'//' missing"):
        check_path("s3:/bucket/out", "--output")


# --------------------------------------------------------------------------------------
# Entries of an input folder that are not regular files, and files that grow while read

def within(seconds, fn, *args):
    """``fn(*args)`` run in a thread: a read that blocks or never ends fails the test instead of
    hanging it (the thread is left behind as a daemon)."""
    import threading

    result = {}

    def run():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # handed to the test below
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{getattr(fn, '__name__', fn)} still running after {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def _odd_entries(folder):
    """A folder of two good files and entries that are not files: their names and what the
    rejection of each says."""
    folder.mkdir()
    (folder / "good-a.txt").write_text("First page.")
    (folder / "good-b.txt").write_text("Second page.")
    os.symlink(folder / "missing-target.txt", folder / "000-dangling.txt")  # sorts first
    os.symlink(folder / "loop.txt", folder / "loop.txt")
    os.mkfifo(folder / "pipe.txt")
    os.symlink("/dev/zero", folder / "zero.txt")
    return {"000-dangling.txt": "dangling symbolic link", "loop.txt": "symbolic link loop",
            "pipe.txt": "not a regular file: a FIFO", "zero.txt": "not a regular file: a character device"}


def test_an_entry_that_is_not_a_regular_file_is_listed_and_rejected_alone(tmp_path):
    import socket

    from transforms.io.paths import list_source, resolve_inputs

    folder = tmp_path / "in"
    expect = {**_odd_entries(folder), "sock.txt": "not a regular file: a socket"}
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(folder / "sock.txt"))
        names = ["000-dangling.txt", "good-a.txt", "good-b.txt", "loop.txt", "pipe.txt", "sock.txt", "zero.txt"]
        (source,) = within(10, resolve_inputs, [str(folder)])  # the dangling link is the first entry
        listed = within(10, lambda: list(list_source(source)))
        assert listed == [(str(folder / n), 11 if n == "good-a.txt" else 12 if n == "good-b.txt" else 0) for n in names]
        (pattern,) = within(10, resolve_inputs, [str(folder / "*.txt")])
        assert within(10, lambda: [os.path.basename(p) for p, _ in list_source(pattern)]) == names
        for name, detail in expect.items():
            (rej,) = within(10, records, folder / name)
            assert (rej.stage, rej.reason, rej.source_file) == ("read", "unreadable_file", str(folder / name))
            assert rej.detail.startswith(detail), rej.detail
        assert [r.payload for r in records(folder / "good-a.txt")] == ["First page."]


def test_an_input_that_is_a_dangling_link_or_a_fifo_is_a_usage_error(tmp_path):
    from transforms.io.paths import resolve_inputs

    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(ValueError, match="does not exist"):
        resolve_inputs([str(tmp_path / "dangling.txt")])
    with pytest.raises(ValueError, match="not a regular file: a FIFO"):
        within(10, resolve_inputs, [str(tmp_path / "pipe.txt")])


def test_a_file_replaced_by_a_fifo_after_listing_is_rejected_without_opening_it(tmp_path):
    from transforms.io.paths import list_source, resolve_inputs

    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "x"}\n')
    (source,) = resolve_inputs([str(path)])
    assert list(list_source(source)) == [(str(path), 14)]
    path.unlink()
    os.mkfifo(path)
    (rej,) = within(10, records, path)
    assert (rej.reason, rej.detail) == ("unreadable_file", "not a regular file: a FIFO")


def test_an_uncompressed_file_is_read_no_further_than_the_read_bound(tmp_path):
    limits = ReadLimits(max_record_bytes=1000, max_decompressed_bytes=1 << 20)
    txt = tmp_path / "big.txt"
    txt.write_bytes(b"x" * (3 << 20))
    (rej,) = records(txt, limits)
    assert (rej.reason, rej.payload_chars) == ("record_too_large", 1 << 20)
    assert rej.detail == "more than 1048576 bytes, over the 1000-byte record limit"
    gz = tmp_path / "big.txt.gz"  # compressed, the same bytes are a .gz that expands too far, as before
    gz.write_bytes(gzip.compress(b"x" * (3 << 20)))
    assert [r.reason for r in records(gz, limits)] == ["decompressed_too_large"]
    jsonl = tmp_path / "big.jsonl"
    jsonl.write_bytes(b"".join(b'{"text": "%06d"}\n' % i for i in range(200000)))  # 19 bytes a line
    got = records(jsonl, limits)
    # every whole line in the first MiB is kept; the rejection names the last of them, as for a .gz
    assert all(isinstance(r, RawRecord) for r in got[:-1]) and len(got) - 1 == (1 << 20) // 19
    assert (got[-1].reason, got[-1].source_line) == ("decompressed_too_large", len(got) - 1)
    jsonl.write_bytes(b'{"text": "%s"}\n' % (b"z" * ((1 << 20) - 13)))  # exactly the bound: read whole
    assert [(type(r).__name__, len(r.payload)) for r in records(jsonl, ReadLimits(max_decompressed_bytes=1 << 20))] == [
        ("RawRecord", (1 << 20) - 1)]
    assert "more than 1048576 bytes read" in got[-1].detail


def test_a_file_that_keeps_growing_while_it_is_read_is_read_to_the_bound_only(tmp_path):
    import threading

    path = tmp_path / "growing.txt"
    path.write_bytes(b"z" * (4 << 20))
    stop = threading.Event()

    def append():  # as fast as it can, up to 64 MiB, until the read is over
        with open(path, "ab") as handle:
            for _ in range(256):
                if stop.is_set():
                    return
                handle.write(b"z" * (256 << 10))
                handle.flush()

    writer = threading.Thread(target=append, daemon=True)
    writer.start()
    try:
        (rej,) = within(60, records, path, ReadLimits(max_record_bytes=1000, max_decompressed_bytes=1 << 20))
    finally:
        stop.set()
        writer.join(60)
    assert (rej.reason, rej.detail) == ("record_too_large", "more than 1048576 bytes, over the 1000-byte record limit")


@pytest.mark.slow
def test_a_run_over_a_folder_with_links_fifos_and_devices_reads_the_rest_and_reconciles(tmp_path):
    import shutil
    import subprocess
    import sys

    from support import PROJECT_ROOT, SEEDS

    folder = tmp_path / "in"
    _odd_entries(folder)
    for name, seed in (("good-a.txt", "rotterdam-port-strike.txt"), ("good-b.txt", "hochwasser-passau.txt")):
        shutil.copyfile(os.path.join(SEEDS, seed), folder / name)
    out = tmp_path / "out"
    # 4 of 6 records are rejected: more than the default --max-rejected-share lets a run publish
    proc = subprocess.run([sys.executable, "-m", "pipelines.articles", "--input", str(folder), "--output", str(out),
                           "--max-rejected-share", "1"],
                          capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "run.json").read_text())
    articles = pq.read_table(out / "articles").to_pylist()
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert sorted(os.path.basename(a["source_file"]) for a in articles) == ["good-a.txt", "good-b.txt"]
    assert sorted((os.path.basename(r["source_file"]), r["stage"], r["reason"]) for r in rejected) == [
        (name, "read", "unreadable_file") for name in ("000-dangling.txt", "loop.txt", "pipe.txt", "zero.txt")]
    assert summary["records_in"] == summary["articles_written"] + summary["duplicates"] + summary["rejected"] == 6
    assert summary["reconciled"] is True
