"""gcp-storage-emulator with the part of GCS's XML API that delta-rs uses, for tests and benchmarks.

    python -m benchmarks.servers.gcs_emulator start --host=127.0.0.1 --port=9023 --in-memory --quiet

Same arguments as ``python -m gcp_storage_emulator``. Beam (google-cloud-storage) talks to GCS through
the JSON API (/storage/v1/b/...), which the emulator serves. delta-rs (the Rust object_store crate)
talks to it through the XML API (/<bucket>/<object>), of which the emulator serves only a bare GET and
PUT and answers everything else with 501 Not Implemented. This module adds, in memory (the installed
package is not changed), on the emulator's own storage so both APIs see the same objects:

* GET /<bucket>?list-type=2&prefix=&delimiter=&start-after=&continuation-token=&max-keys=
  ListBucketResult XML: Contents (Key, Size, LastModified, ETag), CommonPrefixes when a delimiter
  is given, NextContinuationToken when cut at max-keys. delta-rs lists _delta_log/ with start-after.
* HEAD and GET /<bucket>/<object>: ETag, Last-Modified and x-goog-generation, which object_store
  requires; GET with Range "bytes=a-b", "bytes=a-" and "bytes=-n" (Parquet footers) answers 206
  with Content-Range, or 416 past the end.
* PUT /<bucket>/<object>: the body as sent (never parsed as JSON or multipart, whatever its
  Content-Type), or a copy of ``x-goog-copy-source: <bucket>/<object>``; answers ETag and
  x-goog-generation. ``x-goog-if-generation-match: 0`` means "only if absent": 412 Precondition
  Failed when the object exists. That is how delta-rs creates _delta_log/<version>.json, so of two
  writers that commit the same version, the second gets 412 and retries on the newer table state.
  Any other generation must equal the object's current one, or 412.
* DELETE /<bucket>/<object>: 204, or 404 if missing.

What deltalake 1.6.6 sent for create, append, overwrite of a partition and read (object names and
bucket names fully percent-encoded, '/' as %2F): GET of _delta_log/_last_checkpoint (404 is fine),
the listing of _delta_log/ with start-after, GET of the commit files, PUT of the Parquet parts,
PUT of _delta_log/N.json with x-goog-if-generation-match: 0, GET of the parts with bounded ranges.
No HEAD, DELETE or copy: those are here for vacuum, checkpoints and other object_store callers.

Atomicity of "only if absent": the emulator's server is http.server.HTTPServer, which answers one
request at a time, so the existence check and the write cannot interleave with another request.

delta-rs ignores STORAGE_EMULATOR_HOST; it reaches this server with the storage option
``google_service_account_key`` = JSON {"gcs_base_url": "http://HOST:PORT", "disable_oauth": true,
"client_email": "", "private_key": "", "private_key_id": ""} (see GcsStore.delta_options in
object_stores.py).
"""
from __future__ import annotations

import base64
import re
import sys
from datetime import datetime, timezone
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import unquote
from xml.sax.saxutils import escape

from gcp_storage_emulator import __main__ as emulator_cli
from gcp_storage_emulator import server
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

# The emulator's own XML-API route (its last one): GET and PUT of /<bucket>/<object>. Replaced by
# _OBJECT_ROUTE, whose bucket name may be percent-encoded too: object_store sends nb-1 as nb%2D1.
_EMULATOR_OBJECT_ROUTE = r"^/(?P<bucket_name>[-.\w]+)/(?P<object_id>.*[^/]+)$"
_OBJECT_ROUTE = r"^/(?P<bucket_name>[-.%\w]+)/(?P<object_id>.*[^/]+)$"
_BUCKET_ROUTE = r"^/(?P<bucket_name>[-.%\w]+)$"
_RANGE = re.compile(r"bytes=(?P<start>\d*)-(?P<end>\d*)")
_MAX_KEYS = 1000


