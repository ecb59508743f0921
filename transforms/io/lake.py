"""The output's tables as Delta Lake tables: what a reader sees, and the commit that publishes a run.

An output (a local folder or an object-store prefix) holds one Delta table per table name, each a
folder of Parquet files with a ``_delta_log/`` beside them::

    articles/_delta_log/00000000000000000007.json      the table's log: which files make it up now
    articles/dt=2025-03-01/language=en/part-<run>-00000-of-00001.parquet
    entities/ duplicates/ rejected/ dedupe_index/ (removed_lines/)   the same, partitioned by dt
    run.json                                           the last run's summary, with each table's version
    _runs/<run id>.json                                every run's summary, written once it committed

Any Delta reader (DuckDB's ``delta_scan``, Polars, pandas through ``deltalake``, Spark, Trino) reads
a table's current state from its log and never sees a file of a run in progress, of a run that
died or of a date replaced since: those files stay on disk, outside the table, until ``newsbeam
vacuum`` deletes them after a retention.

A run's workers write its Parquet parts under names only that run uses (no rename, no shared
disk); the last step then commits them, one Delta commit per table (delta-rs commits files it did
not write). A dated run replaces its date in each table (the commit removes that ``dt``'s files and
adds the run's), an undated run replaces each table. ``articles`` is committed first (it holds the
date's run counter, below), ``dedupe_index`` last, so a later run's look-back never sees a date
whose articles are not committed yet; the tables between are committed at once. Between two
tables' commits (tens of milliseconds) a reader
may see the new date in one table and the old in the next; a reader that must never see that pins
the versions ``run.json`` names (time travel).

Commits carry application transactions (Delta's ``txn`` actions): ``newsbeam.run=<run id>`` in
every table, so that a retried commit step finds its own commit and adds nothing twice, and, in
``articles`` only, ``newsbeam.dt=<date>`` (``newsbeam.dt=all`` for an undated output), a counter of
the runs of that date. A run reads the counter of its date when it starts; if another run
committed that date meanwhile, the counter has moved and this run fails before it commits any
table (:class:`ConcurrentRun`).
Two runs of different dates touch different counters and partitions, and both land; Delta's
optimistic concurrency retries the later commit.
"""
from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone
from typing import Iterable, Optional

from transforms.io import store
from transforms.rejects import StageFailure

LOG = logging.getLogger("newsbeam.lake")

RUN_FILE = "run.json"
RUNS = "_runs"
LOG_FOLDER = "_delta_log"
MARKER_TABLE = "articles"  # a newsbeam lake: OUT/articles/ is a Delta table named newsbeam.articles
ORDER = ("articles", "entities", "duplicates", "rejected", "removed_lines", "dedupe_index")
ALL_DATES = "all"
OLD_LAYOUT = "_newsbeam"  # newsbeam's own commit log before the Delta tables
_PART = re.compile(r"^part-(?P<run>[0-9a-zA-Z_-]+)-(?P<shard>\d{5})-of-(?P<shards>\d{5})\.parquet$")


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


def table_name(name: str) -> str:
    """The name in a table's Delta metadata (what tells a newsbeam lake from any Delta table)."""
    return f"newsbeam.{name}"


def table_uri(output: str, name: str) -> str:
    return store.join(output, name)


class DamagedOutput(RuntimeError):
    """A file of the output's own bookkeeping cannot be read: the message names it and the repair."""


class ConcurrentRun(StageFailure):
    """Another run committed the same date while this one ran: this run fails and commits nothing."""


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


def _dump(value: dict) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


# Reading -----------------------------------------------------------------------------------------

def has_table(output: str, name: str) -> bool:
    return bool(store.list_files(store.join(output, name, LOG_FOLDER), limit=1))


