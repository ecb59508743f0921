"""The README's queries across the dates of a lake run, as printed there, in DuckDB and Polars."""
import os
import re

import duckdb
import pytest

from test_cross_day import D1, D2, edited, fresh, original, run, write_jsonl

README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def readme_block(marker: str) -> str:
    text = open(README, encoding="utf-8").read()
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", text, re.S)
    assert found, f"README has no block after <!-- {marker} -->"
    return found.group(1)


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """A lake named 'lake' (the README's paths): day 1 has 3 stories; day 2 copies two of them,
    one exactly and one edited, and has one new story; story 0 runs again on day 2 twice."""
    base = tmp_path_factory.mktemp("readme")
    assert run(write_jsonl(base / "d1", [original(i) for i in range(3)]), base / "lake", D1) == 0
    day2 = [original(0), edited(0, "cut"), edited(1, "typos"), fresh(7)]
    assert run(write_jsonl(base / "d2", day2), base / "lake", D2) == 0
    return base


def test_the_duckdb_queries(lake_dir, monkeypatch):
    monkeypatch.chdir(lake_dir)
    per_day_sql, several_sql = [q for q in readme_block("lake-queries:duckdb").split(";") if q.strip()]
    con = duckdb.connect()
    per_day = [(str(dt), lang, n) for dt, lang, n in con.execute(per_day_sql).fetchall()]
    assert per_day == [(D1, "en", 3), (D2, "en", 1)]
    several = con.execute(several_sql).fetchall()
    # story 0: two copies on day 2; story 1: one
    assert [(str(first), days, copies) for _, _, first, days, copies in several] == [(D1, 1, 2), (D1, 1, 1)]


def test_the_polars_queries(lake_dir, monkeypatch):
    monkeypatch.chdir(lake_dir)
    scope = {}
    exec(readme_block("lake-queries:polars"), scope)  # noqa: S102 (the README's own code)
    assert [(str(d), n) for d, n in scope["per_day"].iter_rows()] == [(D1, 3), (D2, 1)]
    assert [(days, copies) for _, _, days, copies in scope["several_days"].iter_rows()] == [(1, 2), (1, 1)]
