"""Publishing a run's files without renames: a commit log and the list of current files.

An output (a local folder or an object-store prefix) holds the tables' Parquet files, each named
after the run that wrote it, and a ``_newsbeam/`` folder::

    articles/language=en/part-<run>-00000-of-00001.parquet   data files; a run never touches another's
    _newsbeam/commits/<UTC time>-<run>.json                    one per published run, written once
    _newsbeam/current.json                                     the files that make up the output now
    run.json                                                   the last published run's summary

A run writes its data files first, under names no other run uses. Publishing is then three writes
of one object each: the run's commit record, ``current.json`` (the commit log folded: each commit
replaces what it covers, see :func:`fold`), and ``run.json``. A single object write is atomic on
every store (locally: a temporary file renamed over), so a reader of ``current.json`` sees the files
of one state, never a mix, and a crash at any point leaves the previous state readable. Publishing
is safe to repeat: a run that finds its own commit record does not write a second one.

Files that no current state names are then deleted: at once when a published run superseded them,
after a grace period (``--orphan-grace-hours``) when no commit names their run (a run that died, or
one still writing). A run that finds, when it publishes, that its own files were collected (it ran
longer than the grace period beside another run) fails instead of publishing a broken state. So a plain glob over a table folder reads the current state too, except while a run is
in progress or after one died; readers that must never see a mix read ``current.json``
(:func:`current_files`, ``newsbeam files``).
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from datetime import datetime, timezone
from typing import Iterable, Optional

from transforms.io import store

LOG = logging.getLogger("newsbeam.commit")

META = "_newsbeam"
COMMITS = f"{META}/commits"
CURRENT = f"{META}/current.json"
RUN_FILE = "run.json"
FORMAT = 1
_PART = re.compile(r"^part-(?P<run>[0-9a-zA-Z_-]+)-(?P<shard>\d{5})-of-(?P<shards>\d{5})\.parquet$")
_LEGACY_PART = re.compile(r"^part-\d{5}-of-\d{5}\.parquet$")  # outputs of newsbeam before the commit log
_COMMIT = re.compile(r"^(?P<time>\d{8}T\d{12}Z)-(?P<run>[0-9a-zA-Z_-]+)\.json$")


def part_name(run_id: str, shard: int, shards: int) -> str:
    return f"part-{run_id}-{shard:05d}-of-{shards:05d}.parquet"


def run_of_part(name: str) -> Optional[str]:
    found = _PART.match(name.rsplit("/", 1)[-1])
    return found.group("run") if found else None


def without_run_id(rel: str) -> str:
    """A data file's path with the run id taken out of its name: two runs of the same input write
    the same files under their own run's names, and compare equal this way."""
    head, _, name = rel.rpartition("/")
    found = _PART.match(name)
    if not found:
        return rel
    return f"{head}/" * bool(head) + f"part-{found.group('shard')}-of-{found.group('shards')}.parquet"


def _now_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def commit_paths(output: str) -> list[str]:
    """Paths of the commit records, oldest first."""
    found = [p for p, _ in store.list_files(store.join(output, COMMITS)) if _COMMIT.match(p.rsplit("/", 1)[-1])]
    return sorted(found, key=lambda p: p.rsplit("/", 1)[-1])


class DamagedOutput(RuntimeError):
    """A file of the output's own bookkeeping cannot be read: the message names it and the repair."""


