"""Real object stores on loopback for tests and benchmarks: moto's S3 server and gcp-storage-emulator (GCS).

    with s3_server() as s3:                      # or gcs_server() as gcs
        s3.make_bucket("news")
        s3.put("news", "in/a.txt", b"one\\n")
        options = PipelineOptions(["--runner=FnApiRunner", *s3.beam_args])
        subprocess.run([..., *s3.beam_args], env={**os.environ, **s3.env})
        with filesystems_for(s3):               # FileSystems.* outside a pipeline
            FileSystems.match(["s3://news/in/**"])
        deltalake.write_deltalake("s3://news/t", table, storage_options=s3.delta_options)

Each server is a subprocess on 127.0.0.1 and a free port, stopped when the block exits. If a
package it needs is missing the test is skipped, or fails when NEWSBEAM_REQUIRE_RUNNERS=1 (CI).

What Beam 2.77 needs (read from the code in the venv, checked by tests/test_object_stores.py)

S3
* Flags: --s3_endpoint_url, --s3_access_key_id, --s3_secret_access_key, --s3_region_name. Neither
  --s3_disable_ssl nor --s3_verify: the http:// scheme of the endpoint is enough. Without the flags,
  boto3 falls back to AWS_ENDPOINT_URL_S3 / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
  AWS_DEFAULT_REGION; ``env`` holds those too, for subprocesses that do not get the flags.
* S3FileSystem takes its settings only from the options FileSystems holds. ``beam.Pipeline(...)``
  installs its own options there (and leaves them behind, process-wide). Outside a pipeline call
  ``FileSystems.set_options(PipelineOptions(beam_args))`` first: in a fresh process every s3://
  call fails with "Must provide one of client or options"; after some pipeline ran, the calls use
  that pipeline's settings. ``filesystems_for(*stores)`` sets them and restores the previous ones.
* No client caching: every FileSystems call builds a new S3FileSystem, S3IO and boto3 client, so a
  second server in the same process works as soon as the options name it. The price: each s3://
  FileSystems call spends 0.1-0.3 s loading botocore's models; per-file calls add up.

GCS
* No flags. Every FileSystems call builds a GcsIO and a google-cloud-storage Client, and the Client
  reads STORAGE_EMULATOR_HOST from os.environ when it is built, not at import. So gcs_server() sets
  it in os.environ for the whole block and restores it after; in-process runners (FnApiRunner)
  see it, and subprocesses need ``env``. FileSystems needs no set_options for gs://.
* Credentials: GcsIO ignores --no_auth and always calls google.auth.default() through
  apache_beam.internal.gcp.auth, retrying 4 times with backoff: with no credentials on the machine
  the first gs:// call stalls about 22 s before going anonymous; with real ones they would be sent
  to the emulator and refreshed against Google. ``env`` therefore also points
  GOOGLE_APPLICATION_CREDENTIALS at a dummy authorized_user file whose token never expires: found
  at once, never refreshed, ignored by the emulator (GOOGLE_CLOUD_PROJECT only silences a warning).
  Beam caches the lookup for the process, so gcs_server() also clears that cache on entry and
  restores it on exit.

Quirks, the same on both stores
* '*' stops at '/', '**' crosses it; a pattern ending in '/' means '/*' (one level). A pattern with
  no glob character is an exact object lookup: 's3://b/in' matches nothing even if 'in/x' exists.
* An empty 'directory' object ('in/') is matched by 'in/*', 'in/**' and 'in/'. ReadMatches skips
  it (skip_directories=True), ReadFromText reads it as an empty file.
* rename is copy then delete, not atomic. delete of a missing object is silent.
* open() of a missing object: FileNotFoundError on S3, google.api_core NotFound on GCS.

Delta Lake (delta-rs, the deltalake package; checked by tests/test_object_stores.py)
* delta-rs takes no Beam flags and no environment: ``delta_options`` is the ``storage_options``
  dict for deltalake.write_deltalake / DeltaTable (and polars.read_delta).
* S3: the endpoint, keys and region, AWS_ALLOW_HTTP for the http:// endpoint, and
  conditional_put="etag" so commits are PUTs with If-None-Match: * (moto answers 412 when the
  commit file exists; two writers of one version: the second retries on the next).
* GCS: delta-rs (Rust object_store) speaks GCS's XML API, not the JSON API Beam uses, and ignores
  STORAGE_EMULATOR_HOST. gcp-storage-emulator lacks most of the XML API (501), so gcs_server()
  runs it through benchmarks/servers/gcs_emulator.py, which adds listing, HEAD/GET with ranges,
  DELETE and the "put if absent" PUT (x-goog-if-generation-match: 0, 412 if the object exists).
  The endpoint goes in a service-account key with gcs_base_url and disable_oauth (no token asked).
* DeltaTable.to_pyarrow_table() works, but deltalake 1.6.6 then aborts the interpreter at exit
  ("terminate called without an active exception", status 134; also on a local path, so not the
  servers); polars.read_delta(url, storage_options=...) reads the same rows and exits cleanly.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterator

import pytest

REQUIRE = os.environ.get("NEWSBEAM_REQUIRE_RUNNERS") == "1"
HOST = "127.0.0.1"
START_TIMEOUT = 60.0
GCS_PROJECT = "newsbeam-test"


class ServerStartError(RuntimeError):
    """The server process exited, or did not listen in time."""


def _need(*modules: str) -> None:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        message = f"missing Python packages for the object-store servers: {', '.join(missing)}"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _tail(path: str, chars: int = 3000) -> str:
    with open(path, errors="replace") as f:
        return f.read()[-chars:]


@contextlib.contextmanager
def _server_process(name: str, argv: list[str], port: int, workdir: str, timeout: float) -> Iterator[None]:
    """Run ``argv`` until the block exits; the block starts once something listens on ``port``."""
    log_path = os.path.join(workdir, f"{name}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=workdir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise ServerStartError(f"{name} exited with {proc.returncode} before listening on "
                                       f"{HOST}:{port}; its log:\n{_tail(log_path)}")
            with socket.socket() as s:
                if s.connect_ex((HOST, port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise ServerStartError(f"{name} did not listen on {HOST}:{port} within {timeout:.0f}s; "
                                       f"its log:\n{_tail(log_path)}")
            time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class ObjectStore:
    """A running server: where it is, how Beam reaches it, and a direct client (not Beam) for checks."""

    scheme = ""

    def __init__(self, endpoint: str, beam_args: list[str], env: dict[str, str]):
        self.endpoint = endpoint
        self.beam_args = beam_args
        self.env = env

    def url(self, bucket: str, key: str = "") -> str:
        return f"{self.scheme}://{bucket}/{key}"

    def make_bucket(self, name: str) -> None:
        raise NotImplementedError

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        raise NotImplementedError

    def read(self, bucket: str, key: str) -> bytes:
        raise NotImplementedError

    def put(self, bucket: str, key: str, data: bytes | str) -> None:
        raise NotImplementedError

    @property
    def delta_options(self) -> dict[str, str]:
        """The ``storage_options`` with which delta-rs (the deltalake package) reaches this server."""
        raise NotImplementedError


class S3Store(ObjectStore):
    scheme = "s3"

    def __init__(self, endpoint: str, beam_args: list[str], env: dict[str, str], **client_kwargs):
        super().__init__(endpoint, beam_args, env)
        import boto3

        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint, **client_kwargs)

    def make_bucket(self, name: str) -> None:
        self.client.create_bucket(Bucket=name)

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", ()))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def put(self, bucket: str, key: str, data: bytes | str) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=data.encode() if isinstance(data, str) else data)

    @property
    def delta_options(self) -> dict[str, str]:
        """Endpoint, keys and region of ``env``; commits are conditional PUTs (If-None-Match: *)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.env["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": self.env["AWS_SECRET_ACCESS_KEY"],
                "AWS_REGION": self.env["AWS_DEFAULT_REGION"], "AWS_ALLOW_HTTP": "true", "conditional_put": "etag"}


