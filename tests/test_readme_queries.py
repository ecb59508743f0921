"""The code blocks of README.md and docs/*.md that read an output, run as printed on lakes that
newsbeam built, and their answers checked against what the tables hold.

What the tables hold is worked out here without any of the readers the blocks use: each table's
``_delta_log/`` is replayed (its add and remove actions, up to a version) and the Parquet files it
names are read with pyarrow. So a block that read a replaced date's files, or the wrong version,
would give another answer than this.

Blocks run the way an analyst runs them: DuckDB's and Polars' in this process; pandas' in a fresh
Python process, which must also exit cleanly (deltalake has aborted the interpreter at exit after
reading a table, see benchmarks/servers/object_stores.py); Spark's in a fresh process too, since
the JVM resolves relative paths against the folder it started in.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict

import duckdb
import pyarrow.parquet as pq
import pytest

from support import PROJECT_ROOT, SEEDS, TEST_RUNNER
from support.runs import run_dated, write_pages
from support.stories import D1, D2, edited, fresh, original

# Each query runs on lakes made by several runs of the whole pipeline.
pytestmark = pytest.mark.slow

README = os.path.join(PROJECT_ROOT, "README.md")
DOCS = os.path.join(PROJECT_ROOT, "docs")
MARKER = re.compile(r"<!-- ([a-z0-9:-]+) -->\n```")

# Every marked block and the test that runs it (test_every_marked_block_is_run checks the list).
RUN_HERE = {
    "readme:out-articles": "test_the_readme_query_of_the_seed_output",
    "readme:duckdb-setup": "test_the_readme_duckdb_polars_and_pandas_blocks",
    "readme:duckdb": "test_the_readme_duckdb_polars_and_pandas_blocks",
    "readme:polars-pandas": "test_the_readme_duckdb_polars_and_pandas_blocks",
    "readme:time-travel": "test_the_readme_time_travel",
    "lake-queries:duckdb": "test_the_lake_queries_in_duckdb",
    "lake-queries:polars": "test_the_lake_queries_in_polars",
    "analyst-queries:duckdb": "test_the_analyst_queries_in_duckdb_polars_and_pandas",
    "analyst-queries:polars": "test_the_analyst_queries_in_duckdb_polars_and_pandas",
    "analyst-queries:pandas": "test_the_analyst_queries_in_duckdb_polars_and_pandas",
    "time-travel:duckdb": "test_time_travel_in_duckdb",
    "time-travel:history": "test_time_travel_by_the_history_in_pandas",
    "time-travel:pinned": "test_the_versions_of_run_json_pinned",
    "spark-session": "test_the_spark_blocks",
    "time-travel:spark": "test_the_spark_blocks",
    "analyst-queries:spark": "test_the_spark_blocks",
}


def readme_pages() -> list:
    """README.md and every page of docs/: the blocks the tests run may live in any of them."""
    pages = sorted(os.path.join(DOCS, name) for name in os.listdir(DOCS) if name.endswith(".md"))
    return [README] + pages


def readme_block(marker: str) -> str:
    """The code block right after `<!-- marker -->`, which must be in exactly one place across the
    README and docs/*.md (two copies of a block would leave one of them untested)."""
    comment = f"<!-- {marker} -->"
    places = []
    for page in readme_pages():
        text = open(page, encoding="utf-8").read()
        for at in re.finditer(re.escape(comment), text):
            places.append((os.path.relpath(page, PROJECT_ROOT), text[at.start():]))
    assert len(places) == 1, (f"{comment} must be in exactly one of README.md and docs/*.md, "
                              f"found {len(places)}: {[page for page, _ in places]}")
    page, text = places[0]
    found = re.match(rf"{re.escape(comment)}\n```\w+\n(.*?)```", text, re.S)
    assert found, f"{page} has no code block right after {comment}"
    return found.group(1)


def statements(marker: str) -> list:
    return [q for q in readme_block(marker).split(";") if q.strip()]


# What the tables hold, read without the readers the blocks use -----------------------------------

def delta_files(table: str, version=None) -> dict:
    """{file path below the table: its partition values} of a Delta table at ``version`` (latest:
    None), by replaying its log."""
    log = os.path.join(table, "_delta_log")
    assert not glob.glob(os.path.join(log, "*.checkpoint*.parquet")), "replaying assumes a log without checkpoints"
    live = {}
    for path in sorted(glob.glob(os.path.join(log, "*.json"))):
        if version is not None and int(os.path.basename(path).split(".")[0]) > version:
            break
        for line in open(path, encoding="utf-8"):
            action = json.loads(line)
            if "add" in action:
                live[action["add"]["path"]] = action["add"]["partitionValues"]
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    return live


def table_rows(table, version=None) -> list:
    """Every row of a Delta table at ``version``, with its partition columns (as strings)."""
    rows = []
    for rel, partition in delta_files(str(table), version).items():
        rows += [dict(row, **partition) for row in pq.read_table(os.path.join(str(table), rel)).to_pylist()]
    return rows


def count_by(rows, *keys) -> list:
    return sorted(Counter(tuple(r[k] for k in keys) for r in rows).items())


def run_python(code: str, cwd, names: list, timeout: int = 600) -> dict:
    """Run ``code`` in a fresh Python process in ``cwd``; the variables ``names`` as lists of rows,
    each a dict (a Spark, Polars or pandas frame; dates as ISO strings), or as they are. The process
    must exit 0."""
    epilogue = f"""
import json as _json
def _rows(value):
    if hasattr(value, "rdd"):  # Spark
        return [row.asDict() for row in value.collect()]
    if hasattr(value, "iter_rows"):  # Polars
        return list(value.iter_rows(named=True))
    if hasattr(value, "itertuples"):  # pandas
        return value.to_dict("records")
    return value
print("@@result@@" + _json.dumps({{name: _rows(globals()[name]) for name in {names!r}}}, default=str))
if "spark" in globals():
    spark.stop()
"""
    done = subprocess.run([sys.executable, "-c", code + epilogue], cwd=str(cwd), capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.rsplit("@@result@@", 1)[1])


def duckdb_connection():
    """The README's own DuckDB set-up block, run as printed: its connection."""
    scope = {}
    exec(readme_block("readme:duckdb-setup"), scope)  # noqa: S102 (the README's own code)
    return scope["con"]


# The lakes -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """A lake named 'lake' (the README's paths): day 1 has 3 stories; day 2 copies two of them
    (story 0 twice: exactly and edited; story 1 once) and has one new story; then day 2 is rerun
    with a corrected feed that adds a new story and a copy of story 2, so that every table the
    time-travel blocks read differs before and after the rerun."""
    base = tmp_path_factory.mktemp("readme")
    assert run_dated(write_pages(base / "d1", [original(i) for i in range(3)]), base / "lake", D1) == 0
    day2 = [original(0), edited(0, "cut"), edited(1, "typos"), fresh(7)]
    assert run_dated(write_pages(base / "d2", day2), base / "lake", D2) == 0
    assert run_dated(write_pages(base / "d2-corrected", day2 + [fresh(8), edited(2, "added")]), base / "lake", D2) == 0
    return base


@pytest.fixture(scope="module")
def analyst_lake(tmp_path_factory):
    """A lake named 'lake' with entities: the seed pages on 2025-06-01, and on 2025-06-02 two of
    them again (copies of day-1 articles); beside it 'out', the seed pages as `make run` writes them."""
    from pipelines import articles

    base = tmp_path_factory.mktemp("analyst")
    day2 = base / "d2"
    day2.mkdir()
    for name in ("rotterdam-port-strike.txt", "greve-sncf-controleurs.txt"):
        shutil.copy(os.path.join(SEEDS, name), day2 / name)
    for date, inputs in (("2025-06-01", SEEDS), ("2025-06-02", str(day2))):
        assert articles.main(["--input", inputs, "--output", str(base / "lake"), "--date", date,
                              f"--runner={TEST_RUNNER}"]) == 0
    assert articles.main(["--input", SEEDS, "--output", str(base / "out"), f"--runner={TEST_RUNNER}"]) == 0
    return base


def test_every_marked_block_is_run():
    """Each marked block of the README and docs/ is one this module runs, and none of them uses
    newsbeam's own code (analysts reading a lake do not have it)."""
    found = set()
    for page in readme_pages():
        found |= set(MARKER.findall(open(page, encoding="utf-8").read()))
    assert found == set(RUN_HERE), f"not run here: {sorted(found - set(RUN_HERE))}; gone: {sorted(set(RUN_HERE) - found)}"
    for marker in RUN_HERE:
        assert not re.search(r"^\s*(from|import)\s+(transforms|pipelines|benchmarks)\b", readme_block(marker), re.M), marker


# README.md -----------------------------------------------------------------------------------------

def test_the_readme_duckdb_polars_and_pandas_blocks(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    now = table_rows(lake / "articles")
    assert count_by(now, "dt", "language") == [((D1, "en"), 3), ((D2, "en"), 2)]  # the rerun's day 2
    monkeypatch.chdir(lake_dir)
    con = duckdb_connection()
    [query] = statements("readme:duckdb")
    got = [((str(dt), lang), n) for dt, lang, n in con.execute(query).fetchall()]
    assert got == count_by(now, "dt", "language")
    # What the README warns of: a glob over the Parquet files also counts the day 2 the rerun replaced
    globbed = con.execute("SELECT dt, count(*) FROM read_parquet('lake/articles/**/*.parquet', hive_partitioning = true) "
                          "GROUP BY dt ORDER BY dt").fetchall()
    assert [(str(dt), n) for dt, n in globbed] == [(D1, 3), (D2, 1 + 2)]

    result = run_python(readme_block("readme:polars-pandas"), lake_dir, ["per_day", "duplicates"])
    assert [((r["dt"], r["language"]), r["len"]) for r in result["per_day"]] == count_by(now, "dt", "language")
    assert len(result["duplicates"]) == len(table_rows(lake / "duplicates")) == 4