def read_json(path: str, repair: str = "") -> dict:
    """A JSON object of the output's bookkeeping; :class:`DamagedOutput` naming ``path`` (and
    ``repair``, the way to mend it) when it is not one."""
    mend = f"; {repair}" if repair else ""
    try:
        value = json.loads(store.read_bytes(path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # cut short, or overwritten
        raise DamagedOutput(f"{path} is damaged ({type(exc).__name__}: {str(exc)[:120]}){mend}") from None
    if not isinstance(value, dict):
        raise DamagedOutput(f"{path} is damaged (a JSON {type(value).__name__}, not an object){mend}")
    return value


def _read_commit(path: str) -> dict:
    return read_json(path, repair=(
        "this commit record of a published run cannot be read; move it out of the output (mv it elsewhere), "
        "then rerun the date it published (or the whole output for an undated one): the runs before it stay "
        "published"))


def fold(commits: Iterable[dict]) -> dict:
    """The current state from commit records, oldest first: each commit removes the files it
    replaces and adds its own. ``"replaces": "all"``: every file of every table (a whole output);
    ``{"dt": D}``: the files of date D (a dated run into a lake; other dates stay), and any file
    without a date (an undated output that a dated run replaced with ``--change-output-kind``)."""
    files: list[dict] = []
    latest = None
    for commit in commits:
        replaces = commit.get("replaces", "all")
        if replaces == "all":
            files = []
        else:
            files = [f for f in files if f.get("dt") and f.get("dt") != replaces["dt"]]
        files.extend(commit["files"])
        latest = commit["run_id"]
    runs = sorted({run_of_part(f["path"]) for f in files} - {None})  # the runs whose files are current
    tables: dict[str, list[dict]] = {}
    for entry in sorted(files, key=lambda f: f["path"]):
        tables.setdefault(entry["table"], []).append(entry)
    dates = sorted({f["dt"] for f in files if f.get("dt")})
    return {"format": FORMAT, "runs": runs, "latest_run": latest, "dates": dates, "tables": tables}


def find_commit(output: str, run_id: str, paths: Optional[list[str]] = None) -> Optional[str]:
    for path in paths if paths is not None else commit_paths(output):
        if _COMMIT.match(path.rsplit("/", 1)[-1]).group("run") == run_id:
            return path
    return None


class LostFiles(RuntimeError):
    """Files a run wrote are gone before it published them."""


def publish(output: str, run_id: str, files: list[dict], summary: dict, replaces="all",
            grace_seconds: float = 6 * 3600) -> dict:
    """Commit a run whose data files are all written; returns ``current.json``'s content.

    ``files``: {"table", "path" (relative to ``output``), "rows"} of every file the run wrote.
    Safe to call again for the same run (a retried step): the first commit record stands.
    """
    paths = commit_paths(output)
    listing = None  # the output's files before the commit: checked here, and cleaned up below
    if find_commit(output, run_id, paths) is None:
        listing = store.list_files(output)
        present = {store.relative(output, p) for p, _ in listing}
        missing = sorted(f["path"] for f in files if f["path"] not in present)
        if missing:
            raise LostFiles(f"{len(missing)} file(s) this run wrote are gone from {output} (first: {missing[0]}); "
                            "was another run's clean-up given a shorter --orphan-grace-hours than this run took? "
                            "Nothing was published.")
        record = {"format": FORMAT, "run_id": run_id, "committed_at": datetime.now(timezone.utc).isoformat(),
                  "replaces": replaces, "files": sorted(files, key=lambda f: f["path"]), "summary": summary}
        path = store.join(output, COMMITS, f"{_now_stamp()}-{run_id}.json")
        store.write_bytes(path, _dump(record))
        paths = commit_paths(output)
    # Fold the log and write current.json; then list the log again: a run that committed meanwhile
    # (and may have written its own current.json before ours) is folded in and written again, so
    # the last writer always leaves the fold of every commit there is.
    cache: dict[str, dict] = {}
    for _ in range(20):
        for path in paths:
            if path not in cache:
                cache[path] = _read_commit(path)
        commits = [cache[path] for path in paths]
        current = fold(commits)
        store.write_bytes(store.join(output, CURRENT), _dump(current))
        latest = next(c for c in reversed(commits) if c["run_id"] == current["latest_run"])
        store.write_bytes(store.join(output, RUN_FILE), _dump(latest["summary"]))
        again = commit_paths(output)
        if again == paths:
            break
        paths = again
    try:  # the run is published: a clean-up that fails is retried by the next run, not a failed run
        collect_garbage(output, current, {c["run_id"] for c in commits}, keep_run=run_id, grace=grace_seconds,
                        listing=listing)
    except Exception:  # pylint: disable=broad-except
        LOG.warning("clean-up of %s failed; the next run retries it", output, exc_info=True)
    return current


def collect_garbage(output: str, current: dict, committed: set[str], keep_run: str,
                    now: Optional[float] = None, grace: float = 6 * 3600,
                    listing: Optional[list[tuple[str, float]]] = None) -> list[str]:
    """Delete data files that ``current`` does not name: those of published runs (superseded), of
    newsbeam before the commit log, and those of unpublished runs older than ``grace`` seconds.
    Files of ``keep_run`` and of runs that may still be writing are left. Returns what it deleted.
    ``listing`` is the output's files if already listed (files written since are simply left)."""
    now = time.time() if now is None else now
    live = {entry["path"] for entries in current["tables"].values() for entry in entries}
    doomed = []
    for path, modified in store.list_files(output) if listing is None else listing:
        rel = store.relative(output, path)
        name = rel.rsplit("/", 1)[-1]
        if rel.startswith(META + "/") or rel in live or not name.endswith(".parquet"):
            continue
        run = run_of_part(name)
        if run == keep_run:
            continue
        if (run is None and _LEGACY_PART.match(name)) or run in committed or (run and now - modified > grace):
            doomed.append(path)
    store.delete(doomed)
    _remove_emptied_folders(output, doomed)
    return doomed


def _remove_emptied_folders(output: str, deleted: list[str]) -> None:
    """Local partition folders that the deletion of ``deleted`` left empty (object stores have no
    folders). Only those: a folder another run just made for a file it is about to write is not
    touched unless this deletion emptied it."""
    if not store.is_local(output):
        return
    root = os.path.abspath(output)
    folders = {os.path.dirname(os.path.abspath(p)) for p in deleted}
    for folder in sorted(folders, key=len, reverse=True):
        while folder.startswith(root + os.sep):
            try:
                os.rmdir(folder)  # fails unless empty
            except OSError:
                break
            folder = os.path.dirname(folder)


def discard_run(output: str, run_id: str) -> list[str]:
    """Delete the files of a run that failed before it published (never those of a published run)."""
    if find_commit(output, run_id) is not None:
        return []
    doomed = [p for p, _ in store.list_files(output) if run_of_part(store.relative(output, p)) == run_id]
    store.delete(doomed)
    _remove_emptied_folders(output, doomed)
    return doomed


def current_state(output: str) -> dict:
    """``current.json`` of ``output`` (folded from the commit log when it is missing)."""
    path = store.join(output, CURRENT)
    if store.exists(path):
        return read_json(path, repair=f"delete it (the next run folds it again from {COMMITS}/)")
    return fold(_read_commit(p) for p in commit_paths(output))


def current_files(output: str, table: Optional[str] = None) -> list[str]:
    """Full paths of the files that make up ``output`` now (of one table, or all)."""
    tables = current_state(output)["tables"]
    names = [table] if table else sorted(tables)
    return [store.join(output, entry["path"]) for name in names for entry in tables.get(name, [])]


def run_summary(output: str, run_id: str) -> Optional[dict]:
    """The summary the run ``run_id`` committed, read from the output's store; None if it did not."""
    path = find_commit(output, run_id)
    return _read_commit(path)["summary"] if path else None


def is_newsbeam_output(output: str) -> bool:
    return any(store.exists(store.join(output, name)) for name in (CURRENT, RUN_FILE)) or bool(
        commit_paths(output))


def _dump(value: dict) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
