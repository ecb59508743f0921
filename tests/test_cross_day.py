"""Copies across the dates of a lake: a story re-published on a later day is a duplicate of the
article already in the lake, which stays as it was."""
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.textgen import story
from support.lake import delta_rows
from support.runs import run_dated, snapshot, write_pages
from support.stories import D1, D2, D3, edited, fresh, original, page


def rows(lake, table, date):
    """The rows of one date of a table as a Delta reader sees them (without ``dt``), in a stable order."""
    found = [{k: v for k, v in row.items() if k != "dt"} for row in delta_rows(lake, table) if str(row["dt"]) == date]
    return sorted(found, key=lambda r: json.dumps(r, sort_keys=True, default=str))


def dated(lake, date):
    return {rel: data for rel, data in snapshot(lake).items() if f"/dt={date}/" in f"/{rel}"}


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    """Day 1: 12 stories. Day 2: exact copies of 4, edited copies of 6 (new headline, other site,
    and a paragraph cut, a paragraph added or typos), and 5 new stories."""
    base = tmp_path_factory.mktemp("lake")
    lake = base / "lake"
    day1 = write_pages(base / "d1", [original(i) for i in range(12)])
    copies = [original(i) for i in range(4)]
    edits = [edited(4 + k, how) for k, how in enumerate(["cut", "added", "typos", "cut", "added", "typos"])]
    day2 = write_pages(base / "d2", copies + edits + [fresh(i) for i in range(5)])
    assert run_dated(day1, lake, D1) == 0
    first_day1 = dated(lake, D1)
    assert run_dated(day2, lake, D2) == 0
    return {"lake": lake, "base": base, "day1": day1, "day2": day2, "first_day1": first_day1,
            "summary": json.loads((lake / "run.json").read_text())}


@pytest.mark.slow
def test_day_two_names_day_one_articles_for_every_copy(two_days):
    lake = two_days["lake"]
    day1 = {r["url"]: r["article_id"] for r in rows(lake, "articles", D1)}
    assert len(day1) == 12
    duplicates = {r["url"]: r for r in rows(lake, "duplicates", D2)}
    for i in range(4):  # exact copies
        row = duplicates[f"https://alpha.example/story/{i}"]
        assert (row["duplicate_of"], row["duplicate_of_dt"], row["method"]) == (
            day1[f"https://alpha.example/story/{i}"], D1, "content")
    for k, how in enumerate(["cut", "added", "typos", "cut", "added", "typos"]):  # edited copies
        row = duplicates[f"https://beta.example/{how}/{4 + k}"]
        assert (row["duplicate_of"], row["duplicate_of_dt"], row["method"]) == (
            day1[f"https://alpha.example/story/{4 + k}"], D1, "near"), how
    kept = {r["url"] for r in rows(lake, "articles", D2)}
    assert kept == {f"https://beta.example/new/{i}" for i in range(5)}
    summary = two_days["summary"]
    assert summary["duplicates_of_earlier_dates"] == 10 and summary["history_dates"] == [D1]
    assert summary["reconciled"]


@pytest.mark.slow
def test_day_one_is_untouched_and_article_ids_stay_unique(two_days):
    lake = two_days["lake"]
    assert dated(lake, D1) == two_days["first_day1"]
    ids = [r["article_id"] for date in (D1, D2) for r in rows(lake, "articles", date)]
    assert len(ids) == len(set(ids)) == 17


@pytest.mark.slow
def test_a_rerun_gives_the_same_rows(two_days, capsys):
    lake = two_days["lake"]
    before = {table: rows(lake, table, D2) for table in ("articles", "duplicates", "dedupe_index")}
    assert run_dated(two_days["day2"], lake, D2) == 0
    assert {table: rows(lake, table, D2) for table in before} == before
    # Day 2's duplicates name day 1's articles: a rerun of day 1 alone is refused (it could drop
    # them), naming the backfill that reruns both.
    day1_rows = rows(lake, "articles", D1)
    capsys.readouterr()
    assert run_dated(two_days["day1"], lake, D1) == 2
    assert f"newsbeam backfill --from {D1} --to {D2}" in capsys.readouterr().err
    # A rerun of day 1 that a rerun of day 2 follows (what backfill runs) sees no history (only
    # earlier dates count): the same rows.
    assert run_dated(two_days["day1"], lake, D1, "--backfill-to", D1) == 2  # day 2 is not in that backfill
    assert run_dated(two_days["day1"], lake, D1, "--backfill-to", D2) == 0
    assert json.loads((lake / "run.json").read_text())["later_dates"] == [D2]
    assert rows(lake, "articles", D1) == day1_rows
    assert rows(lake, "duplicates", D1) == []
    assert rows(lake, "articles", D2) == before["articles"]  # later dates are not rewritten


