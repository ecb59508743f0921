"""Beam's own FileSystems and IOs, and delta-rs's Delta tables, on s3:// and gs://, against the loopback
servers of benchmarks/servers/object_stores.py."""
from __future__ import annotations

import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import apache_beam as beam
import polars
import pyarrow as pa
import pytest
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to
from botocore.exceptions import ClientError
from deltalake import DeltaTable, write_deltalake

from benchmarks.servers.object_stores import (ServerStartError, _server_process, filesystems_for, gcs_server,
                                              s3_server)
from support import TEST_RUNNER

# Every test starts an object-store server process.
pytestmark = pytest.mark.slow

SERVERS = {"s3": s3_server, "gcs": gcs_server}


@pytest.fixture(scope="module", params=sorted(SERVERS))
def store(request):
    with SERVERS[request.param]() as server:
        yield server


@pytest.fixture(autouse=True)
def keep_filesystems_options():
    """beam.Pipeline() leaves its options in FileSystems for the whole process; put the old ones back."""
    previous = FileSystems._pipeline_options
    yield
    FileSystems.set_options(previous)


@pytest.fixture
def bucket(store):
    name = f"nb-{uuid.uuid4().hex[:12]}"
    store.make_bucket(name)
    return name


def paths(pattern):
    (result,) = FileSystems.match([pattern])
    return sorted(m.path for m in result.metadata_list)


def run(store, build):
    with beam.Pipeline(options=PipelineOptions([f"--runner={TEST_RUNNER}", *store.beam_args])) as p:
        build(p)


def test_filesystems_create_match_read_rename_delete(store, bucket):
    url = store.url
    with filesystems_for(store):
        with FileSystems.create(url(bucket, "in/2024/05/page.txt")) as f:
            f.write(b"first line\nsecond line\n")

        assert paths(url(bucket, "in/**")) == [url(bucket, "in/2024/05/page.txt")]
        assert paths(url(bucket, "in/*/*/*.txt")) == [url(bucket, "in/2024/05/page.txt")]
        assert paths(url(bucket, "in/*")) == []  # '*' does not cross '/'
        assert paths(url(bucket, "in")) == []  # no glob: exact object, not a prefix
        (result,) = FileSystems.match([url(bucket, "in/**")])
        assert result.metadata_list[0].size_in_bytes == 23
        with FileSystems.open(url(bucket, "in/2024/05/page.txt")) as f:
            assert f.read() == b"first line\nsecond line\n"

        FileSystems.rename([url(bucket, "in/2024/05/page.txt")], [url(bucket, "done/page.txt")])
        assert not FileSystems.exists(url(bucket, "in/2024/05/page.txt"))
        assert FileSystems.exists(url(bucket, "done/page.txt"))
        assert store.list_keys(bucket) == ["done/page.txt"]
        assert store.read(bucket, "done/page.txt") == b"first line\nsecond line\n"

        FileSystems.delete([url(bucket, "done/page.txt")])
        assert not FileSystems.exists(url(bucket, "done/page.txt"))
        assert store.list_keys(bucket) == []


def test_read_and_write_text_in_a_pipeline(store, bucket):
    store.put(bucket, "in/", b"")  # a 'directory' object: ReadFromText reads it as an empty file
    store.put(bucket, "in/a.txt", "alpha\nbeta\n")
    store.put(bucket, "in/2024/b.txt", "gamma\n")

    run(store, lambda p: (p
                          | beam.io.ReadFromText(store.url(bucket, "in/**"))
                          | beam.Map(str.upper)
                          | beam.io.WriteToText(store.url(bucket, "out/part"), file_name_suffix=".txt")))

    keys = store.list_keys(bucket, "out/")
    assert keys and all(k.startswith("out/part-") and k.endswith(".txt") for k in keys), keys  # no temp files left
    lines = [line for k in keys for line in store.read(bucket, k).decode().splitlines()]
    assert sorted(lines) == ["ALPHA", "BETA", "GAMMA"]


def test_match_files_and_read_matches_in_a_pipeline(store, bucket):
    store.put(bucket, "in/", b"")  # an empty 'directory' object, as some tools make
    store.put(bucket, "in/a.txt", "alpha\n")
    store.put(bucket, "in/2024/b.txt", "beta\n")

    with filesystems_for(store):
        assert paths(store.url(bucket, "in/**"))[0] == store.url(bucket, "in/")  # the marker matches

    def build(p):
        read = (p
                | fileio.MatchFiles(store.url(bucket, "in/**"))
                | fileio.ReadMatches()  # skips paths ending in '/'
                | beam.Map(lambda f: (f.metadata.path, f.read_utf8())))
        assert_that(read, equal_to([(store.url(bucket, "in/a.txt"), "alpha\n"),
                                    (store.url(bucket, "in/2024/b.txt"), "beta\n")]))

    run(store, build)