def open_table(output: str, name: str, version: Optional[int] = None):
    """The Delta table ``name`` of ``output`` (at ``version``, or its latest), or None when there is
    none. A log that delta-rs cannot read is :class:`DamagedOutput`."""
    from deltalake import DeltaTable

    if not has_table(output, name):
        return None
    uri = table_uri(output, name)
    try:
        return DeltaTable(uri, version=version, storage_options=store.delta_options(uri) or None)
    except Exception as exc:  # pylint: disable=broad-except  (delta-rs raises several kinds for a bad log)
        if version is not None and "version" in str(exc).lower() and "not" in str(exc).lower():
            raise
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        damaged = damaged_log_file(uri)
        if damaged:
            raise DamagedOutput(
                f"{damaged} is damaged ({reason}); it is a commit of the Delta table {uri}. If it is the newest "
                f"file of {LOG_FOLDER}/, delete it (the table goes back to the version before it) and rerun the date "
                "that commit wrote; else restore it from a backup") from None
        raise DamagedOutput(
            f"the Delta log of {uri} cannot be read ({reason}); restore the damaged file of "
            f"{store.join(uri, LOG_FOLDER)} from a backup, or move the output aside and rerun its dates into a new "
            "one") from None


def damaged_log_file(uri: str) -> Optional[str]:
    """The newest commit file of a table's log that is not JSON lines, if any (the one a cut-short
    write left)."""
    commits = sorted(p for p, _ in store.list_files(store.join(uri, LOG_FOLDER)) if p.endswith(".json")
                     and p.rsplit("/", 1)[-1].split(".")[0].isdigit())
    for path in reversed(commits):
        try:
            for line in store.read_bytes(path).decode("utf-8").splitlines():
                if line.strip():
                    json.loads(line)
        except (ValueError, UnicodeDecodeError):
            return path
    return None


def is_old_layout(output: str) -> bool:
    """An output of newsbeam before the Delta tables (its own commit log under ``_newsbeam/``)."""
    return bool(store.list_files(store.join(output, OLD_LAYOUT), limit=1))


def only_uncommitted_parts(output: str, limit: int = 100_000) -> bool:
    """Every file below ``output`` is a Parquet part newsbeam's workers write (``<table>/.../part-<run
    id>-NNNNN-of-NNNNN.parquet``) and there is no table yet: what a first run that died before its
    commit leaves. A next run may make a lake there; anything else in it makes it someone's folder."""
    files = store.list_files(output, limit=limit)
    if not files or len(files) >= limit:
        return False
    for path, _ in files:
        table, _, rest = store.relative(output, path).partition("/")
        if table not in ORDER or not rest or LOG_FOLDER in rest.split("/") or not run_of_part(rest):
            return False
    return True


def is_newsbeam_output(output: str) -> bool:
    """``output`` is a newsbeam lake: its ``articles/`` is a Delta table named ``newsbeam.articles``."""
    table = open_table(output, MARKER_TABLE)
    return table is not None and table.metadata().name == table_name(MARKER_TABLE)