@pytest.mark.slow
def test_dedupe_days_bounds_the_look_back(two_days, tmp_path):
    """Day 3 re-publishes story 11 (kept on day 1) and fresh story 0 (kept on day 2)."""
    lake = tmp_path / "lake"
    import shutil

    shutil.copytree(two_days["lake"], lake)
    day3 = write_pages(tmp_path / "d3", [original(11), fresh(0)])
    assert run_dated(day3, lake, D3, "--dedupe-days", "1") == 0
    assert {r["url"]: r["duplicate_of_dt"] for r in rows(lake, "duplicates", D3)} == {
        "https://beta.example/new/0": D2}
    assert run_dated(day3, lake, D3) == 0  # the default looks back far enough
    assert {r["url"]: r["duplicate_of_dt"] for r in rows(lake, "duplicates", D3)} == {
        "https://beta.example/new/0": D2, "https://alpha.example/story/11": D1}
    assert run_dated(day3, lake, D3, "--dedupe-days", "0") == 0
    assert rows(lake, "duplicates", D3) == []


@pytest.mark.slow
def test_a_copy_of_a_copy_names_the_first_article(two_days, tmp_path):
    """Day 3 holds an exact copy of a page that was itself a day-2 copy of a day-1 article."""
    import shutil

    lake = tmp_path / "lake"
    shutil.copytree(two_days["lake"], lake)
    day3 = write_pages(tmp_path / "d3", [edited(4, "cut")])
    assert run_dated(day3, lake, D3) == 0
    day1 = {r["url"]: r["article_id"] for r in rows(lake, "articles", D1)}
    (row,) = rows(lake, "duplicates", D3)
    assert (row["duplicate_of"], row["duplicate_of_dt"]) == (day1["https://alpha.example/story/4"], D1)
    # related to the article it names, not to the copy it matched: a near-copy, as on day 2
    (day2_row,) = [r for r in rows(lake, "duplicates", D2) if r["url"] == "https://beta.example/cut/4"]
    assert (row["method"], row["reason"]) == (day2_row["method"], day2_row["reason"]) == ("near", "near_duplicate")
    assert row["similarity"] == day2_row["similarity"] < 1.0
    (index,) = rows(lake, "dedupe_index", D3)
    assert index["cluster_id"] == row["duplicate_of"] and index["cluster_dt"] == D1
    assert index["cluster_body_hash"] is not None and index["cluster_body_hash"] != index["body_hash"]


@pytest.mark.slow
def test_an_updated_page_under_a_published_url_stays_a_copy(tmp_path):
    """The same URL on a later day with another body: the published article stays, the later
    version is recorded as republished (article_id stays unique in the lake)."""
    lake = tmp_path / "lake"
    first = original(1)
    later = dict(first, text=page("Harbour story number 1", story("something-else", paragraphs=6), "Alpha News"))
    assert run_dated(write_pages(tmp_path / "d1", [first]), lake, D1) == 0
    assert run_dated(write_pages(tmp_path / "d2", [later]), lake, D2) == 0
    (row,) = rows(lake, "duplicates", D2)
    assert (row["method"], row["reason"], row["duplicate_of_dt"]) == ("url", "republished", D1)
    assert rows(lake, "articles", D2) == []


@pytest.mark.slow
def test_a_day_that_shares_nothing_with_earlier_dates_keeps_everything(two_days, tmp_path):
    import shutil

    lake = tmp_path / "lake"
    shutil.copytree(two_days["lake"], lake)
    day3 = write_pages(tmp_path / "d3", [fresh(100 + i) for i in range(3)])
    assert run_dated(day3, lake, D3) == 0
    assert len(rows(lake, "articles", D3)) == 3 and rows(lake, "duplicates", D3) == []
    assert json.loads((lake / "run.json").read_text())["history_dates"] == [D1, D2]