def events(dt, *ns):
    return pa.table({"dt": [dt] * len(ns), "n": list(ns)})


def delta_rows(store, url):
    """The table's rows, sorted. polars, not DeltaTable.to_pyarrow_table(): that one makes deltalake
    1.6.6 abort the interpreter at exit (see object_stores.py)."""
    frame = polars.read_delta(url, storage_options=store.delta_options)
    return sorted(frame.select("dt", "n").iter_rows())


def test_delta_table_create_append_overwrite_a_partition_and_read(store, bucket):
    url, options = store.url(bucket, "events"), store.delta_options
    write_deltalake(url, events("2025-01-01", 1, 2), partition_by=["dt"], storage_options=options)
    write_deltalake(url, events("2025-01-02", 3), partition_by=["dt"], mode="append", storage_options=options)
    write_deltalake(url, events("2025-01-01", 10), partition_by=["dt"], mode="overwrite",
                    predicate="dt = '2025-01-01'", storage_options=options)

    assert DeltaTable(url, storage_options=options).version() == 2
    assert delta_rows(store, url) == [("2025-01-01", 10), ("2025-01-02", 3)]
    # What delta-rs wrote, as the store's own client (on GCS: the JSON API) lists it
    keys = store.list_keys(bucket, "events/")
    assert [k for k in keys if "/_delta_log/" in k] == [f"events/_delta_log/{v:020d}.json" for v in range(3)]
    parts = [k for k in keys if "/_delta_log/" not in k]
    assert len(parts) == 3 and all(k.endswith(".parquet") for k in parts), keys  # the overwritten part stays
    assert sorted(k.split("/")[1] for k in parts) == ["dt=2025-01-01", "dt=2025-01-01", "dt=2025-01-02"]


def test_delta_writers_of_the_same_version_both_commit(store, bucket):
    """Writers that loaded the same version race to create the next _delta_log/N.json: the store's
    put-if-absent refuses all but one (412), the others retry on the next version. A store that let
    a second create overwrite the first would lose appends here."""
    url, options = store.url(bucket, "events"), store.delta_options
    write_deltalake(url, events("2025-01-01", 0), partition_by=["dt"], storage_options=options)
    writers = 4
    tables = [DeltaTable(url, storage_options=options) for _ in range(writers)]
    assert {table.version() for table in tables} == {0}
    start = threading.Barrier(writers)

    def append(i):
        start.wait()
        write_deltalake(tables[i], events("2025-01-01", i + 1), mode="append")

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(append, range(writers)))  # re-raises a writer's error

    assert DeltaTable(url, storage_options=options).version() == writers
    assert delta_rows(store, url) == [("2025-01-01", n) for n in range(writers + 1)]
    assert store.list_keys(bucket, "events/_delta_log/") == [f"events/_delta_log/{v:020d}.json"
                                                              for v in range(writers + 1)]


def put_if_absent(store, bucket, key, data):
    """PUT ``key`` only if it does not exist, the request delta-rs commits with; the HTTP status."""
    if store.scheme == "s3":
        try:
            store.client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"]
        return 200
    # GCS's XML API, served by benchmarks/servers/gcs_emulator.py
    request = urllib.request.Request(f"{store.endpoint}/{bucket}/{urllib.parse.quote(key, safe='')}", data=data,
                                     method="PUT", headers={"x-goog-if-generation-match": "0"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_put_if_absent_refuses_an_existing_object(store, bucket):
    key = "events/_delta_log/00000000000000000001.json"
    assert put_if_absent(store, bucket, key, b"first writer") == 200
    assert put_if_absent(store, bucket, key, b"second writer") == 412
    assert store.read(bucket, key) == b"first writer"


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_a_second_server_in_the_same_process(kind):
    for round_ in range(2):
        with SERVERS[kind]() as server, filesystems_for(server):
            server.make_bucket("again")
            assert server.list_keys("again") == []  # a fresh server, not the previous one
            with FileSystems.create(server.url("again", f"round-{round_}")) as f:
                f.write(b"x")
            assert server.list_keys("again") == [f"round-{round_}"]


def test_a_server_that_does_not_start_is_reported(tmp_path):
    argv = [sys.executable, "-c", "import sys; print('no port today'); sys.exit(3)"]
    with pytest.raises(ServerStartError, match=r"(?s)exited with 3 .*no port today"):
        with _server_process("broken", argv, 9, str(tmp_path), timeout=30):
            pass
