"""Paths on any store Beam knows: local folders, ``gs://``, ``s3://`` (and any scheme registered).

Every byte newsbeam reads or writes goes through :class:`apache_beam.io.filesystems.FileSystems`,
so the same code runs on a laptop and on workers that share no disk. Endpoints and credentials are
Beam's own flags (``--s3_endpoint_url``, ``--s3_access_key_id``, ...; for GCS the usual Google
credentials); outside a pipeline they reach the file systems through :func:`use_options`.
"""
from __future__ import annotations

import os
import re
import uuid
from typing import Iterable, Optional

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
# "gs:/bucket" or "s3:bucket": a URL of a known scheme with its slashes lost (a shell or a template
# ate them). Other names with a colon ("results:2024") are ordinary local names.
_BROKEN_URL = re.compile(r"^(gs|s3|hdfs|azfs|file|https?):/?(?!/)", re.IGNORECASE)
# What a missing extra looks like: the scheme, the pip extra that brings it.
_EXTRAS = {"gs": "apache-beam[gcp]", "s3": "apache-beam[aws]", "azfs": "apache-beam[azure]", "hdfs": "apache-beam[hadoop]"}


class StoreError(ValueError):
    """A path newsbeam cannot read or write: the message says why and what to do."""


def scheme(path: str) -> Optional[str]:
    """'gs', 's3', ... of a URL; None for a local path."""
    found = _URL.match(path)
    return found.group(1).lower() if found else None


def is_local(path: str) -> bool:
    return scheme(path) in (None, "file")


def check_path(path: str, flag: str) -> str:
    """``path`` as newsbeam will use it (local paths made absolute), or :class:`StoreError`.

    A URL whose scheme no installed Beam file system serves is refused here, at start, instead of
    becoming a local folder named ``gs:``.
    """
    if not path or not path.strip():
        raise StoreError(f"{flag} is empty")
    found = scheme(path)
    if found is None:
        if _BROKEN_URL.match(path) and not os.path.exists(path):
            raise StoreError(f"{flag} {path!r} looks like a URL with its '//' missing; write it as "
                             f"{path.split(':', 1)[0]}://{path.split(':', 1)[1].lstrip('/')}")
        return os.path.abspath(path)
    if found == "file":
        return os.path.abspath(path[len("file://"):])
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        extra = _EXTRAS.get(found)
        hint = f"install {extra}" if extra else "no installed Apache Beam file system serves it"
        raise StoreError(f"{flag} {path!r}: {found}:// cannot be used here ({hint})") from None
    return path


def use_options(options) -> None:
    """Hand pipeline options (endpoints, credentials) to the file systems used outside a pipeline,
    as the launcher does to check inputs and read the run's summary."""
    share_s3_clients()
    FileSystems.set_options(options)


def join(base: str, *parts: str) -> str:
    if is_local(base):
        return os.path.join(base, *parts)
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


def relative(base: str, path: str) -> str:
    """``path`` below ``base`` as a '/'-separated relative path."""
    base = base.rstrip("/").rstrip(os.sep)
    if not (path.startswith(base + "/") or path.startswith(base + os.sep)):
        raise ValueError(f"{path} is not below {base}")
    return path[len(base) + 1:].replace(os.sep, "/")


def size(path: str) -> int:
    """The size of a file in bytes."""
    if is_local(path):
        return os.path.getsize(path[len("file://"):] if path.startswith("file://") else path)
    (result,) = FileSystems.match([escape_glob(path)], limits=[1])
    if not result.metadata_list:
        raise FileNotFoundError(path)
    return result.metadata_list[0].size_in_bytes


def exists(path: str) -> bool:
    return FileSystems.exists(path)


