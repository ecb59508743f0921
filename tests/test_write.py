import json
import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.config import RunConfig, WriteConfig
from transforms.records import Article, ArticleRow, Entity, RawRecord
from transforms.rejects import make_rejection
from transforms.schema import arrow_schema
from support.lake import delta_rows, duckdb_rows
from transforms.io import lake
from transforms.io.rows import TABLES, entity_rows, partition_dir, shard_of
from transforms.io.write import WriteOutputs, check_output_replaceable


def test_arrow_schema_is_derived_from_the_models():
    schema = arrow_schema(ArticleRow)
    assert schema.field("article_id").type == pa.string() and not schema.field("article_id").nullable
    assert schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("source_line").nullable
    assert schema.field("entities").type == pa.list_(pa.struct([
        pa.field("text", pa.string(), nullable=False), pa.field("label", pa.string(), nullable=False),
        pa.field("start", pa.int64(), nullable=False), pa.field("end", pa.int64(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False)]))
    assert set(schema.names) == set(ArticleRow.model_fields)
    assert "language" not in TABLES["articles"].schema.names  # it is the Hive partition


def test_entity_rows_count_mentions_per_distinct_entity():
    ents = (Entity(text="Paris", label="GPE", start=0, end=5), Entity(text="Kirby", label="PERSON", start=10, end=15),
            Entity(text="Paris", label="GPE", start=20, end=25))
    a = Article(article_id="a", source_file="f", text="t", content_hash="h", language="en", entities=ents)
    rows = [(r.text, r.label, r.mentions, r.first_start) for r in entity_rows(a)]
    assert rows == [("Paris", "GPE", 2, 0), ("Kirby", "PERSON", 1, 10)]


def test_entity_rows_group_mentions_by_canonical_name():
    ents = (Entity(text="Jake Sullivan", label="PERSON", start=0, end=13),
            Entity(text="White House", label="ORG", start=30, end=41),
            Entity(text="Sullivan", label="PERSON", start=50, end=58, canonical="Jake Sullivan"),
            Entity(text="Sullivan", label="PERSON", start=70, end=78, canonical="Jake Sullivan"))
    a = Article(article_id="a", source_file="f", text="t", content_hash="h", language="en", entities=ents)
    rows = [(r.text, r.label, r.mentions, r.first_start, r.forms) for r in entity_rows(a)]
    assert rows == [("Jake Sullivan", "PERSON", 3, 0, ["Jake Sullivan", "Sullivan"]),
                    ("White House", "ORG", 1, 30, ["White House"])]
    assert TABLES["entities"].schema.field("forms").type == pa.list_(pa.string())


@pytest.mark.parametrize("value,folder", [("en", "language=en"), ("../../x", "language=und"), ("", "language=und"),
                                          ("EN", "language=en"), ("a/b", "language=und"), ("..", "language=und")])
def test_partition_values_never_leave_the_table_folder(value, folder):
    assert partition_dir(TABLES["articles"], {"language": value}) == folder


def test_shards_are_stable_and_spread():
    keys = [("id%d" % i,) for i in range(1000)]
    assert [shard_of(k, 4) for k in keys] == [shard_of(k, 4) for k in keys]
    assert set(shard_of(k, 4) for k in keys) == {0, 1, 2, 3}


def test_refuses_to_replace_a_folder_that_is_not_newsbeam_output(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a newsbeam lake"):
        check_output_replaceable(str(tmp_path))
    check_output_replaceable(str(tmp_path / "new"))  # a new folder is fine


def test_the_parts_of_a_first_run_that_died_before_its_commit_do_not_make_the_output_foreign(tmp_path):
    left = tmp_path / "out" / "articles" / "language=en" / "part-3f2a9c-00000-of-00001.parquet"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"a part the killed run wrote")
    (tmp_path / "out" / "entities").mkdir()
    check_output_replaceable(str(tmp_path / "out"))  # the next run makes the lake there
    # A part newsbeam does not write (no run id, or outside a table folder) is someone else's.
    for foreign in ("part-00000-of-00002.parquet", "articles/part-00000-of-00002.parquet",
                    "notes/part-3f2a9c-00000-of-00001.parquet"):
        path = tmp_path / "out" / foreign
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"theirs")
        with pytest.raises(ValueError, match="not a newsbeam lake"):
            check_output_replaceable(str(tmp_path / "out"))
        path.unlink()


