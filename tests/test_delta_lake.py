"""The lake as Delta Lake tables, end to end, as an analyst reads it: on a local folder, on an S3
server (moto) and on a GCS emulator, runs of two dates, a rerun of the first and a run of a third
killed mid-write; after each step DuckDB's ``delta_scan`` and Polars' ``read_delta`` see exactly
the rows the committed runs wrote (no glob, no newsbeam code on the reader's side)."""
import io
import json
import os
import signal
import subprocess
import time

import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.hostile import article
from support import NEWSBEAM
from support.lake import delta_rows
from support.runs import snapshot, write_articles, write_pages

pytestmark = pytest.mark.slow

TABLES = ("articles", "duplicates", "rejected", "entities", "dedupe_index")
FLAGS = ["--runner=FnApiRunner", "--ner-model", "en="]


class Local:
    """A lake in a local folder."""

    beam_args: list = []
    env: dict = {}
    delta_options: dict = {}

    def __init__(self, root):
        self.root = root

    def lake(self, name):
        return str(self.root / name)

    def files(self, lake):
        return snapshot(lake)

    def duckdb(self, con):
        return con


class Remote:
    """A lake on a loopback object store (an S3Store or GcsStore of benchmarks/servers)."""

    def __init__(self, server, bucket):
        self.server, self.bucket = server, bucket
        self.beam_args, self.env, self.delta_options = server.beam_args, server.env, server.delta_options
        server.make_bucket(bucket)

    def lake(self, name):
        return self.server.url(self.bucket, name)

    def files(self, lake):
        prefix = lake.split(f"{self.bucket}/", 1)[1].rstrip("/") + "/"
        return {key[len(prefix):]: self.server.read(self.bucket, key) for key in self.server.list_keys(self.bucket, prefix)}

    def duckdb(self, con):
        """DuckDB reaching the S3 server: the httpfs extension from its PyPI package, and a secret."""
        from transforms.io.lake import duckdb_extension

        con.execute(f"LOAD '{duckdb_extension('httpfs')}'")
        options = self.delta_options
        con.execute(f"""CREATE SECRET lake (TYPE s3, KEY_ID '{options["AWS_ACCESS_KEY_ID"]}',
                        SECRET '{options["AWS_SECRET_ACCESS_KEY"]}', REGION '{options["AWS_REGION"]}',
                        ENDPOINT '{options["AWS_ENDPOINT_URL"].split("://", 1)[1]}', URL_STYLE 'path',
                        USE_SSL false)""")
        return con


@pytest.fixture(params=["local", "s3", "gcs"])
def where(request, tmp_path):
    if request.param == "local":
        yield Local(tmp_path)
        return
    from benchmarks.servers.object_stores import gcs_server, s3_server

    with (s3_server() if request.param == "s3" else gcs_server()) as server:
        yield Remote(server, "news")


def newsbeam(where, *args, **kwargs):
    return subprocess.run([NEWSBEAM, "run", *map(str, args), *FLAGS, *where.beam_args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **where.env}, **kwargs)


def committed_rows(where, lake, runs):
    """What the runs committed, read from their own Parquet files (not through Delta): {table:
    sorted rows}, where ``runs`` is {date: run id} of the runs whose dates the lake holds now."""
    found = {table: [] for table in TABLES}
    for rel, data in where.files(lake).items():
        table, _, rest = rel.partition("/")
        if table not in found or not rel.endswith(".parquet"):
            continue
        day = rest.split("dt=", 1)[1][:10]
        if f"part-{runs.get(day)}-" in rel:
            found[table] += [_key(table, row, day) for row in pq.read_table(io.BytesIO(data)).to_pylist()]
    return {table: sorted(rows) for table, rows in found.items()}


def _key(table, row, day):
    """What identifies a row of a table, with its date."""
    column = {"articles": "article_id", "duplicates": "article_id", "entities": "article_id",
              "rejected": "payload", "dedupe_index": "record_key"}[table]
    return (day, str(row[column]))


