"""What makes two input records one article, end to end (issue 23): ids without a publisher, URL
fragments that route, ids stored as floats, invisible characters. Each runs the real pipeline on a
folder of input and reads the Parquet output back."""
import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from benchmarks.corpora.textgen import story
from support import TEST_RUNNER


def run(inputs, output, *flags):
    from pipelines import articles

    return articles.main(["--input", str(inputs), "--output", str(output), f"--runner={TEST_RUNNER}",
                          "--ner-model", "en=", *flags])


def rows(output, table, date=None):
    """The rows of a table (of one date), with their Hive partition (``language``) as a column."""
    where = output / table / f"dt={date}" if date else output / table
    paths = sorted(glob.glob(str(where / "**" / "*.parquet"), recursive=True))
    partition = {path: dict(part.split("=", 1) for part in os.path.relpath(path, where).split(os.sep) if "=" in part)
                 for path in paths}
    return [{**row, **partition[path]} for path in paths for row in pq.read_table(path).to_pylist()]


def write_jsonl(path, records):
    os.makedirs(path.parent, exist_ok=True)
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")


def body(key):
    return "\n\n".join(story(key, paragraphs=3))


def cms_export(day, ids=range(1, 6)):
    """A CMS export without source or URL whose ids restart at 1 in every file."""
    return [{"id": str(i), "title": f"Story {i} of {day}", "text": body(f"{day}-story-{i}")} for i in ids]


# --------------------------------------------------------------------------------------
# Ids without a publisher

@pytest.mark.slow
def test_two_exports_whose_ids_restart_keep_every_story(tmp_path):
    write_jsonl(tmp_path / "in" / "monday.jsonl", cms_export("monday"))
    write_jsonl(tmp_path / "in" / "tuesday.jsonl", cms_export("tuesday"))
    assert run(tmp_path / "in", tmp_path / "out") == 0
    kept = rows(tmp_path / "out", "articles")
    assert len(kept) == 10 and rows(tmp_path / "out", "duplicates") == []
    assert len({a["article_id"] for a in kept}) == 10
    assert sorted(a["given_id"] for a in kept) == sorted([str(i) for i in range(1, 6)] * 2)
    # the same input again: the same ids
    assert run(tmp_path / "in", tmp_path / "again") == 0
    assert {a["article_id"] for a in rows(tmp_path / "again", "articles")} == {a["article_id"] for a in kept}


def test_the_same_id_twice_in_one_export_keeps_both_bodies_and_one_copy(tmp_path):
    export = cms_export("monday", ids=[1, 2]) + [{"id": "1", "text": body("another-story")},
                                                  {"id": "2", "text": body("monday-story-2")}]
    write_jsonl(tmp_path / "in" / "export.jsonl", export)
    assert run(tmp_path / "in", tmp_path / "out") == 0
    kept = rows(tmp_path / "out", "articles")
    assert sorted(a["source_line"] for a in kept) == [1, 2, 3] and len({a["article_id"] for a in kept}) == 3
    (dup,) = rows(tmp_path / "out", "duplicates")
    assert (dup["source_line"], dup["method"], dup["reason"]) == (4, "content", "same_content")
    assert dup["duplicate_of"] == next(a["article_id"] for a in kept if a["source_line"] == 2)


@pytest.mark.slow
def test_day_two_of_an_export_without_publisher_is_new_stories(tmp_path):
    lake = tmp_path / "lake"
    write_jsonl(tmp_path / "d1" / "export.jsonl", cms_export("day-1"))
    assert run(tmp_path / "d1", lake, "--date", "2025-06-01") == 0
    day1 = {a["given_id"]: a["article_id"] for a in rows(lake, "articles", "2025-06-01")}
    # day 2: five new stories under ids 1..5 again, and day 1's story 3 re-sent unchanged as id 6
    write_jsonl(tmp_path / "d2" / "export.jsonl",
                cms_export("day-2") + [{"id": "6", "text": body("day-1-story-3")}])
    assert run(tmp_path / "d2", lake, "--date", "2025-06-02") == 0
    assert len(rows(lake, "articles", "2025-06-02")) == 5
    (dup,) = rows(lake, "duplicates", "2025-06-02")
    assert (dup["given_id"], dup["method"], dup["duplicate_of"], dup["duplicate_of_dt"]) == (
        "6", "content", day1["3"], "2025-06-01")


