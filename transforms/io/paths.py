"""Input paths as the pipeline lists them: files, folders, globs and object-store prefixes
checked at launch (:func:`resolve_inputs`), listed on workers (:func:`list_source`), and the
entries that are not regular files (dangling links, link loops, FIFOs, devices) named.
"""
from __future__ import annotations

import errno
import glob
import os
import stat
from typing import Iterable, Iterator, NamedTuple, Optional

from apache_beam.io.filesystems import FileSystems

from transforms.io import store

_GLOB_CHARS = "*?["


class InputSource(NamedTuple):
    """One --input as the pipeline lists it: a local folder or file, a glob, or an object-store
    object or prefix. ``root`` is where hidden names start to count (names starting with '.' below
    it are skipped)."""

    path: str
    kind: str  # 'folder', 'file', 'glob' or 'prefix'
    root: str


def has_glob(path: str) -> bool:
    return any(ch in path for ch in _GLOB_CHARS)


def glob_root(pattern: str) -> str:
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
            if has_glob(given) and not os.path.exists(path):  # a folder named "data[2024]" is a folder
                source = InputSource(path, "glob", glob_root(path))
            elif os.path.isdir(path):
                source = InputSource(path, "folder", path)
            elif os.path.isfile(path):
                source = InputSource(path, "file", os.path.dirname(path))
            elif os.path.exists(path):  # a FIFO or a device named on the command line
                raise ValueError(f"input {given!r} cannot be read: {not_regular(path)}")
            else:  # also a dangling symbolic link
                raise ValueError(f"input {given!r} does not exist (give files, folders or glob patterns)")
        elif has_glob(path):
            source = InputSource(path, "glob", glob_root(path))
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

def display_name(path: str) -> str:
    """``path`` as valid Unicode: bytes of a file name that are not UTF-8 are shown as \\xNN escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