def delta_view(where, lake):
    """{table: sorted rows} as DuckDB's delta_scan sees them, and as Polars' read_delta does."""
    import polars as pl

    from transforms.io.lake import duckdb_with_delta

    polars = {table: sorted(_key(table, row, str(row["dt"])) for row in
                            pl.read_delta(f"{lake}/{table}", storage_options=where.delta_options or None).to_dicts())
              for table in TABLES}
    if isinstance(where, Remote) and where.server.scheme == "gs":
        # DuckDB on gs:// (HMAC keys, Google's S3-compatible API) is not tried against the emulator
        return polars, polars
    con = where.duckdb(duckdb_with_delta())
    duck = {}
    for table in TABLES:
        result = con.execute(f"SELECT * FROM delta_scan('{lake}/{table}')")
        names = [d[0] for d in result.description]
        duck[table] = sorted(_key(table, dict(zip(names, row)), str(dict(zip(names, row))["dt"]))
                             for row in result.fetchall())
    return duck, polars


def _day(folder, prefix, n, extra=()):
    write_articles(folder, n, prefix)
    if extra:
        write_pages(folder / "feed", extra)
    return folder


def test_two_dates_a_rerun_and_a_killed_run_read_exactly_as_committed(where, tmp_path):
    lake = where.lake("lake")
    bad = [{"id": "x", "source": "Wire"}]  # no text: rejected
    d1 = _day(tmp_path / "d1", "first", 3, bad)
    d2 = _day(tmp_path / "d2", "second", 2)
    d1b = _day(tmp_path / "d1b", "again", 4)
    d3 = _day(tmp_path / "d3", "third", 40)
    runs = {}
    for day, folder in (("2025-03-01", d1), ("2025-03-02", d2), ("2025-03-01", d1b)):
        proc = newsbeam(where, "--input", folder, "--output", lake, "--date", day)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[day] = json.loads(where.files(lake)["run.json"])["run_id"]
        want = committed_rows(where, lake, runs)
        duck, polars = delta_view(where, lake)
        assert duck == want and polars == want, day
    assert len([r for r in want["articles"] if r[0] == "2025-03-01"]) == 4  # the rerun replaced the date
    assert len([r for r in want["rejected"] if r[0] == "2025-03-01"]) == 0

    # A third date, killed as soon as its first Parquet part is on the store.
    before = where.files(lake)
    proc = subprocess.Popen([NEWSBEAM, "run", "--input", str(d3), "--output", lake, "--date", "2025-03-03",
                             "--rows-per-file", "1", *FLAGS, *where.beam_args], env={**os.environ, **where.env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if any("dt=2025-03-03" in rel for rel in set(where.files(lake)) - set(before)):
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed mid-write"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    after = where.files(lake)
    assert {rel: after[rel] for rel in before} == before  # nothing committed was touched
    assert all(rel.endswith(".parquet") for rel in set(after) - set(before))  # only the killed run's parts
    duck, polars = delta_view(where, lake)
    assert duck == want and polars == want  # readers see exactly the committed runs


def test_a_foreign_folder_is_refused_and_left_byte_for_byte(tmp_path):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "run.json").write_text('{"owner": "someone else"}')
    (out / "prices.csv").write_text("day,price\n2025-01-01,3\n")
    write_pages(tmp_path / "in", [{"id": "1", "source": "Wire", "text": "Harbour\n\n" + article("one")}])
    import pyarrow as pa

    pq.write_table(pa.table({"a": [1, 2]}), out / "part-00000-of-00002.parquet")
    before = snapshot(out)
    for command in (["run", "--input", str(tmp_path / "in"), "--output", str(out), *FLAGS],
                    ["vacuum", str(out), "--retain-hours", "0"], ["optimize", str(out)], ["files", str(out)],
                    ["report", str(out), "--html", str(tmp_path / "r.html")]):
        proc = subprocess.run([NEWSBEAM, *command], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 2, (command, proc.stderr[-2000:])
        assert "not a newsbeam lake" in proc.stderr and "newsbeam.articles" in proc.stderr, proc.stderr[-2000:]
    assert snapshot(out) == before


def test_concurrent_runs_of_other_dates_land_and_of_the_same_date_one_fails_cleanly(tmp_path):
    from transforms.io import lake as lake_tables

    lake = tmp_path / "lake"
    for name, n in (("a", 30), ("b", 30), ("c", 2), ("a2", 30), ("b2", 30)):
        write_articles(tmp_path / name, n, name)
    assert newsbeam(Local(tmp_path), "--input", tmp_path / "c", "--output", lake, "--date", "2025-03-01").returncode == 0

    def start(folder, day):
        return subprocess.Popen([NEWSBEAM, "run", "--input", str(folder), "--output", str(lake), "--date", day,
                                 *FLAGS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    both = [start(tmp_path / "a", "2025-03-02"), start(tmp_path / "b", "2025-03-03")]
    assert [p.wait(timeout=600) for p in both] == [0, 0], [p.stderr.read()[-2000:] for p in both]
    state = lake_tables.current_state(str(lake))
    assert state["dates"] == ["2025-03-01", "2025-03-02", "2025-03-03"]

    # The same date twice at once: both read the date's run counter before either commits.
    same = [start(tmp_path / "a2", "2025-03-04"), start(tmp_path / "b2", "2025-03-04")]
    codes = [p.wait(timeout=600) for p in same]
    errors = [p.stderr.read() for p in same]
    assert sorted(codes) == [0, 3], errors
    loser = codes.index(3)
    assert "another run committed 2025-03-04" in errors[loser] and "Traceback" not in errors[loser].split(
        "newsbeam: error:")[-1]
    winner_input = ["a2", "b2"][1 - loser]
    held = {e["path"] for t in lake_tables.current_state(str(lake))["tables"].values() for e in t
            if e.get("dt") == "2025-03-04"}
    rows = [r for r in delta_rows(lake, "articles") if str(r["dt"]) == "2025-03-04"]
    assert len(rows) == 30 and all(f"/{winner_input}-" in r["source_file"] for r in rows)
    assert held and all(lake_tables.run_of_part(p) == lake_tables.run_of_part(next(iter(held))) for p in held)


def test_an_output_of_the_old_layout_is_refused_then_migrated(tmp_path):
    """An output written before the Delta tables (its own commit log, _newsbeam/current.json) is
    refused with the command that converts it; newsbeam migrate makes Delta tables of the files it
    named, nothing rewritten, and the next run goes on."""
    from transforms.io import lake as lake_tables

    out = tmp_path / "lake"
    write_articles(tmp_path / "d1", 3, "first")
    write_articles(tmp_path / "d2", 2, "second")
    where = Local(tmp_path)
    for day, folder in (("2025-03-01", tmp_path / "d1"), ("2025-03-02", tmp_path / "d2")):
        assert newsbeam(where, "--input", folder, "--output", out, "--date", day).returncode == 0
    want = {t: sorted(map(repr, delta_rows(out, t))) for t in TABLES}
    # Make it the old layout, as newsbeam 0.1 wrote it: current.json naming the files, no Delta logs.
    state = lake_tables.current_state(str(out))
    old = {"format": 1, "dates": state["dates"], "tables": state["tables"], "runs": [], "latest_run": None}
    for table in TABLES:
        for log in (out / table / "_delta_log").iterdir():
            log.unlink()
        (out / table / "_delta_log").rmdir()
    (out / "_newsbeam").mkdir()
    (out / "_newsbeam" / "current.json").write_text(json.dumps(old))
    (out / "articles" / "dt=2025-03-01" / "part-died-00000-of-00001.parquet").write_bytes(b"a killed run's part")
    proc = newsbeam(where, "--input", tmp_path / "d2", "--output", out, "--date", "2025-03-03")
    assert proc.returncode == 2 and f"convert it first with: newsbeam migrate {out}" in proc.stderr
    migrate = subprocess.run([NEWSBEAM, "migrate", str(out)], capture_output=True, text=True, timeout=600)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert not (out / "_newsbeam").exists()
    got = {t: sorted(map(repr, ({k: v for k, v in r.items()} for r in delta_rows(out, t)))) for t in TABLES}
    assert got == want
    assert newsbeam(where, "--input", tmp_path / "d1", "--output", out, "--date", "2025-03-03").returncode == 0
    assert lake_tables.current_state(str(out))["dates"] == ["2025-03-01", "2025-03-02", "2025-03-03"]