def _updated(obj: dict) -> datetime:
    return datetime.strptime(obj["updated"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def _etag(obj: dict) -> str:
    """Quoted hex MD5 of the content, as GCS's XML API answers."""
    return '"{}"'.format(base64.b64decode(obj["md5Hash"]).hex())


def _object_headers(response, obj: dict) -> None:
    response["ETag"] = _etag(obj)
    response["Last-Modified"] = format_datetime(_updated(obj), usegmt=True)
    response["x-goog-generation"] = obj["generation"]
    response["x-goog-metageneration"] = obj["metageneration"]
    response["Accept-Ranges"] = "bytes"


def _list(request, response, storage):
    """GET /<bucket>?list-type=2: the XML API's object listing (ListObjectsV2 shape)."""
    query = {name: values[0] for name, values in request.query.items()}
    bucket = request.params["bucket_name"]
    prefix = query.get("prefix", "")
    try:
        files, prefixes = storage.get_file_list(bucket, prefix or None, query.get("delimiter") or None)
    except NotFound:
        response.status = HTTPStatus.NOT_FOUND
        return
    entries = sorted([(obj["name"], obj) for obj in files] + [(p, None) for p in prefixes], key=lambda e: e[0])
    after = max(query.get("start-after", ""), query.get("continuation-token", ""))
    entries = [entry for entry in entries if entry[0] > after]
    max_keys = int(query.get("max-keys") or _MAX_KEYS)
    page, truncated = entries[:max_keys], len(entries) > max_keys
    parts = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01">',
             f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
             f"<KeyCount>{len(page)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
             f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
    if truncated:
        parts.append(f"<NextContinuationToken>{escape(page[-1][0])}</NextContinuationToken>")
    for name, obj in page:
        if obj is None:
            parts.append(f"<CommonPrefixes><Prefix>{escape(name)}</Prefix></CommonPrefixes>")
        else:
            modified = _updated(obj).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            parts.append(f"<Contents><Key>{escape(name)}</Key><Generation>{obj['generation']}</Generation>"
                         f"<LastModified>{modified}</LastModified><ETag>{escape(_etag(obj))}</ETag>"
                         f"<Size>{obj['size']}</Size></Contents>")
    parts.append("</ListBucketResult>")
    response.write_file("".join(parts).encode(), content_type="application/xml")


def _get(request, response, storage):
    """GET (and HEAD) /<bucket>/<object>, with the headers object_store needs and any byte range."""
    bucket, name = request.params["bucket_name"], request.params["object_id"]
    try:
        obj = storage.get_file_obj(bucket, name)
        content = storage.get_file(bucket, name)
    except NotFound:
        response.status = HTTPStatus.NOT_FOUND
        return
    _object_headers(response, obj)
    asked = request.get_header("Range")
    match = _RANGE.fullmatch(asked.strip()) if asked else None
    if match and (match["start"] or match["end"]):
        size = len(content)
        if not match["start"]:  # bytes=-n: the last n bytes
            start, end = max(size - int(match["end"]), 0), size
        else:
            start = int(match["start"])
            end = min(int(match["end"]) + 1, size) if match["end"] else size
        if start >= size and size > 0:
            response.status = HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE
            response["Content-Range"] = f"bytes */{size}"
            return
        response.status = HTTPStatus.PARTIAL_CONTENT
        response["Content-Range"] = f"bytes {start}-{max(end - 1, start)}/{size}"
        content = content[start:end]
    response.write_file(content, content_type=obj.get("contentType") or "application/octet-stream")


def _precondition_failed(request, storage, bucket: str, name: str) -> bool:
    """x-goog-if-generation-match: 0 is "only if absent", any other number the current generation."""
    wanted = request.get_header("x-goog-if-generation-match")
    if wanted is None:
        return False
    try:
        current = storage.get_file_obj(bucket, name)["generation"]
    except NotFound:
        current = "0"
    return wanted.strip() != current


def _put(request, response, storage):
    """PUT /<bucket>/<object>: upload the raw body, or copy x-goog-copy-source; honour the precondition."""
    bucket, name = request.params["bucket_name"], request.params["object_id"]
    handler = request._request_handler
    # Read the body before answering, also when refusing: the client is still sending it.
    body = server._read_raw_data(handler) or b""
    if bucket not in storage.buckets:
        response.status = HTTPStatus.NOT_FOUND
        return
    if _precondition_failed(request, storage, bucket, name):
        response.status = HTTPStatus.PRECONDITION_FAILED
        response.write_file(b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ConditionNotMet</Code>"
                            b"<Message>At least one of the pre-conditions you specified did not hold."
                            b"</Message></Error>", content_type="application/xml")
        return
    content_type = request.get_header("Content-Type") or "application/octet-stream"
    source = request.get_header("x-goog-copy-source")
    if source:
        source_bucket, _, source_name = unquote(source).lstrip("/").partition("/")
        try:
            body = storage.get_file(source_bucket, source_name)
            content_type = storage.get_file_obj(source_bucket, source_name).get("contentType") or content_type
        except NotFound:
            response.status = HTTPStatus.NOT_FOUND
            return
    obj = objects._make_object_resource(request.base_url, bucket, name, content_type, str(len(body)))
    obj = objects._checksums(body, obj)
    storage.create_file(bucket, name, body, obj)
    _object_headers(response, obj)
    if source:
        response.write_file(f"<?xml version='1.0' encoding='UTF-8'?><CopyObjectResult><LastModified>"
                            f"{obj['updated']}</LastModified><ETag>{escape(_etag(obj))}</ETag>"
                            f"</CopyObjectResult>".encode(), content_type="application/xml")


def _delete(request, response, storage):
    try:
        storage.delete_file(request.params["bucket_name"], request.params["object_id"])
    except NotFound:
        response.status = HTTPStatus.NOT_FOUND
        return
    response.status = HTTPStatus.NO_CONTENT


class _HeadResponse(server.Response):
    """The response to a HEAD: the headers of the GET, with its Content-Length, and no body."""

    def close(self):
        content = self._content.encode() if isinstance(self._content, str) else self._content or b""
        self._handler.send_response(self.status.value, self.status.phrase)
        for key, value in self._headers.items():
            self._handler.send_header(key, value)
        self._handler.send_header("Content-Length", str(len(content)))
        self._handler.end_headers()


def _do_head(handler) -> None:
    """RequestHandler.do_HEAD, which the emulator lacks (http.server answers 501)."""
    request = server.Request(handler, "HEAD")
    response = _HeadResponse(handler)
    match = re.fullmatch(_OBJECT_ROUTE, request.path)
    if match:
        request.set_match(match)
        _get(request, response, handler.storage)
    else:
        response.status = HTTPStatus.NOT_IMPLEMENTED
    response.close()


def install() -> None:
    """Add the XML-API routes to the emulator's handler table, in this process. Idempotent."""
    ours = (_EMULATOR_OBJECT_ROUTE, _OBJECT_ROUTE, _BUCKET_ROUTE)
    if not any(regex in (_EMULATOR_OBJECT_ROUTE, _OBJECT_ROUTE) for regex, _ in server.HANDLERS):
        raise RuntimeError(f"gcp_storage_emulator.server.HANDLERS has no route {_EMULATOR_OBJECT_ROUTE!r} "
                           "to replace: a version of the emulator this module was not written for")
    routes = [(regex, methods) for regex, methods in server.HANDLERS if regex not in ours]
    # Last, as the emulator's own /<bucket>/<object> route was: /b/..., /wipe and the rest go first.
    routes.append((_BUCKET_ROUTE, {server.GET: _list}))
    routes.append((_OBJECT_ROUTE, {server.GET: _get, server.PUT: _put, server.DELETE: _delete}))
    server.HANDLERS = tuple(routes)
    server.RequestHandler.do_HEAD = _do_head


def main(argv: list[str] | None = None) -> None:
    install()
    emulator_cli.main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
