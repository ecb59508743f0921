"""The README's queries across the dates of a lake run, as printed there, in DuckDB and Polars."""
import os
import re

import duckdb
import pytest

from support import PROJECT_ROOT, SEEDS, TEST_RUNNER
from support.runs import run_dated, write_pages
from support.stories import D1, D2, edited, fresh, original

# Each query runs on a lake made by two dated runs of the whole pipeline.
pytestmark = pytest.mark.slow

README = os.path.join(PROJECT_ROOT, "README.md")
DOCS = os.path.join(PROJECT_ROOT, "docs")


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


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """A lake named 'lake' (the README's paths): day 1 has 3 stories; day 2 copies two of them,
    one exactly and one edited, and has one new story; story 0 runs again on day 2 twice."""
    base = tmp_path_factory.mktemp("readme")
    assert run_dated(write_pages(base / "d1", [original(i) for i in range(3)]), base / "lake", D1) == 0
    day2 = [original(0), edited(0, "cut"), edited(1, "typos"), fresh(7)]
    assert run_dated(write_pages(base / "d2", day2), base / "lake", D2) == 0
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


@pytest.fixture(scope="module")
def analyst_lake(tmp_path_factory):
    """A lake named 'lake' with entities: the user's sample on 2025-06-01, and on 2025-06-02 two of
    its pages again (copies of day-1 articles) beside a page outside the week's first day."""
    import shutil

    from pipelines import articles

    base = tmp_path_factory.mktemp("analyst")
    day2 = base / "d2"
    day2.mkdir()
    for name in ("rotterdam-port-strike.txt", "greve-sncf-controleurs.txt"):
        shutil.copy(os.path.join(SEEDS, name), day2 / name)
    for date, inputs in (("2025-06-01", SEEDS), ("2025-06-02", str(day2))):
        assert articles.main(["--input", inputs, "--output", str(base / "lake"), "--date", date,
                              f"--runner={TEST_RUNNER}"]) == 0
    return base


def _expected(base):
    """The three answers computed with pyarrow and plain Python."""
    import glob
    from collections import Counter, defaultdict

    import pyarrow.parquet as pq

    def rows(table):
        out = []
        for path in glob.glob(str(base / "lake" / table / "**" / "*.parquet"), recursive=True):
            dt = re.search(r"dt=([\d-]+)", path).group(1)
            out += [dict(r, dt=dt) for r in pq.read_table(path).to_pylist()]
        return out

    ents, arts, dups = rows("entities"), rows("articles"), rows("duplicates")
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


def test_the_analyst_queries_in_duckdb_polars_and_pandas(analyst_lake, monkeypatch):
    people, sncf, outlets = _expected(analyst_lake)
    assert people and sncf and max(n for n, _ in outlets.values()) >= 2  # the lake has something to find
    monkeypatch.chdir(analyst_lake)
    con = duckdb.connect()
    q_people, q_sncf, q_outlets = [q for q in readme_block("analyst-queries:duckdb").split(";") if q.strip()]
    got = {}
    for lang, person, mentions, _ in con.execute(q_people).fetchall():
        got.setdefault(lang, []).append((person, mentions))
    assert got == people
    assert {title for _, title, _, _ in con.execute(q_sncf).fetchall()} == sncf
    top = con.execute(q_outlets).fetchall()
    assert [(n, p) for _, _, n, p in top] == sorted(outlets.values(), reverse=True)[:20]
    assert all(outlets[aid] == (n, p) for aid, _, n, p in top)
    for marker in ("analyst-queries:polars", "analyst-queries:pandas"):
        scope = {}
        exec(readme_block(marker), scope)  # noqa: S102 (the README's own code)
        if marker.endswith("polars"):
            rows_people = scope["people"].select("language", "text", "mentions").rows()
            rows_outlets = scope["outlets"].select("outlets", "pages").rows()
            titles = set(scope["sncf"]["title"].to_list())
        else:
            rows_people = list(scope["people"][["language", "text", "mentions"]].itertuples(index=False, name=None))
            rows_outlets = list(scope["outlets"][["outlets", "pages"]].itertuples(index=False, name=None))
            titles = set(scope["sncf"]["title"])
        by_lang = {}
        for lang, person, mentions in rows_people:
            by_lang.setdefault(str(lang), []).append((person, mentions))
        assert by_lang == people, marker
        assert titles == sncf, marker
        assert [tuple(r) for r in rows_outlets] == [(n, p) for _, _, n, p in top], marker