def table_files(table) -> list[dict]:
    """The files a Delta table is made of now: {"path" (below the table), "rows", "size", "dt"?,
    "language"?}, sorted by path."""
    actions = table.get_add_actions(flatten=True)
    columns = {name: actions.column(name).to_pylist() for name in actions.column_names}
    found = []
    for i, path in enumerate(columns.get("path", [])):
        entry = {"path": path, "rows": columns["num_records"][i], "size": columns["size_bytes"][i]}
        for key in ("dt", "language"):
            value = columns.get(f"partition.{key}", [None] * (i + 1))[i]
            if value is not None:
                entry[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        found.append(entry)
    return sorted(found, key=lambda e: e["path"])


def current_state(output: str, versions: Optional[dict] = None) -> dict:
    """What the output holds now (or at ``versions``, {table: version}): {"tables": {name: [{"table",
    "path" (below the output), "rows", "dt"?, ...}]}, "dates": [...], "versions": {name: version}}."""
    tables: dict[str, list[dict]] = {}
    found_versions: dict[str, int] = {}
    marked = False
    for name in ORDER:
        table = open_table(output, name, (versions or {}).get(name))
        if table is None:
            continue
        if name == MARKER_TABLE:
            marked = table.metadata().name == table_name(MARKER_TABLE)
        found_versions[name] = table.version()
        tables[name] = [{**entry, "table": name, "path": f"{name}/{entry['path']}"} for entry in table_files(table)]
    dates = sorted({e["dt"] for entries in tables.values() for e in entries if e.get("dt")})
    return {"tables": tables, "dates": dates, "versions": found_versions, "newsbeam_lake": marked}


def lake_state(output: str) -> Optional[dict]:
    """:func:`current_state` of a newsbeam lake (each table's log loaded once), None for any other
    output (new, empty or foreign)."""
    state = current_state(output)
    return state if state["newsbeam_lake"] else None


def current_files(output: str, table: Optional[str] = None) -> list[str]:
    """Full paths of the files that make up ``output``'s tables now (of one table, or all)."""
    tables = current_state(output)["tables"]
    names = [table] if table else sorted(tables)
    return [store.join(output, entry["path"]) for name in names for entry in tables.get(name, [])]


def date_key(date: Optional[str]) -> str:
    return f"newsbeam.dt={date or ALL_DATES}"


def run_key(run_id: str) -> str:
    return f"newsbeam.run={run_id}"


def runs_of_date(output: str, date: Optional[str], name: str = MARKER_TABLE) -> int:
    """How many runs committed ``date`` (None: an undated output) to the table ``name`` (the first a
    run commits: articles) so far: the counter a run reads when it starts and expects unchanged
    when it commits."""
    table = open_table(output, name)
    return (table.transaction_version(date_key(date)) or 0) if table is not None else 0


def run_summary(output: str, run_id: str) -> Optional[dict]:
    """The summary of run ``run_id`` once it committed every table; None if it did not."""
    path = store.join(output, RUNS, f"{run_id}.json")
    return read_json(path) if store.exists(path) else None


def committed_tables(output: str, run_id: str) -> list[str]:
    """The tables run ``run_id`` committed (all of them, some when it died between two, or none)."""
    found = []
    for name in ORDER:
        table = open_table(output, name)
        if table is not None and table.transaction_version(run_key(run_id)) is not None:
            found.append(name)
    return found


def duckdb_extension(name: str = "delta") -> str:
    """The path of DuckDB's extension ``name`` as its PyPI package (``duckdb-extension-<name>``)
    ships it for the installed DuckDB (so that no ``INSTALL`` downloads it)."""
    import importlib
    import os

    import duckdb

    package = importlib.import_module(f"duckdb_extension_{name}")
    base = os.path.join(os.path.dirname(package.__file__), "extensions")
    path = os.path.join(base, f"v{duckdb.__version__}", f"{name}.duckdb_extension")
    if not os.path.exists(path):
        raise RuntimeError(f"duckdb-extension-{name} has no extension for DuckDB {duckdb.__version__} (in {base}); "
                           f"install the duckdb-extension-{name} release of the same version as duckdb")
    return path


def duckdb_with_delta(con=None):
    """A DuckDB connection (``con``, or a new one) that reads Delta tables with ``delta_scan``, the
    extension loaded from its PyPI package, never downloaded."""
    import duckdb

    con = con or duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute(f"LOAD '{duckdb_extension('delta')}'")
    return con


# Committing --------------------------------------------------------------------------------------

def delta_schema(file_schema, partition_by: list[str]):
    """A table's Delta schema: the columns of its Parquet files, then its partition columns (``dt``
    a date, others strings); the files do not hold the partition columns."""
    import pyarrow as pa

    fields = [f for f in file_schema if f.name not in partition_by]
    fields += [pa.field(p, pa.date32() if p == "dt" else pa.string()) for p in partition_by]
    return pa.schema(fields)


def merged_schema(current, ours, where: str):
    """The table's schema after a run whose files have ``ours``: the columns the table has, then
    the ones a newer newsbeam added (older dates read them as nulls). A column an older newsbeam
    lacks stays in the table (its files read as nulls). A column whose type changed is refused."""
    import pyarrow as pa

    have = {f.name: f for f in current}
    for field in ours:
        if field.name in have and not have[field.name].type.equals(field.type):
            raise StageFailure(
                f"{where}: column {field.name} is {have[field.name].type} in the lake and {field.type} in this "
                "newsbeam's files; a column's type cannot change in place. Write into a new output, or rerun every "
                "date of the lake with this newsbeam into a new output")
    return pa.schema(list(current) + [f.with_nullable(True) for f in ours if f.name not in have])


def add_action(entry: dict):
    """A Delta add action for a Parquet part a worker wrote (``entry`` from ``rows.write_part``)."""
    from deltalake.transaction import AddAction

    stats = {"numRecords": entry["rows"], "nullCount": entry.get("null_count", {}), "minValues": {}, "maxValues": {}}
    return AddAction(path=entry["path"].split("/", 1)[1], size=entry["size"],
                     partition_values=dict(entry.get("partition_values", {})),
                     modification_time=int(entry.get("written_at", time.time()) * 1000), data_change=True,
                     stats=json.dumps(stats, sort_keys=True))


# Delta writes a checkpoint (the table's state in one Parquet file) every this many commits; a reader
# replays the checkpoint and the commits after it. Delta's default of 100 left a year's lake with up to
# 99 commit files to replay: a commit took 8x as long on date 366 as on date 1 (benchmarks/lake.py).
CHECKPOINT_INTERVAL = 10


def _create(output: str, name: str, schema, partition_by: list[str], mode: str = "ignore"):
    from deltalake import DeltaTable

    uri = table_uri(output, name)
    return DeltaTable.create(uri, schema, partition_by=partition_by or None, mode=mode, name=table_name(name),
                             description=f"newsbeam's {name} table",
                             configuration={"delta.checkpointInterval": str(CHECKPOINT_INTERVAL)},
                             storage_options=store.delta_options(uri) or None)


def commit_table(output: str, name: str, run_id: str, entries: list[dict], file_schema, partition_by: list[str],
                 date: Optional[str], expected_runs: Optional[int] = None, metadata: Optional[dict] = None,
                 replace_kind: bool = False, table=None, check_run: bool = True,
                 count_date: bool = True) -> tuple[object, int, bool]:
    """Commit one table of a run: replace ``date``'s partition (every file, for ``date`` None) with
    ``entries``. Returns the table (a ``DeltaTable``, up to date) and its version holding the run.
    Safe to repeat: a run that finds its own transaction in the table commits nothing again.
    ``expected_runs``: the date's run counter this run read when it started (:func:`runs_of_date`);
    another value now is :class:`ConcurrentRun`. ``replace_kind``: the table was partitioned otherwise
    (an undated output becoming dated, or back, ``--change-output-kind``): it is recreated with the
    new partitioning first (two commits). ``table``: the table, if already loaded. ``check_run``:
    look for this run's own commit first (False when the caller knows there is none);
    ``count_date``: keep the date's run counter in this table. Also returns whether the run had
    committed this table already.

    The table's log is loaded once (a load replays the last checkpoint and the commits after it, the
    cost that grows with the lake) and then only brought up to date."""
    from deltalake import CommitProperties, Transaction
    from deltalake.exceptions import CommitFailedError

    uri = table_uri(output, name)
    schema = delta_schema(file_schema, partition_by)
    table = table if table is not None else open_table(output, name)
    if table is None:
        try:
            table = _create(output, name, schema, partition_by)
        except Exception:  # pylint: disable=broad-except  (another run created it first: use theirs)
            table = open_table(output, name)
            if table is None:
                raise
    for attempt in range(8):
        if attempt:
            table.update_incremental()
        if (check_run or attempt) and table.transaction_version(run_key(run_id)) is not None:
            return table, _version_holding(output, name, table, run_id), True  # a retried step: committed already
        runs = (table.transaction_version(date_key(date)) or 0) if count_date or expected_runs is not None else 0
        if expected_runs is not None and runs != expected_runs:
            raise ConcurrentRun(
                f"another run committed {date or 'this output'} to {output} while this run was running (run counter "
                f"{runs}, this run started at {expected_runs}); runs of one date must not overlap. Nothing of this "
                f"run was committed: rerun the date once the other run has finished")
        if list(table.metadata().partition_columns) != list(partition_by):
            if not replace_kind:
                raise StageFailure(
                    f"{uri} is partitioned by {table.metadata().partition_columns or 'nothing'}, and this run writes it "
                    f"partitioned by {partition_by or 'nothing'}; add --change-output-kind to replace it")
            table = _create(output, name, schema, partition_by, mode="overwrite")
            continue
        import pyarrow as pa

        merged = merged_schema(pa.schema(table.schema().to_arrow()), schema, uri)
        transactions = [Transaction(run_key(run_id), 1)] + ([Transaction(date_key(date), runs + 1)] if count_date else [])
        properties = CommitProperties(
            app_transactions=transactions,
            custom_metadata={"newsbeam.run_id": run_id, "newsbeam.date": date or ALL_DATES, **(metadata or {})})
        loaded = table.version()
        try:
            table.create_write_transaction(
                [add_action(e) for e in entries], mode="overwrite", schema=merged, partition_by=partition_by or None,
                partition_filters=[("dt", "=", date)] if date else None, commit_properties=properties)
        except CommitFailedError as exc:
            text = str(exc)
            if "Concurrent transaction" in text:  # another run of this date committed since we loaded it
                continue  # the counter check above names it
            if "Metadata changed" in text or "concurrent" in text.lower():
                LOG.info("commit of %s met a concurrent commit (%s); retrying", uri, text[:120])
                time.sleep(0.2 * (attempt + 1))
                continue
            raise
        if not _has_commit(uri, loaded + 2):  # nothing after version loaded + 1, so that one is this commit
            return table, loaded + 1, False
        table.update_incremental()  # other commits landed around this one (delta-rs retried it): search
        return table, _version_holding(output, name, table, run_id, after=loaded), False
    raise StageFailure(f"could not commit {uri}: it kept changing under this run (8 attempts)")


def _has_commit(uri: str, version: int) -> bool:
    """Whether the table at ``uri`` has a commit ``version`` (one existence check, not a log load)."""
    return store.exists(store.join(uri, LOG_FOLDER, f"{version:020d}.json"))


def _version_holding(output: str, name: str, table, run_id: str, after: int = -1) -> int:
    """The first version of a table whose state holds run ``run_id``'s transaction: the table (up
    to date) holds it; versions after ``after`` are searched (other runs' commits may have come
    after it). Each step loads a version, so this is only for the rare cases: a retried step, or
    commits of other dates landing between this run's load and its commit."""
    low, high = max(after, 0), table.version()  # the version ``low`` may or may not hold it, ``high`` does
    while low < high:
        middle = (low + high) // 2
        if open_table(output, name, middle).transaction_version(run_key(run_id)) is None:
            low = middle + 1
        else:
            high = middle
    return high


def publish(output: str, run_id: str, tables: dict[str, dict], summary: dict, date: Optional[str],
            expected_runs: Optional[int], replace_kind: bool = False) -> dict:
    """Commit every table of a run whose Parquet parts are all written, then write its summary
    (``_runs/<run id>.json`` and ``run.json``) with each table's resulting version; returns it.

    ``tables``: {name: {"entries": [part entries], "schema": file schema, "partition_by": [...]}}.
    ``expected_runs``: the date's run counter in the first table (in :data:`ORDER`) as the run
    started (:func:`runs_of_date`); None commits without that check. Safe to call again for the
    same run (a retried step): tables already committed are not committed twice.

    The tables' logs are loaded at once, in threads (delta-rs works outside Python's lock), and the
    tables between the first and ``dedupe_index`` are committed at once too: the order that matters
    (``articles`` first, the date's counter; ``dedupe_index`` last, what later runs look back on)
    is kept."""
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(tables, key=ORDER.index)
    versions: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        loaded = dict(zip(names, pool.map(lambda name: open_table(output, name), names)))

        def commit(name: str, check_run: bool):
            spec = tables[name]
            first = name == names[0]
            return commit_table(
                output, name, run_id, spec["entries"], spec["schema"], spec["partition_by"], date,
                expected_runs=expected_runs if first else None, replace_kind=replace_kind, table=loaded[name],
                metadata={"newsbeam.rows": str(sum(e["rows"] for e in spec["entries"]))}, check_run=check_run,
                count_date=first)

        def still_ours(arbiter) -> None:
            """Refuse to go on when a run of the same date committed the first table after this run
            did (that run made a commit after this run's: when there is none, nothing to check)."""
            if expected_runs is None or not _has_commit(table_uri(output, names[0]), versions[names[0]] + 1):
                return
            arbiter.update_incremental()
            if (arbiter.transaction_version(date_key(date)) or 0) != expected_runs + 1:
                raise ConcurrentRun(
                    f"another run committed {date or 'this output'} to {output} while this run was committing it; "
                    f"this run committed {', '.join(versions)} only. Rerun the date once the other run has finished")

        # Only the first table keeps the date's run counter. Tables are committed in order, so a run
        # whose first table does not hold it yet has committed no other table either: the others
        # are then not searched for this run's commit (each look is a scan of the table's state).
        arbiter, versions[names[0]], retried = commit(names[0], True)
        last = [name for name in names[1:] if name == "dedupe_index"]
        middle = [name for name in names[1:] if name not in last]
        for group in (middle, last):
            if group:
                still_ours(arbiter)
                for name, (_, version, _) in zip(group, pool.map(lambda name: commit(name, retried), group)):
                    versions[name] = version
    summary = {**summary, "committed_at": datetime.now(timezone.utc).isoformat(),
               "table_versions": {name: versions[name] for name in names}}
    store.write_bytes(store.join(output, RUNS, f"{run_id}.json"), _dump(summary))
    store.write_bytes(store.join(output, RUN_FILE), _dump(summary))
    return summary


def discard_run(output: str, run_id: str) -> list[str]:
    """Delete the Parquet parts of run ``run_id`` that no table holds (a run that failed before it
    committed them); never a file a table's log names."""
    live = {store.join(output, e["path"]) for entries in current_state(output)["tables"].values() for e in entries}
    doomed = [p for p, _ in store.list_files(output)
              if run_of_part(p) == run_id and p not in live and f"/{LOG_FOLDER}/" not in p.replace("\\", "/")]
    store.delete(doomed)
    if store.is_local(output):  # the partition folders the deletion emptied (object stores have none)
        import os

        root = os.path.abspath(output)
        for folder in sorted({os.path.dirname(os.path.abspath(p)) for p in doomed}, key=len, reverse=True):
            while folder.startswith(root + os.sep):
                try:
                    os.rmdir(folder)  # only when empty
                except OSError:
                    break
                folder = os.path.dirname(folder)
    return doomed


def existing_tables(output: str) -> list[str]:
    """The tables of :data:`ORDER` that ``output`` holds."""
    return [name for name in ORDER if has_table(output, name)]


def files_of(manifest: Iterable[dict], name: str) -> list[dict]:
    return sorted((e for e in manifest if e["table"] == name), key=lambda e: e["path"])


# Housekeeping ------------------------------------------------------------------------------------

DEFAULT_RETAIN_HOURS = 168.0  # Delta's default: a week of versions stays readable by time travel


def vacuum(output: str, retain_hours: float = DEFAULT_RETAIN_HOURS, dry_run: bool = False) -> dict[str, list[str]]:
    """Delete, in each table's folder, the files its log no longer names (replaced dates, optimized
    small files) or never named (runs that died before their commit), once older than
    ``retain_hours``; returns {table: paths deleted (or that would be, with ``dry_run``)}.
    Versions older than the retention can no longer be read by time travel once their files are gone."""
    found: dict[str, list[str]] = {}
    for name in ORDER:
        table = open_table(output, name)
        if table is None:
            continue
        found[name] = sorted(table.vacuum(retention_hours=int(retain_hours), dry_run=dry_run,
                                          enforce_retention_duration=False, full=True))
    return found


def optimize(output: str, date: Optional[str] = None) -> dict[str, tuple[int, int]]:
    """Compact each table's small files (of one date, or all) into fewer larger ones, one commit per
    table; the rows do not change. Returns {table: (files before, files after)}."""
    found: dict[str, tuple[int, int]] = {}
    for name in ORDER:
        table = open_table(output, name)
        if table is None:
            continue
        dated = "dt" in table.metadata().partition_columns
        if date and not dated:
            continue
        def count():
            return sum(1 for e in table_files(table) if not date or e.get("dt") == date)

        before = count()
        table.optimize.compact(partition_filters=[("dt", "=", date)] if date else None)
        table.update_incremental()
        found[name] = (before, count())
    return found


# The layout before Delta tables ------------------------------------------------------------------

def migrate(output: str, schemas: dict) -> dict[str, int]:
    """Turn an output of the old layout (newsbeam's own commit log: ``_newsbeam/current.json``
    naming the current files) into Delta tables over the same files, nothing rewritten: one commit
    per table adds the files ``current.json`` names, then ``_newsbeam/`` is deleted. Files it did not
    name (replaced, or of runs that died) are outside every table, for ``newsbeam vacuum``. Safe to
    repeat: a table already migrated is not committed again. ``schemas``: {table: file schema} of
    the tables every output has (a table with no file gets its table from it). Returns {table: files}."""
    import pyarrow.parquet as pq

    state = read_json(store.join(output, OLD_LAYOUT, "current.json"),
                      repair="rerun its dates into a new output instead (newsbeam backfill ... --output NEW)")
    dated = bool(state.get("dates"))
    found: dict[str, int] = {}
    run_id = "migrate"
    names = set(state.get("tables", {})) | {n for n in schemas if n != "dedupe_index" or dated}
    for name in sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        every = state.get("tables", {}).get(name, [])
        if every:
            with store.open_read(store.join(output, every[0]["path"])) as handle:  # a zero-row file has it too
                file_schema = pq.ParquetFile(handle).schema_arrow
        elif name in schemas:
            file_schema = schemas[name]
        else:
            continue
        partition_by = (["dt"] if dated else []) + (["language"] if name == "articles" else [])
        adds = []
        for entry in (e for e in every if e.get("rows")):
            path = store.join(output, entry["path"])
            size = store.size(path)
            rel = entry["path"]
            folders = rel.split("/")[1:-1]
            values = dict(part.split("=", 1) for part in folders if "=" in part)
            if dated and "dt" not in values:
                continue  # an undated file left beside dates: no current state names it as data
            adds.append({"table": name, "path": rel, "rows": entry.get("rows", 0), "size": size,
                         "partition_values": {k: v for k, v in values.items() if k in partition_by}})
        days = sorted({a["partition_values"]["dt"] for a in adds} | {e["dt"] for e in every if e.get("dt")})
        _create(output, name, delta_schema(file_schema, partition_by), partition_by)  # also a table with no rows
        for day in days if dated else [None]:
            commit_table(output, name, f"{run_id}-{day or ALL_DATES}",
                         [a for a in adds if a["partition_values"].get("dt") == day], file_schema, partition_by, day)
        found[name] = len(adds)
    old = store.join(output, OLD_LAYOUT)
    store.delete([p for p, _ in store.list_files(old)])
    if store.is_local(old):  # object stores have no folders; a local one is left empty
        import os

        for folder, _, _ in sorted(os.walk(old), key=lambda item: -len(item[0])):
            os.rmdir(folder)
    return found