def test_the_readme_time_travel(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    monkeypatch.chdir(lake_dir)
    scope = {}
    exec(readme_block("readme:time-travel"), scope)  # noqa: S102 (the README's own code)
    rerun = json.load(open(lake / "run.json"))  # the rerun of day 2 is the last run
    assert scope["rerun"]["run_id"] == rerun["run_id"]
    assert scope["before"] == {table: version - 1 for table, version in rerun["table_versions"].items()}
    # the README's inline examples use version 2 of articles: this lake's, before the rerun
    assert scope["before"]["articles"] == 2
    before = table_rows(lake / "articles", scope["before"]["articles"])
    assert count_by(before, "dt", "language") == [((D1, "en"), 3), ((D2, "en"), 1)]
    got = [dict(r, dt=str(r["dt"])) for r in scope["articles_before"].iter_rows(named=True)]
    assert count_by(got, "dt", "language") == count_by(before, "dt", "language")
    assert sorted(r["article_id"] for r in got) == sorted(r["article_id"] for r in before)


def test_the_readme_query_of_the_seed_output(analyst_lake, monkeypatch):
    rows = table_rows(analyst_lake / "out" / "articles")
    expected = sorted(((r["language"], r["title"], r["copies"], r["entity_count"]) for r in rows),
                      key=lambda r: (-r[2], r[1]))
    assert len(expected) == json.load(open(analyst_lake / "out" / "run.json"))["articles_written"] == 6
    monkeypatch.chdir(analyst_lake)
    [query] = statements("readme:out-articles")
    assert duckdb_connection().execute(query).fetchall() == expected


# docs/lake.md: queries across dates ---------------------------------------------------------------

def several_days(lake):
    """Stories that ran on several days: (first day, later days, later copies) per day-1 article."""
    articles = {(r["article_id"], r["dt"]) for r in table_rows(lake / "articles")}
    later = defaultdict(list)
    for d in table_rows(lake / "duplicates"):
        if d["duplicate_of_dt"] and (d["duplicate_of"], d["duplicate_of_dt"]) in articles:
            later[(d["duplicate_of"], d["duplicate_of_dt"])].append(d["dt"])
    return sorted((first, len(set(days)), len(days)) for (_, first), days in later.items())


def test_the_lake_queries_in_duckdb(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    monkeypatch.chdir(lake_dir)
    con = duckdb_connection()
    per_day_sql, several_sql = statements("lake-queries:duckdb")
    per_day = [((str(dt), lang), n) for dt, lang, n in con.execute(per_day_sql).fetchall()]
    assert per_day == count_by(table_rows(lake / "articles"), "dt", "language")
    several = sorted((str(first), days, copies) for _, _, first, days, copies in con.execute(several_sql).fetchall())
    # story 0: two copies on day 2; stories 1 and 2: one each (story 2's came with the rerun)
    assert several == several_days(lake) == [(D1, 1, 1), (D1, 1, 1), (D1, 1, 2)]


def test_the_lake_queries_in_polars(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    monkeypatch.chdir(lake_dir)
    scope = {}
    exec(readme_block("lake-queries:polars"), scope)  # noqa: S102 (the page's own code)
    per_day = sorted(Counter(r["dt"] for r in table_rows(lake / "articles")).items())
    assert [(str(d), n) for d, n in scope["per_day"].iter_rows()] == per_day == [(D1, 3), (D2, 2)]
    several = sorted((days, copies) for _, _, days, copies in scope["several_days"].iter_rows())
    assert several == [(days, copies) for _, days, copies in several_days(lake)]


# docs/lake.md: time travel -------------------------------------------------------------------------

def test_time_travel_in_duckdb(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    monkeypatch.chdir(lake_dir)
    con = duckdb_connection()
    runs_sql, set_sql, before_sql = statements("time-travel:duckdb")
    runs = [json.load(open(p)) for p in glob.glob(str(lake / "_runs" / "*.json"))]
    day2 = sorted((r for r in runs if r.get("date") == D2), key=lambda r: r["committed_at"], reverse=True)
    assert len(day2) == 2
    assert [(run_id, version) for run_id, _, version in con.execute(runs_sql).fetchall()] == \
        [(r["run_id"], r["table_versions"]["articles"]) for r in day2]
    con.execute(set_sql)
    before = table_rows(lake / "articles", day2[0]["table_versions"]["articles"] - 1)
    got = [(str(dt), n) for dt, n in con.execute(before_sql).fetchall()]
    assert got == sorted(Counter(r["dt"] for r in before).items()) == [(D1, 3), (D2, 1)]


def test_time_travel_by_the_history_in_pandas(lake_dir):
    lake = lake_dir / "lake"
    result = run_python(readme_block("time-travel:history"), lake_dir, ["rerun", "duplicates_before"])
    rerun = json.load(open(lake / "run.json"))
    assert result["rerun"]["newsbeam.run_id"] == rerun["run_id"]
    assert result["rerun"]["version"] == rerun["table_versions"]["duplicates"]
    before = table_rows(lake / "duplicates", rerun["table_versions"]["duplicates"] - 1)
    now = table_rows(lake / "duplicates")
    assert len(before) == 3 and len(now) == 4  # the rerun found one more copy
    assert sorted((r["article_id"], r["dt"]) for r in result["duplicates_before"]) == \
        sorted((r["article_id"], r["dt"]) for r in before)


def test_the_versions_of_run_json_pinned(lake_dir, monkeypatch):
    lake = lake_dir / "lake"
    monkeypatch.chdir(lake_dir)
    scope = {}
    exec(readme_block("time-travel:pinned"), scope)  # noqa: S102 (the page's own code)
    versions = json.load(open(lake / "run.json"))["table_versions"]
    assert scope["versions"] == versions
    titles = {r["article_id"]: r["title"] for r in table_rows(lake / "articles", versions["articles"])}
    copies = Counter(titles[d["duplicate_of"]] for d in table_rows(lake / "duplicates", versions["duplicates"]))
    assert sorted(scope["copies"].iter_rows()) == sorted(copies.items())
    assert sum(copies.values()) == 4


# docs/lake.md: queries to paste --------------------------------------------------------------------

def _expected(base):
    """The three answers, computed from the tables' rows with plain Python."""
    lake = base / "lake"
    ents, arts, dups = (table_rows(lake / name) for name in ("entities", "articles", "duplicates"))
    mentions = defaultdict(Counter)
    for e in ents:
        if e["label"] in ("PERSON", "PER") and "2025-06-01" <= e["dt"] <= "2025-06-07":
            mentions[e["language"]][e["text"]] += e["mentions"]
    people = {lang: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:10] for lang, c in mentions.items()}
    sncf = {a["title"] for a in arts if any(e["article_id"] == a["article_id"] and e["label"] == "ORG"
                                            and "sncf" in e["text"].lower() for e in ents)}
    outlets = defaultdict(set)
    pages = Counter()
    for r in arts + [dict(d, article_id=d["duplicate_of"]) for d in dups]:
        outlets[r["article_id"]].add(r["source"] or r["url"] or r["source_file"])
        pages[r["article_id"]] += 1
    return people, sncf, {k: (len(v), pages[k]) for k, v in outlets.items()}


def _check_analyst_answers(expected, marker, people_rows, sncf_titles, outlet_rows, top):
    people, sncf, _ = expected
    by_lang = {}
    for lang, person, mentions in people_rows:
        by_lang.setdefault(str(lang), []).append((person, mentions))
    assert by_lang == people, marker
    assert set(sncf_titles) == sncf, marker
    assert [tuple(r) for r in outlet_rows] == [(n, p) for _, _, n, p in top], marker


def test_the_analyst_queries_in_duckdb_polars_and_pandas(analyst_lake, monkeypatch):
    expected = _expected(analyst_lake)
    people, sncf, outlets = expected
    assert people and sncf and max(n for n, _ in outlets.values()) >= 2  # the lake has something to find
    monkeypatch.chdir(analyst_lake)
    con = duckdb_connection()
    q_people, q_sncf, q_outlets = statements("analyst-queries:duckdb")
    got = {}
    for lang, person, mentions, _ in con.execute(q_people).fetchall():
        got.setdefault(lang, []).append((person, mentions))
    assert got == people
    assert {title for _, title, _, _ in con.execute(q_sncf).fetchall()} == sncf
    top = con.execute(q_outlets).fetchall()
    assert [(n, p) for _, _, n, p in top] == sorted(outlets.values(), reverse=True)[:20]
    assert all(outlets[aid] == (n, p) for aid, _, n, p in top)

    scope = {}
    exec(readme_block("analyst-queries:polars"), scope)  # noqa: S102 (the page's own code)
    _check_analyst_answers(expected, "polars", scope["people"].select("language", "text", "mentions").rows(),
                           scope["sncf"]["title"].to_list(), scope["outlets"].select("outlets", "pages").rows(), top)

    result = run_python(readme_block("analyst-queries:pandas"), analyst_lake, ["people", "sncf", "outlets"])
    _check_analyst_answers(expected, "pandas", [(r["language"], r["text"], r["mentions"]) for r in result["people"]],
                           [r["title"] for r in result["sncf"]],
                           [(r["outlets"], r["pages"]) for r in result["outlets"]], top)


# Spark ---------------------------------------------------------------------------------------------

def spark_missing() -> str:
    """Why the Spark blocks cannot run here, or ''."""
    try:
        import delta  # noqa: F401  (delta-spark)
        import pyspark  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed (pip install -e '.[dev]' brings pyspark 3.5.9 and delta-spark 3.3.2)"
    if not shutil.which("java"):
        return "Spark needs Java (17) on the PATH"
    return ""


@pytest.mark.skipif(bool(spark_missing()), reason=spark_missing() or "-")
def test_the_spark_blocks(lake_dir, analyst_lake):
    """The Spark session of docs/lake.md (its Delta jars fetched from Maven Central the first time,
    then cached in ~/.ivy2), with the time-travel block on the rerun lake and the analyst queries
    on the lake with entities."""
    session = readme_block("spark-session")
    lake = lake_dir / "lake"
    result = run_python(session + readme_block("time-travel:spark"), lake_dir, ["now", "before"])
    now, before = ([(r["dt"], r["count"]) for r in result[name]] for name in ("now", "before"))
    assert now == sorted(Counter(r["dt"] for r in table_rows(lake / "articles")).items()) == [(D1, 3), (D2, 2)]
    assert before == sorted(Counter(r["dt"] for r in table_rows(lake / "articles", 2)).items()) == [(D1, 3), (D2, 1)]

    expected = _expected(analyst_lake)
    _, _, outlets = expected
    result = run_python(session + readme_block("analyst-queries:spark"), analyst_lake, ["people", "sncf", "outlets"])
    top = [(r["article_id"], r["title"], r["outlets"], r["pages"]) for r in result["outlets"]]
    assert [(n, p) for _, _, n, p in top] == sorted(outlets.values(), reverse=True)[:20]
    assert all(outlets[aid] == (n, p) for aid, _, n, p in top)
    _check_analyst_answers(expected, "spark", [(r["language"], r["person"], r["mentions"]) for r in result["people"]],
                           [r["title"] for r in result["sncf"]], [(n, p) for _, _, n, p in top], top)