def open_read(path: str):
    """A binary stream of ``path``'s bytes as stored (never decompressed by Beam: newsbeam decides)."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def read_bytes(path: str) -> bytes:
    with open_read(path) as handle:
        return handle.read()


def write_bytes(path: str, data: bytes) -> None:
    """One object written whole. On object stores a single upload is atomic: readers see the old
    object or the new one. Locally the bytes go to a temporary file that is then renamed over."""
    if is_local(path):
        local = path[len("file://"):] if path.startswith("file://") else path
        os.makedirs(os.path.dirname(local), exist_ok=True)
        temp = f"{local}.tmp-{uuid.uuid4().hex[:8]}"
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, local)
        return
    with create(path) as handle:
        handle.write(data)


def create(path: str):
    """A binary stream that writes ``path`` (an object store uploads it on close)."""
    return FileSystems.create(path, mime_type="application/octet-stream", compression_type=CompressionTypes.UNCOMPRESSED)


def escape_glob(path: str) -> str:
    """``path`` as a pattern that matches only itself ('[', '*' and '?' in names are literal)."""
    return "".join(f"[{ch}]" if ch in "[*?" else ch for ch in path)


def list_files(prefix: str, limit: Optional[int] = None) -> list[tuple[str, float]]:
    """(path, last modified in epoch seconds) of the files below the folder or prefix ``prefix``
    (at most ``limit`` of them); none when it does not exist."""
    if is_local(prefix):
        found = []
        for root, _, names in os.walk(prefix):
            for name in sorted(names):
                path = os.path.join(root, name)
                try:
                    found.append((path, os.path.getmtime(path)))
                except OSError:  # deleted while listing
                    continue
                if limit is not None and len(found) >= limit:
                    return found
        return found
    (result,) = FileSystems.match([join(escape_glob(prefix), "**")], limits=[limit])
    return [(m.path, m.last_updated_in_seconds) for m in result.metadata_list]


def delete(paths: Iterable[str]) -> None:
    """Delete files; one already gone is not an error (a retried step may delete twice)."""
    paths = list(paths)
    for start in range(0, len(paths), 500):
        batch = paths[start:start + 500]
        try:
            FileSystems.delete(batch)
        except Exception:  # one missing file fails the batch: delete the rest one by one
            for path in batch:
                try:
                    FileSystems.delete([path])
                except Exception:
                    if exists(path):
                        raise


def delta_options(path: str) -> dict[str, str]:
    """The ``storage_options`` delta-rs (the lake's Delta tables) needs for ``path``: the same
    endpoint and credentials Beam's file systems were given (:func:`use_options`,
    :func:`ensure_options`). Empty for local paths; delta-rs reads the usual AWS_* and GOOGLE_*
    variables of the environment by itself.

    S3: commits are "put if absent" (``conditional_put=etag``), which AWS S3 and MinIO support, so
    two writers never both create a commit and no lock table (DynamoDB) is needed. GCS: with
    ``STORAGE_EMULATOR_HOST`` set (an emulator, as in the tests), its address and no OAuth."""
    kind = scheme(path)
    found: dict[str, str] = {}
    if kind == "s3":
        found["conditional_put"] = "etag"
        current = FileSystems._pipeline_options  # pylint: disable=protected-access
        if current is not None:
            from apache_beam.options.pipeline_options import S3Options

            view = current.view_as(S3Options)
            pairs = (("AWS_ENDPOINT_URL", view.s3_endpoint_url), ("AWS_ACCESS_KEY_ID", view.s3_access_key_id),
                     ("AWS_SECRET_ACCESS_KEY", view.s3_secret_access_key),
                     ("AWS_SESSION_TOKEN", view.s3_session_token), ("AWS_REGION", view.s3_region_name))
            found.update({key: value for key, value in pairs if value})
            if (view.s3_endpoint_url or "").startswith("http://"):
                found["AWS_ALLOW_HTTP"] = "true"
            if view.s3_endpoint_url and "AWS_REGION" not in found and not os.environ.get("AWS_REGION"):
                found["AWS_REGION"] = "us-east-1"  # an S3-compatible server: any region signs
    elif kind == "gs" and os.environ.get("STORAGE_EMULATOR_HOST"):
        import json

        host = os.environ["STORAGE_EMULATOR_HOST"]
        base = host if "://" in host else f"http://{host}"
        found["google_service_account_key"] = json.dumps(
            {"gcs_base_url": base.rstrip("/"), "disable_oauth": True, "client_email": "", "private_key": "",
             "private_key_id": ""})
    return found


_OPTION_PREFIXES = ("s3_", "azure_", "hdfs_")  # the flags Beam's file systems read (GCS reads none)


def filesystem_options(pipeline) -> dict:
    """The file-system flags the pipeline was built with (endpoints, credentials), for
    :func:`ensure_options` on workers."""
    every = pipeline.options.get_all_options(drop_default=True)
    return {k: v for k, v in every.items() if k.startswith(_OPTION_PREFIXES) and v is not None}


def ensure_options(options: dict) -> None:
    """Give FileSystems the pipeline's file-system flags in a worker that was not given them.

    Workers started by a portable runner (Dataflow, Flink, Spark, Prism) get them from Beam's SDK
    harness; the in-process runner's multi_processing workers get none of them, and s3:// would fall back to
    the machine's default credentials and endpoint."""
    share_s3_clients()
    if not options:
        return
    current = FileSystems._pipeline_options  # pylint: disable=protected-access
    if current is not None:
        values = current.get_all_options()
        if all(values.get(key) == value for key, value in options.items()):
            return
    from apache_beam.options.pipeline_options import PipelineOptions

    FileSystems.set_options(PipelineOptions.from_dictionary(options))


def share_s3_clients() -> None:
    """Let Beam's S3 file system reuse one boto3 client per set of S3 settings in a process.

    Beam 2.77 builds a new boto3 session and client for every FileSystems call on s3:// (0.1-0.3 s
    each, spent loading botocore's service models), which made reading 2,000 small .txt objects
    ten times slower than reading them from disk. boto3 clients are safe to share between threads;
    the per-download state of Beam's wrapper stays per call. If Beam's wrapper is not the one this
    was written against, nothing is changed."""
    try:
        from apache_beam.io.aws.clients.s3 import boto3_client
    except ImportError:
        return
    cls = boto3_client.Client
    original = cls.__init__
    if getattr(original, "_newsbeam_shared", False) or boto3_client.boto3 is None:
        return
    import threading

    clients: dict = {}
    lock = threading.Lock()
    fields = ("s3_access_key_id", "s3_secret_access_key", "s3_session_token", "s3_endpoint_url", "s3_disable_ssl",
              "s3_region_name", "s3_api_version", "s3_verify")

    def settings_of(options) -> tuple:
        if hasattr(options, "view_as"):
            from apache_beam.options.pipeline_options import S3Options

            view = options.view_as(S3Options)
            return tuple(getattr(view, name, None) for name in fields)
        return tuple(options.get(name) for name in fields)

    def init(self, options):
        key = settings_of(options)
        with lock:
            shared = clients.get(key)
        if shared is None:
            original(self, options)
            with lock:
                clients.setdefault(key, self.client)
            return
        self.client = shared
        self._download_request = None
        self._download_stream = None
        self._download_pos = 0

    init._newsbeam_shared = True
    cls.__init__ = init