def test_history_only_reads_rows_that_share_a_key():
    """The lookup keeps an earlier row only when it shares a body, URL, id or LSH band with today."""
    import pyarrow as pa

    from transforms.config import DedupeConfig
    from transforms.dedupe.rules import fingerprint, minhash_params
    from transforms.dedupe.history import CollectTodayKeys, index_row, matching_rows
    from transforms.records import Article
    from transforms.schema import arrow_schema
    from transforms.records import IndexRow

    config = DedupeConfig()
    params = minhash_params(config)

    def art(key, url, body):
        return Article(article_id=key, source_file="f", text=body, paragraphs=(body,), content_hash=key,
                       canonical_url=url)

    old_bodies = {k: " ".join(story(f"old-{k}", paragraphs=4)) for k in "abcd"}
    earlier = [fingerprint(art(f"id-{k}", f"https://x/{k}", old_bodies[k]), config) for k in "abcd"]
    table = pa.Table.from_pylist([index_row(fp, None, params).model_dump() for fp in earlier],
                                 schema=arrow_schema(IndexRow))
    today = [
        fingerprint(art("t1", None, old_bodies["a"]), config),  # the same body
        fingerprint(art("t2", "https://x/b", "a different body altogether " * 3), config),  # the same URL
        fingerprint(art("t3", None, old_bodies["c"].replace("council", "mayor", 3)), config),  # near-copy
    ]
    combine = CollectTodayKeys(params)
    keys = combine.extract_output(combine.merge_accumulators(
        [combine.add_input(combine.create_accumulator(), fp) for fp in today]))
    assert matching_rows(table, keys, params) == [0, 1, 2]


def test_band_numbers_are_equal_exactly_when_bands_are():
    from transforms.dedupe.minhash import MinHashParams, band_hashes

    params = MinHashParams(num_perm=12, bands=4)
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**32, size=(50, 12), dtype=np.uint64).astype(np.uint32)
    b = a.copy()
    b[:, 3:6] += 1  # band 1 differs, bands 0, 2, 3 are equal
    ha, hb = band_hashes(a, params), band_hashes(b, params)
    assert (ha[:, [0, 2, 3]] == hb[:, [0, 2, 3]]).all()
    assert (ha[:, 1] != hb[:, 1]).all()
    assert len(np.unique(ha)) == ha.size  # different bands (and band positions) give different numbers


def _index_file(tmp_path, fps, params, drop=()):
    import pyarrow as pa

    from transforms.dedupe.history import index_row
    from transforms.records import IndexRow
    from transforms.schema import arrow_schema

    schema = arrow_schema(IndexRow)
    table = pa.Table.from_pylist([index_row(fp, None, params).model_dump() for fp in fps], schema=schema)
    path = tmp_path / "index.parquet"
    pq.write_table(table.drop_columns(list(drop)), path)
    return str(path)


def test_an_index_without_the_newer_columns_is_still_read(tmp_path):
    from transforms.config import DedupeConfig
    from transforms.dedupe.rules import fingerprint, minhash_params
    from transforms.dedupe.history import CollectTodayKeys, ReadHistory
    from transforms.records import Article

    config = DedupeConfig()
    body = " ".join(story("kept", paragraphs=4))
    fp = fingerprint(Article(article_id="a", source_file="f", text=body, paragraphs=(body,), content_hash="a"), config)
    path = _index_file(tmp_path, [fp], minhash_params(config),
                       drop=["cluster_body_hash", "cluster_url", "cluster_signature", "cluster_shingles"])
    combine = CollectTodayKeys(minhash_params(config))
    keys = combine.extract_output(combine.add_input(combine.create_accumulator(), fp))
    (found,) = ReadHistory(minhash_params(config), {}, str(tmp_path)).process((D1, path), keys)
    assert (found.body_hash, found.history_dt, found.cluster_view) == (fp.body_hash, D1, None)


def test_an_index_file_that_vanished_fails_the_run_with_the_reason(tmp_path):
    from transforms.config import DedupeConfig
    from transforms.dedupe.rules import minhash_params
    from transforms.dedupe.history import ReadHistory, TodayKeys
    from transforms.rejects import StageFailure

    with pytest.raises(StageFailure, match="was replaced while this run was running"):
        list(ReadHistory(minhash_params(DedupeConfig()), {}, str(tmp_path)).process(
            (D1, str(tmp_path / "gone.parquet")), TodayKeys(frozenset(), np.zeros(0, dtype=np.uint64))))


def test_the_first_calendar_day_has_no_history_and_runs(tmp_path):
    assert run_dated(write_pages(tmp_path / "d", [fresh(1)]), tmp_path / "lake", "0001-01-01") == 0
    assert json.loads((tmp_path / "lake" / "run.json").read_text())["history_dates"] == []