class GcsStore(ObjectStore):
    scheme = "gs"

    def __init__(self, endpoint: str, beam_args: list[str], env: dict[str, str]):
        super().__init__(endpoint, beam_args, env)
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        # The endpoint is explicit so this client does not depend on os.environ.
        self.client = storage.Client(project=GCS_PROJECT, credentials=AnonymousCredentials(),
                                     client_options={"api_endpoint": endpoint})

    def make_bucket(self, name: str) -> None:
        self.client.create_bucket(name)

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        return sorted(blob.name for blob in self.client.list_blobs(bucket, prefix=prefix))

    def read(self, bucket: str, key: str) -> bytes:
        return self.client.bucket(bucket).blob(key).download_as_bytes()

    def put(self, bucket: str, key: str, data: bytes | str) -> None:
        self.client.bucket(bucket).blob(key).upload_from_string(data)

    @property
    def delta_options(self) -> dict[str, str]:
        """A service-account key that only names the endpoint: no OAuth token is asked for or sent."""
        key = {"gcs_base_url": self.endpoint, "disable_oauth": True,
               "client_email": "", "private_key": "", "private_key_id": ""}
        return {"google_service_account_key": json.dumps(key)}


@contextlib.contextmanager
def s3_server(region: str = "us-east-1", timeout: float = START_TIMEOUT) -> Iterator[S3Store]:
    """moto's standalone S3 server. Beam reaches it through ``beam_args`` (see filesystems_for)."""
    _need("boto3", "moto", "flask", "flask_cors")
    port = _free_port()
    endpoint = f"http://{HOST}:{port}"
    key_id, secret = "newsbeam-test", "newsbeam-test"  # moto accepts any pair
    beam_args = [f"--s3_endpoint_url={endpoint}", f"--s3_access_key_id={key_id}",
                 f"--s3_secret_access_key={secret}", f"--s3_region_name={region}"]
    env = {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": key_id,
           "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": region}
    with tempfile.TemporaryDirectory(prefix="moto-s3-") as workdir, \
            _server_process("moto_server", [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
                            port, workdir, timeout):
        yield S3Store(endpoint, beam_args, env, aws_access_key_id=key_id, aws_secret_access_key=secret,
                      region_name=region)


# Application-default credentials that google.auth loads from the file alone: a token with an expiry
# far ahead is valid as it is, so nothing ever asks Google's token endpoint for a new one.
_DUMMY_CREDENTIALS = {"type": "authorized_user", "client_id": "newsbeam-test", "client_secret": "newsbeam-test",
                      "refresh_token": "newsbeam-test", "token": "newsbeam-test", "expiry": "2999-01-01T00:00:00Z"}


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _fresh_beam_gcp_credentials() -> Iterator[None]:
    """Make Beam look its GCP credentials up again (it keeps the first answer for the process)."""
    from apache_beam.internal.gcp import auth

    cache = auth._Credentials
    saved = (cache._credentials_init, cache._credentials)
    cache._credentials_init, cache._credentials = False, None
    try:
        yield
    finally:
        cache._credentials_init, cache._credentials = saved


@contextlib.contextmanager
def gcs_server(timeout: float = START_TIMEOUT) -> Iterator[GcsStore]:
    """gcp-storage-emulator, in memory, with the XML API delta-rs needs (benchmarks/servers/gcs_emulator.py).

    Sets ``env`` in os.environ for the block (Beam needs no flags).
    """
    _need("gcp_storage_emulator", "google.cloud.storage", "google.auth")
    port = _free_port()
    endpoint = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="gcs-emulator-") as workdir:
        credentials = os.path.join(workdir, "dummy-credentials.json")
        with open(credentials, "w") as f:
            json.dump(_DUMMY_CREDENTIALS, f)
        # GOOGLE_CLOUD_PROJECT only quiets google.auth's "No project ID could be determined".
        env = {"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_APPLICATION_CREDENTIALS": credentials,
               "GOOGLE_CLOUD_PROJECT": GCS_PROJECT}
        argv = [sys.executable, "-m", "benchmarks.servers.gcs_emulator", "start", f"--host={HOST}", f"--port={port}",
                "--in-memory", "--quiet"]
        with _server_process("gcp-storage-emulator", argv, port, workdir, timeout), \
                _environ(env), _fresh_beam_gcp_credentials():
            yield GcsStore(endpoint, [], env)


@contextlib.contextmanager
def filesystems_for(*stores: ObjectStore) -> Iterator[None]:
    """Point Beam's FileSystems at ``stores`` outside a pipeline; restore the previous options after.

    Needed for s3:// (see the module docstring), harmless for gs://.
    """
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    previous = FileSystems._pipeline_options  # no public getter
    FileSystems.set_options(PipelineOptions([arg for store in stores for arg in store.beam_args]))
    try:
        yield
    finally:
        FileSystems.set_options(previous)