def test_an_id_resent_by_its_publisher_is_still_an_update(tmp_path):
    write_jsonl(tmp_path / "in" / "a.jsonl", [{"id": "1", "source": "Planet", "text": body("planet-v1"),
                                               "published_at": "2025-06-01"}])
    write_jsonl(tmp_path / "in" / "b.jsonl", [{"id": "1", "source": "Planet", "text": body("planet-v2"),
                                               "published_at": "2025-06-02"}])
    assert run(tmp_path / "in", tmp_path / "out") == 0
    (kept,) = rows(tmp_path / "out", "articles")
    (dup,) = rows(tmp_path / "out", "duplicates")
    assert kept["source_file"].endswith("b.jsonl")
    assert (dup["method"], dup["reason"], dup["duplicate_of"]) == ("id", "superseded", kept["article_id"])


# --------------------------------------------------------------------------------------
# URL fragments

def test_single_page_app_routes_are_different_pages(tmp_path):
    spa = [{"url": f"https://spa.example/#/story/{i}", "text": body(f"spa-{i}")} for i in (1, 2, 3)]
    anchor = {"url": "https://spa.example/#/story/1#comments", "text": body("spa-1")}  # not a new route
    write_jsonl(tmp_path / "in" / "spa.jsonl", spa + [{"url": "https://news.example/a", "text": body("news-a")},
                                                      {"url": "https://news.example/a#comments",
                                                       "text": body("news-a-edited")}, anchor])
    assert run(tmp_path / "in", tmp_path / "out") == 0
    kept = rows(tmp_path / "out", "articles")
    assert sorted(a["canonical_url"] for a in kept) == [
        "https://news.example/a", "https://spa.example#/story/1", "https://spa.example#/story/2",
        "https://spa.example#/story/3"]
    dups = rows(tmp_path / "out", "duplicates")
    assert sorted((d["url"], d["method"]) for d in dups) == [
        ("https://news.example/a", "url"), ("https://spa.example/#/story/1#comments", "content")]


# --------------------------------------------------------------------------------------
# Ids stored as floats

def test_parquet_ids_written_by_pandas_as_floats(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"id": pd.array([1, 2, None, 4], dtype="Int64").astype("float64"),
                          "source": ["Planet"] * 4, "text": [body(f"float-{i}") for i in range(4)]})
    assert str(frame["id"].dtype) == "float64"
    os.makedirs(tmp_path / "in")
    frame.to_parquet(tmp_path / "in" / "export.parquet")
    assert pq.read_schema(tmp_path / "in" / "export.parquet").field("id").type == "double"
    assert run(tmp_path / "in", tmp_path / "out") == 0
    assert rows(tmp_path / "out", "rejected") == []
    kept = rows(tmp_path / "out", "articles")
    assert sorted((a["source_line"], a["given_id"]) for a in kept) == [(1, "1"), (2, "2"), (3, None), (4, "4")]


# --------------------------------------------------------------------------------------
# Invisible characters

@pytest.mark.slow
def test_copies_with_zero_width_spaces_are_duplicates_in_english(tmp_path):
    original = body("invisible")
    words = original.split(" ")
    inside = " ".join(w[:2] + "\u200b" + w[2:] if i % 3 else w + "\u200b" for i, w in enumerate(words))
    everywhere = "\u200b".join(original)  # what a detector read as Welsh
    assert inside.replace("\u200b", "") == everywhere.replace("\u200b", "") == original
    write_jsonl(tmp_path / "in" / "pages.jsonl", [
        {"url": "https://a.example/1", "text": original, "published_at": "2025-06-01"},
        {"url": "https://b.example/1", "text": inside, "published_at": "2025-06-02"},
        {"url": "https://c.example/1", "text": everywhere, "published_at": "2025-06-02"}])
    assert run(tmp_path / "in", tmp_path / "out") == 0
    (kept,) = rows(tmp_path / "out", "articles")
    assert kept["url"] == "https://a.example/1" and kept["language"] == "en"
    dups = {d["url"]: (d["method"], d["duplicate_of"]) for d in rows(tmp_path / "out", "duplicates")}
    assert dups["https://b.example/1"] == ("content", kept["article_id"])
    # Clean reads the first line of the copy spaced out letter by letter as a title (its sentence
    # rules do not see through the zero-width spaces): the bodies differ by that line, a near-copy
    assert dups["https://c.example/1"][1] == kept["article_id"] and len(dups) == 2
    # alone, a copy keeps its text as written and is English
    write_jsonl(tmp_path / "copy" / "pages.jsonl", [{"url": "https://c.example/1", "text": everywhere}])
    assert run(tmp_path / "copy", tmp_path / "out-copy") == 0
    (alone,) = rows(tmp_path / "out-copy", "articles")
    assert alone["language"] == "en" and "\u200b" in alone["body"] and alone["body"].replace("\u200b", "") in original
