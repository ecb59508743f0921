"""newsbeam report and newsbeam show, checked against the numbers of a known run; the HTML page is
rendered in headless Chromium and every chart's bars are read back from the rendered page."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser

import pyarrow.parquet as pq
import pytest

from support import NEWSBEAM, SEEDS, TEST_RUNNER
from support.runs import run_dated, write_pages
from support.stories import D1, D2, fresh, original

# `newsbeam run`, `report` and `show` run as processes of their own; the charts render in Chromium.
pytestmark = pytest.mark.slow

REQUIRE = os.environ.get("NEWSBEAM_REQUIRE_RUNNERS") == "1"


def newsbeam(*args, cwd=None):
    return subprocess.run([NEWSBEAM, *args], capture_output=True, text=True, timeout=600, cwd=cwd)


def table(out, name):
    return [r for p in sorted(out.glob(f"{name}/**/*.parquet")) for r in pq.read_table(p).to_pylist()]


@pytest.fixture(scope="module")
def seeds_out(tmp_path_factory):
    """The user's sample run with removed lines kept: the known run."""
    base = tmp_path_factory.mktemp("report")
    proc = newsbeam("run", "--input", SEEDS, "--output", str(base / "out"), "--keep-removed-lines",
                    f"--runner={TEST_RUNNER}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return base / "out"


def expected_numbers(out):
    """The numbers each chart must show, computed from run.json and the Parquet without DuckDB."""
    summary = json.loads((out / "run.json").read_text())
    articles = table(out, "articles")
    sizes = Counter()
    for row in articles:
        n = row["copies"] + 1
        if n > 1:
            sizes["2" if n == 2 else "3" if n == 3 else "4-5" if n <= 5 else "6-10" if n <= 10 else "11+"] += 1
    mentions = Counter()
    for row in table(out, "entities"):
        if row["label"] not in {"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"}:
            mentions[f"{row['text']} ({row['label']})"] += row["mentions"]
    return summary, sizes, mentions


class _Bars(HTMLParser):
    """Every rendered bar: chart id -> [(data-key, data-value, width)]; and which holders rendered."""

    def __init__(self):
        super().__init__()
        self.charts, self.rendered, self._chart = {}, set(), None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "svg" and "data-chart" in attrs:
            self._chart = attrs["data-chart"]
            self.charts[self._chart] = []
        elif tag == "rect" and self._chart and "bar" in attrs.get("class", ""):
            self.charts[self._chart].append((attrs["data-key"], int(attrs["data-value"]), float(attrs["width"])))
        elif tag == "div" and attrs.get("data-rendered") == "true":
            self.rendered.add(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "svg":
            self._chart = None


def rendered_dom(html_path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        if REQUIRE:
            pytest.fail("chromium is not installed (make test installs it: deploy/local/install-chromium.sh)")
        pytest.skip("chromium is not installed")
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                           "--dump-dom", f"file://{html_path}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_the_report_prints_the_numbers_of_the_run(seeds_out, tmp_path):
    summary, sizes, mentions = expected_numbers(seeds_out)
    proc = newsbeam("report", str(seeds_out), "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    by_language = sorted(summary["articles_by_language"].items(), key=lambda kv: (-kv[1], kv[0]))
    assert "articles by language: " + ", ".join(f"{k} {v}" for k, v in by_language) in text
    assert f"articles {summary['articles_written']}, duplicates {summary['duplicates']}, " \
           f"rejected {summary['rejected']}" in text
    for reason, n in summary["rejected_by_reason"].items():
        assert f"{reason} {n}" in text
    removed = Counter(r["reason"] for r in table(seeds_out, "removed_lines"))
    reason, n = removed.most_common(1)[0]
    assert f"removed lines by reason: {reason} {n}" in text
    assert "most syndicated stories" in text and "Astronomers spot water vapour" in text
    assert re.search(r"person: .*John Kirby \(4\)", text)  # "John Kirby" once, then "Kirby" three times
    assert f"HTML report: {tmp_path / 'r.html'}" in text


def test_every_chart_renders_in_chromium_with_the_numbers_of_the_run(seeds_out, tmp_path):
    summary, sizes, mentions = expected_numbers(seeds_out)
    html_path = tmp_path / "r.html"
    assert newsbeam("report", str(seeds_out), "--html", str(html_path)).returncode == 0
    parsed = _Bars()
    parsed.feed(rendered_dom(html_path))
    charts = parsed.charts
    assert set(charts) == {"articles-per-day", "top-entities", "cluster-sizes", "rejections"}
    assert parsed.rendered == set(charts)  # the script finished every chart
    per_language = Counter()
    for key, value, _ in charts["articles-per-day"]:
        per_language[key.split("|")[1]] += value
    assert dict(per_language) == summary["articles_by_language"]
    assert {k: v for k, v, _ in charts["rejections"]} == summary["rejected_by_reason"]
    assert {k: v for k, v, _ in charts["cluster-sizes"] if v} == dict(sizes)
    top = {k: v for k, v, _ in charts["top-entities"]}
    assert len(top) == min(15, len(mentions)) and all(mentions[k] == v for k, v in top.items())
    assert max(top.values()) == max(mentions.values())
    for bars in charts.values():  # drawn to scale: a bar twice the value is twice as wide
        for key, value, width in bars:
            assert (width > 0) == (value > 0), key
        positive = [(v, w) for _, v, w in bars if v]
        v_max, w_max = max(positive)
        assert all(abs(w - w_max * v / v_max) <= 1.5 for v, w in positive)


def test_a_report_of_some_dates_of_a_lake(tmp_path):
    lake = tmp_path / "dt=1999-01-01" / "lake"  # a partition-like folder above the lake is not a date
    assert run_dated(write_pages(tmp_path / "d1", [original(i) for i in range(3)]), lake, D1) == 0
    assert run_dated(write_pages(tmp_path / "d2", [original(0), fresh(1), fresh(2)]), lake, D2) == 0
    proc = newsbeam("report", str(lake), "--from", D2, "--to", D2, "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"dates {D2} to {D2} (1)" in proc.stdout and "articles 2, duplicates 1, rejected 0" in proc.stdout
    whole = newsbeam("report", str(lake), "--html", str(tmp_path / "all.html"))
    assert "articles 5, duplicates 1" in whole.stdout
    # day 1's story 0 ran again on day 2: one story of two pages, though day 1's files never changed
    assert "duplicate clusters: 1 articles with copies; by size (article + copies): 2 1," in whole.stdout
    assert re.search(r"2 pages, 1 outlet\(s\): Harbour story number 0", whole.stdout)
    data = json.loads(re.search(r'<script id="report-data" type="application/json">(.*?)</script>',
                                (tmp_path / "all.html").read_text(), re.S).group(1))
    (per_day,) = [c for c in data["charts"] if c["id"] == "articles-per-day"]
    assert [(b["key"], b["parts"]) for b in per_day["bars"]] == [(D1, [["en", 3]]), (D2, [["en", 2]])]
    missing = newsbeam("report", str(lake), "--from", "2030-01-01", "--html", str(tmp_path / "x.html"))
    assert missing.returncode == 2 and "holds no date from 2030-01-01" in missing.stderr


def test_report_refuses_what_is_not_an_output(tmp_path, seeds_out):
    (tmp_path / "empty").mkdir()
    proc = newsbeam("report", str(tmp_path / "empty"), "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "is not a newsbeam lake" in proc.stderr
    proc = newsbeam("report", str(seeds_out), "--from", "2025-01-01", "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "not a lake of dates" in proc.stderr


def _rotterdam(out):
    (row,) = [r for r in table(out, "articles") if r["title"].startswith("Rotterdam dockworkers")]
    return row


def test_show_marks_removed_lines_and_lists_entities_and_copies(seeds_out):
    row = _rotterdam(seeds_out)
    proc = newsbeam("show", str(seeds_out), row["article_id"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    assert "removed lines as the run recorded them" in text
    assert "  - Share this article   [share]" in text
    assert "  - Privacy policy   [footer]" in text
    assert "    Thousands of dockworkers at the Port of Rotterdam stopped work" in text  # kept
    removed = [r for r in table(seeds_out, "removed_lines") if r["article_id"] == row["article_id"]]
    assert len(re.findall(r"^  - .*\[\w+\]$", text, re.M)) == len(removed) == row["removed_line_count"]
    entities = [r for r in table(seeds_out, "entities") if r["article_id"] == row["article_id"]]
    assert f"entities ({len(entities)}):" in text and "Boudewijn Siemons" in text
    copies = [r for r in table(seeds_out, "duplicates") if r["duplicate_of"] == row["article_id"]]
    assert f"copies dropped as duplicates of it ({len(copies)}):" in text
    for copy in copies:
        assert copy["article_id"] in text


def test_show_lists_an_entity_once_under_its_canonical_name_with_the_other_forms(seeds_out):
    (row,) = [r for r in table(seeds_out, "entities") if r["text"] == "John Kirby"]
    assert row["forms"] == ["John Kirby", "Kirby"] and row["mentions"] == 4
    proc = newsbeam("show", str(seeds_out), row["article_id"])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"^  PERSON +John Kirby  x4  \(also written: Kirby\)$", proc.stdout, re.M)


def test_show_of_a_copy_names_its_article_and_an_unknown_id_is_refused(seeds_out):
    row = _rotterdam(seeds_out)
    (copy,) = [r for r in table(seeds_out, "duplicates") if r["duplicate_of"] == row["article_id"]]
    proc = newsbeam("show", str(seeds_out), copy["article_id"])
    assert proc.returncode == 0
    assert f"{copy['article_id']} is a dropped copy ({copy['method']}/{copy['reason']}" in proc.stdout
    assert f"article {row['article_id']}" in proc.stdout
    unknown = newsbeam("show", str(seeds_out), "no-such-id")
    assert unknown.returncode == 2 and "no article or duplicate with id 'no-such-id'" in unknown.stderr


def test_show_without_recorded_lines_cleans_again_and_without_the_page_shows_the_body(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(SEEDS, folder)
    out = tmp_path / "out"
    assert newsbeam("run", "--input", str(folder), "--output", str(out), f"--runner={TEST_RUNNER}",
                    "--ner-model", "en=", "--ner-model", "fr=").returncode == 0
    row = _rotterdam(out)
    text = newsbeam("show", str(out), row["article_id"]).stdout
    assert "as cleaning the page again gives them" in text and "  - Share this article   [share]" in text
    os.remove(row["source_file"])
    text = newsbeam("show", str(out), row["article_id"]).stdout
    assert "page text: not available" in text and "is no longer there" in text
    assert "  Thousands of dockworkers at the Port of Rotterdam" in text


def test_page_text_cannot_break_the_charts(tmp_path):
    """An entity or title holding markup is data: the page still draws every chart."""
    from pipelines.report import render_html

    data = {"lake": True, "per_day": [("2025-06-01", "en", 2)], "top_entities": [("<!--<script>x</script> (PERSON)", 3)],
            "cluster_sizes": [("2", 1)], "rejected_by_reason": [("validate.bad_date", 1)]}
    html_path = tmp_path / "r.html"
    html_path.write_text(render_html(data, "summary </pre><b>bold</b>", "out"), encoding="utf-8")
    parsed = _Bars()
    parsed.feed(rendered_dom(html_path))
    assert parsed.rendered == {"articles-per-day", "top-entities", "cluster-sizes", "rejections"}
    assert parsed.charts["top-entities"][0][:2] == ("<!--<script>x</script> (PERSON)", 3)


def test_show_tells_two_articles_of_one_id_apart_and_notices_a_changed_input(tmp_path):
    lake = tmp_path / "lake"
    first = write_pages(tmp_path / "d1", [original(1)])
    assert run_dated(first, lake, D1) == 0
    assert run_dated(write_pages(tmp_path / "d2", [original(1)]), lake, D2, "--dedupe-days", "0") == 0  # not looked up
    (row,) = table(lake, "articles")[:1]
    both = newsbeam("show", str(lake), row["article_id"])
    assert both.returncode == 0 and f"names articles of 2 dates ({D2}, {D1}); showing {D2}" in both.stdout
    one = newsbeam("show", str(lake), row["article_id"], "--date", D1)
    assert f"article {row['article_id']}, date {D1}" in one.stdout and "names articles of" not in one.stdout
    with open(first / "pages.jsonl", "w", encoding="utf-8") as handle:
        handle.write(json.dumps(original(2)) + "\n")  # the input file replaced after the run
    changed = newsbeam("show", str(lake), row["article_id"], "--date", D1)
    assert "has changed since the run" in changed.stdout and "Harbour story number 1" in changed.stdout


def test_report_and_show_refuse_unknown_flags(seeds_out, tmp_path):
    proc = newsbeam("report", str(seeds_out), "--form", "2025-01-01", "--html", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "unknown option(s) --form" in proc.stderr
    proc = newsbeam("report", str(seeds_out), "--html", str(tmp_path / "no" / "such" / "r.html"))
    assert proc.returncode == 2 and "cannot write the HTML page" in proc.stderr


def _damage(path, how):
    """Damage one data file of an output as a full disk, a bad copy or a stray rm would."""
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[:len(data) // 2])
    elif how == "garbage":
        path.write_bytes(bytes((i * 7 + 13) % 256 for i in range(len(data))))
    elif how == "garbage inside":  # the footer is intact: DuckDB's error does not name the file
        path.write_bytes(data[:8] + bytes((b * 7 + 13) % 256 for b in data[8:len(data) // 2]) + data[len(data) // 2:])
    else:
        path.unlink()


def _damaged_copy(seeds_out, tmp_path, how):
    """A copy of the known run with the articles file of the Rotterdam article damaged: (output,
    that file, the article's id)."""
    out = tmp_path / "out"
    shutil.copytree(seeds_out, out)
    row = _rotterdam(out)
    (damaged,) = [p for p in out.glob("articles/**/*.parquet")
                  if row["article_id"] in pq.read_table(p, columns=["article_id"]).column(0).to_pylist()]
    _damage(damaged, how)
    return out, damaged, row["article_id"]


def assert_names_the_damaged_file(proc, damaged, what_to_do):
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert str(damaged) in line and what_to_do in line, line
    assert proc.stdout == ""


@pytest.mark.parametrize("how", ["truncated", "garbage", "garbage inside", "missing"])
def test_report_names_a_damaged_data_file_and_how_to_mend_it(seeds_out, tmp_path, how):
    out, damaged, _ = _damaged_copy(seeds_out, tmp_path, how)
    proc = newsbeam("report", str(out), "--html", str(tmp_path / "r.html"))
    assert_names_the_damaged_file(proc, damaged, "rerun the run that wrote it")
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("how", ["truncated", "garbage", "garbage inside", "missing"])
def test_show_names_a_damaged_data_file_and_how_to_mend_it(seeds_out, tmp_path, how):
    out, damaged, article_id = _damaged_copy(seeds_out, tmp_path, how)
    proc = newsbeam("show", str(out), article_id)
    assert_names_the_damaged_file(proc, damaged, "rerun the run that wrote it")


def test_a_damaged_file_of_a_lake_names_its_date_and_other_dates_still_report(tmp_path):
    lake = tmp_path / "lake"
    assert run_dated(write_pages(tmp_path / "d1", [original(i) for i in range(3)]), lake, D1) == 0
    assert run_dated(write_pages(tmp_path / "d2", [fresh(1), fresh(2)]), lake, D2) == 0  # no copy of D1's articles
    (damaged,) = lake.glob(f"articles/dt={D1}/**/*.parquet")
    _damage(damaged, "truncated")
    proc = newsbeam("report", str(lake), "--html", str(tmp_path / "r.html"))
    assert_names_the_damaged_file(proc, damaged, f"rerun date {D1}")
    (intact,) = lake.glob(f"articles/dt={D2}/**/*.parquet")
    proc = newsbeam("show", str(lake), pq.read_table(intact).column("article_id")[0].as_py())
    assert_names_the_damaged_file(proc, damaged, f"rerun date {D1}")  # show looks an id up in every date
    later = newsbeam("report", str(lake), "--from", D2, "--html", str(tmp_path / "d2.html"))
    assert later.returncode == 0 and "articles 2, duplicates 0" in later.stdout  # D1's files are not read
    assert run_dated(tmp_path / "d1", lake, D1) == 0  # what the message says to do mends the lake
    assert "articles 5, duplicates 0" in newsbeam("report", str(lake), "--html", str(tmp_path / "r.html")).stdout


def test_a_damaged_file_on_an_object_store_is_named_by_its_url(seeds_out, tmp_path):
    from benchmarks.servers.object_stores import s3_server

    out, damaged, article_id = _damaged_copy(seeds_out, tmp_path, "truncated")

    def key(prefix, path):
        return f"{prefix}/{path.relative_to(out).as_posix()}"

    with s3_server() as s3:
        s3.make_bucket("news")
        for path in out.rglob("*"):
            if path.is_file():
                s3.put("news", key("cut", path), path.read_bytes())  # the file cut short
                if path != damaged:
                    s3.put("news", key("gone", path), path.read_bytes())  # the file deleted

        def command(*args):
            return subprocess.run([NEWSBEAM, *args, *s3.beam_args], capture_output=True, text=True, timeout=600,
                                  env={**os.environ, **s3.env})

        proc = command("report", "s3://news/cut", "--html", str(tmp_path / "r.html"))
        assert_names_the_damaged_file(proc, "s3://news/" + key("cut", damaged), "rerun the run that wrote it")
        proc = command("show", "s3://news/gone", article_id)
        assert_names_the_damaged_file(proc, "s3://news/" + key("gone", damaged), "rerun the run that wrote it")
        assert "is missing" in proc.stderr


def test_an_error_that_no_file_explains_is_not_called_damage(seeds_out):
    """A failed query over intact files (a bug) keeps DuckDB's own error."""
    import duckdb

    from pipelines.report import naming_damaged_files, report_files, scan

    files, _ = report_files(str(seeds_out), None, None)
    with pytest.raises(duckdb.BinderException, match="no_such_column"):
        with naming_damaged_files(files, str(seeds_out)):
            duckdb.sql(f"SELECT no_such_column FROM {scan(files, 'articles')}").fetchall()


def test_a_damaged_table_log_is_named_without_a_traceback(seeds_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(seeds_out, out)
    row = _rotterdam(out)
    damaged = max((out / "articles" / "_delta_log").glob("*.json"))  # the newest commit, cut short
    damaged.write_bytes(damaged.read_bytes()[:40])
    for proc in (newsbeam("report", str(out), "--html", str(tmp_path / "r.html")),
                 newsbeam("show", str(out), row["article_id"])):
        assert_names_the_damaged_file(proc, damaged, "delete it")