def _run_write(tmp_path, output, articles, runner_options, rows_per_file=2, run_id="run-1"):
    recs = [RawRecord(source_file="f", format="txt", payload=a.text) for a in articles]
    rej = [make_rejection("validate", "empty_text", "empty", source_file="g", payload=" ")]
    with TestPipeline(options=runner_options) as p:
        _ = {
            "records": p | "Records" >> beam.Create(recs + [RawRecord(source_file="g", format="txt", payload=" ")]),
            "articles": p | "Articles" >> beam.Create(articles),
            "duplicates": p | "Dups" >> beam.Create([]),
            "rejected": p | "Rejected" >> beam.Create(rej),
        } | WriteOutputs(RunConfig(output=str(output), run_id=run_id, write=WriteConfig(rows_per_file=rows_per_file),
                                   max_rejected_share=1.0))  # one record in, one rejected, by design


def _articles(n, lang="en"):
    return [Article(article_id=f"{lang}{i}", source_file="f", text=f"text {i}", content_hash=f"h{i}",
                    paragraphs=(f"text {i}",), language=lang, language_probability=0.99, entity_status="tagged")
            for i in range(n)]


def test_write_outputs_partitions_shards_and_publishes(tmp_path, runner_options):
    out = tmp_path / "out"
    _run_write(tmp_path, out, _articles(5) + _articles(1, "fr"), runner_options)
    en_files = sorted(os.listdir(out / "articles" / "language=en"))
    assert en_files == [f"part-run-1-0000{i}-of-00003.parquet" for i in range(3)]  # named by the run
    assert sum(pq.read_table(out / "articles" / "language=en" / f).num_rows for f in en_files) == 5
    table = delta_rows(out, "articles")  # the partition column comes from the Delta log
    assert sorted(r["language"] for r in table) == ["en"] * 5 + ["fr"]
    assert delta_rows(out, "duplicates") == []  # an empty table still has its schema (in its log)
    assert [r["reason"] for r in delta_rows(out, "rejected")] == ["empty_text"]
    summary = json.loads((out / "run.json").read_text())
    assert (summary["records_in"], summary["articles_written"], summary["rejected"], summary["reconciled"]) == (7, 6, 1, True)
    assert summary["articles_by_language"] == {"en": 5, "fr": 1}
    # Each table's log names exactly the files on disk, each with its row count.
    state = lake.current_state(str(out))
    listed = {e["path"]: e["rows"] for entries in state["tables"].values() for e in entries}
    on_disk = {str(p.relative_to(out)): pq.read_metadata(p).num_rows for p in out.rglob("*.parquet")}
    assert listed == on_disk and summary["run_id"] == "run-1"
    assert summary["table_versions"] == state["versions"]


def test_an_empty_articles_table_is_a_readable_table(tmp_path, runner_options):
    out = tmp_path / "out"
    _run_write(tmp_path, out, [], runner_options)
    assert duckdb_rows(out, "articles", "SELECT count(*) AS n FROM t") == [{"n": 0}]
    columns = {r["column_name"] for r in duckdb_rows(out, "articles", "DESCRIBE SELECT * FROM t")}
    assert {"article_id", "body", "language"} <= columns


def test_rerun_replaces_the_output_whole(tmp_path, runner_options):
    out = tmp_path / "out"
    _run_write(tmp_path, out, _articles(3) + _articles(2, "fr"), runner_options, run_id="first")
    _run_write(tmp_path, out, _articles(2), runner_options, run_id="second")
    assert json.loads((out / "run.json").read_text())["run_id"] == "second"
    assert sorted(r["article_id"] for r in delta_rows(out, "articles")) == ["en0", "en1"]
    # The first run stays readable by time travel until a vacuum deletes its files.
    first = json.loads((out / "_runs" / "first.json").read_text())["table_versions"]["articles"]
    assert len(delta_rows(out, "articles", version=first)) == 5
