"""The real command line on seeds/, read back as an analyst would (pyarrow and DuckDB)."""
import glob
import json
import os
import subprocess

import duckdb
import pyarrow.parquet as pq
import pytest

from support import NEWSBEAM, SEEDS
from transforms.io.lake import without_run_id

# Every test runs the real command line, `newsbeam run`, in a process of its own.
pytestmark = pytest.mark.slow

PYONGYANG_COPIES = ("us-warns-pyongyang-over-drone-exports.txt", "mirror-site-copy-of-pyongyang-story.txt")


def run_cli(*args, cwd=None):
    return subprocess.run([NEWSBEAM, "run", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e") / "out"
    proc = run_cli("--input", SEEDS, "--output", str(folder))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "counts reconcile" in proc.stdout
    return folder


def records_in_seeds():
    count = 0
    for path in glob.glob(os.path.join(SEEDS, "*")):
        if path.endswith(".txt"):
            count += 1
        elif path.endswith(".jsonl"):
            with open(path, encoding="utf-8") as handle:
                count += sum(1 for _ in handle)
    return count


def rows(out, table):
    return pq.read_table(out / table).to_pylist()


def test_counts_reconcile_with_the_files(out):
    summary = json.loads((out / "run.json").read_text())
    n_articles, n_dups, n_rejected = (len(rows(out, t)) for t in ("articles", "duplicates", "rejected"))
    assert summary["records_in"] == records_in_seeds()
    assert n_articles + n_dups + n_rejected == records_in_seeds()
    assert (summary["articles_written"], summary["duplicates"], summary["rejected"]) == (n_articles, n_dups, n_rejected)
    assert summary["reconciled"] is True


def test_user_sample_article_comes_out_clean_and_annotated(out):
    # The seeds hold this page twice (a mirror site's copy); exactly one is kept.
    (article,) = [r for r in rows(out, "articles") if r["source_file"].endswith(PYONGYANG_COPIES)]
    assert article["title"] == "US warns Pyongyang over drone exports to Moscow"
    assert article["language"] == "en" and article["language_probability"] > 0.9
    paragraphs = article["body"].split("\n\n")
    assert paragraphs[0].startswith("White House spokesman John Kirby on Wednesday warned North Korea")
    assert paragraphs[-1] == '"We will keep calling on Pyongyang to stop before it crosses that line," Kirby said.'
    for boilerplate in ("HomeWorld News", "See also", "Advertisement", "Please enter your", "Most Popular",
                        "Recent Comments", "For breaking news"):
        assert boilerplate not in article["body"], boilerplate
    assert article["title"] not in article["body"]
    ents = {(e["text"], e["label"]) for e in article["entities"]}
    assert {("John Kirby", "PERSON"), ("Vladimir Putin", "PERSON"), ("North Korea", "GPE"), ("Seoul", "GPE")} <= ents
    for e in article["entities"]:
        assert article["body"][e["start"]:e["end"]] == e["text"]


def test_languages_and_entity_status(out):
    by_lang = {}
    for r in pq.read_table(out / "articles").to_pylist():
        by_lang.setdefault(r["language"], []).append(r)
    assert sorted(by_lang) == ["de", "en", "es", "fr"]
    (fr,) = by_lang["fr"]
    assert fr["entity_status"] == "tagged" and any(e["label"] == "LOC" for e in fr["entities"])
    assert fr["byline"] == "Marie Dupont"
    (de,) = by_lang["de"]
    assert (de["entity_status"], de["entities"]) == ("no_model", [])


def test_duplicates_and_rejections_are_explained(out):
    dups = {d["given_id"] or os.path.basename(d["source_file"]): d for d in rows(out, "duplicates")}
    kept = {a["article_id"]: a for a in rows(out, "articles")}
    # Every duplicate names an article that is in articles/, and its story.
    assert all(d["duplicate_of"] in kept and d["cluster_id"] == d["duplicate_of"] for d in dups.values())
    # Two identical pages: the first in path order is kept, wherever the seeds folder is.
    copy = dups["us-warns-pyongyang-over-drone-exports.txt"]
    assert (copy["method"], copy["reason"], copy["similarity"]) == ("content", "same_content", 1.0)
    assert kept[copy["duplicate_of"]]["source_file"].endswith("mirror-site-copy-of-pyongyang-story.txt")
    # A syndicated copy on another site: new headline, other chrome, a paragraph cut, a typo.
    near = dups["bsw-20250303-17"]
    assert (near["method"], near["reason"]) == ("near", "near_duplicate") and 0.6 < near["similarity"] < 1
    assert kept[near["duplicate_of"]]["title"] == "Rotterdam dockworkers walk out over automation plans"
    # The science story was updated the next day (same URL): the update is kept, the first version
    # and the wire's copy of it are superseded.
    update = kept[dups["sd-2025-0312-webb"]["duplicate_of"]]
    assert update["given_id"] == "sd-2025-0312-webb-v2" and update["copies"] == 2
    assert (dups["sd-2025-0312-webb"]["method"], dups["sd-2025-0312-webb"]["reason"]) == ("url", "superseded")
    assert (dups["wire-88213"]["method"], dups["wire-88213"]["reason"]) == ("content", "superseded")
    assert "Max Planck Institute" in update["body"]
    rejected = {(r["reason"], r["source_line"]) for r in rows(out, "rejected")}
    assert {("malformed_json", 5), ("missing_text", 6), ("bad_date", 7)} <= rejected
    for r in rows(out, "rejected"):
        assert r["stage"] == "validate" and r["payload"] and r["source_file"].endswith(".jsonl")


def test_duckdb_reads_the_hive_layout(out):
    con = duckdb.connect()
    got = con.execute(
        "SELECT language, count(*) FROM read_parquet(?, hive_partitioning=true) GROUP BY 1 ORDER BY 1",
        [str(out / "articles" / "**" / "*.parquet")]).fetchall()
    assert got == [("de", 1), ("en", 3), ("es", 1), ("fr", 1)]
    people = con.execute(
        "SELECT text FROM read_parquet(?) WHERE label = 'PERSON' AND text = 'John Kirby'",
        [str(out / "entities" / "*.parquet")]).fetchall()
    assert people == [("John Kirby",)]


def test_rerun_gives_identical_tables(out, tmp_path):
    again = tmp_path / "again"
    proc = run_cli("--input", SEEDS, "--output", str(again))
    assert proc.returncode == 0, proc.stderr[-3000:]
    def files(folder, table):  # {path with the run id taken out: path}
        found = glob.glob(str(folder / table / "**" / "*.parquet"), recursive=True)
        return {without_run_id(os.path.relpath(p, folder)): p for p in found}

    for table in ("articles", "entities", "duplicates", "rejected"):
        first, second = files(out, table), files(again, table)
        assert sorted(first) == sorted(second)  # the same files, but for the run id in their names
        for rel in first:
            assert pq.read_table(first[rel]).equals(pq.read_table(second[rel])), rel
            assert open(first[rel], "rb").read() == open(second[rel], "rb").read(), rel


def test_bad_arguments_are_clear_errors(tmp_path):
    proc = run_cli("--input", str(tmp_path / "nope"), "--output", str(tmp_path / "o"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("years of work")
    proc = run_cli("--input", SEEDS, "--output", str(tmp_path / "mine"))
    assert proc.returncode == 2 and "refusing to write into" in proc.stderr
    assert (tmp_path / "mine" / "thesis.docx").read_text() == "years of work"
    (tmp_path / "afile").write_text("x")
    proc = run_cli("--input", SEEDS, "--output", str(tmp_path / "afile" / "out"))
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
    proc = run_cli("--input", SEEDS, "--ouput", str(tmp_path / "typo"))  # Beam would drop it silently
    assert proc.returncode == 2 and "unknown option(s) --ouput" in proc.stderr
    assert not (tmp_path / "typo").exists()


def test_default_is_seeds_into_out(tmp_path):
    import shutil

    shutil.copytree(SEEDS, tmp_path / "seeds")
    proc = run_cli(cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "out" / "run.json").read_text())["records_in"] == records_in_seeds()


def test_removed_lines_can_be_audited(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("--input", SEEDS, "--output", str(out), "--keep-removed-lines")
    assert proc.returncode == 0, proc.stderr[-3000:]
    articles = {r["article_id"]: r for r in pq.read_table(out / "articles").to_pylist()}
    removed = pq.read_table(out / "removed_lines").to_pylist()
    (kirby,) = [a for a in articles.values() if a["title"] == "US warns Pyongyang over drone exports to Moscow"]
    mine = {(r["text"], r["reason"]) for r in removed if r["article_id"] == kirby["article_id"]}
    assert ("See also Mayor unveils plan for new downtown bike lanes", "see_also") in mine
    assert ("- Advertisement -", "ad_marker") in mine
    assert ("Please enter your comment!", "comment_form") in mine
    assert len(mine) == kirby["removed_line_count"]
    assert {r["article_id"] for r in removed} <= set(articles)


def test_a_failed_run_exits_3_and_leaves_the_output(tmp_path, monkeypatch, capsys):
    from pipelines import articles

    out = tmp_path / "out"
    assert articles.main(["--input", SEEDS, "--output", str(out), "--runner=FnApiRunner"]) == 0
    before = (out / "run.json").read_text()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("transforms.io.write.write_part", disk_full)
    assert articles.main(["--input", SEEDS, "--output", str(out), "--runner=FnApiRunner"]) == 3
    assert "the run failed" in capsys.readouterr().err
    assert (out / "run.json").read_text() == before
