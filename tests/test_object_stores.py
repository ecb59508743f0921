"""Beam's own FileSystems and IOs on s3:// and gs://, against the loopback servers of
benchmarks/servers/object_stores.py."""
from __future__ import annotations

import sys
import uuid

import apache_beam as beam
import pytest
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

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
