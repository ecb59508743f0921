"""``newsbeam report OUT``: what a run (or a range of dates of a lake) produced, as text and as one
self-contained HTML page with charts.

Everything is computed with DuckDB (in UTC) from the Parquet files that make up the output's Delta
tables now (those their logs name: never a file of a run in progress or of a replaced date). Files on an object store
are copied to a temporary folder first (only the tables and dates the report needs), removed after.
A data file that cannot be read (cut short, overwritten, deleted) stops the report with one line
naming it and the run or date to rerun (exit 3), found by reading each file again when DuckDB's error
does not name it.

The HTML page carries its numbers as JSON and draws its charts with a few lines of inline
JavaScript into SVG: no network, no library; it opens from a file, a mail attachment or an
artifact store alike. Every bar carries ``data-key`` and ``data-value`` so that a test (or a
curious reader) can check what was drawn.
"""
from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import sys
import tempfile
from typing import Iterator, Optional, Sequence

from pipelines.options import Parser, date_arg

TOP = 10
SIZE_BUCKETS = ((2, 2, "2"), (3, 3, "3"), (4, 5, "4-5"), (6, 10, "6-10"), (11, None, "11+"))
# spaCy labels grouped into the types a reader expects (the English model's OntoNotes labels and the
# French model's CoNLL-style labels). Dates, times, numbers and amounts are not listed: not names.
ENTITY_TYPES = {"PERSON": "person", "PER": "person", "ORG": "organisation", "GPE": "place", "LOC": "place",
                "FAC": "place", "NORP": "group", "EVENT": "event", "PRODUCT": "other", "WORK_OF_ART": "other",
                "LAW": "other", "LANGUAGE": "other", "MISC": "other"}


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newsbeam report", allow_abbrev=False,
                     description="Summarise an output (or dates of a lake) and write an HTML page with charts.")
    parser.add_argument("output", help="a newsbeam output or lake (folder, s3://, gs://)")
    parser.add_argument("--from", dest="first", type=date_arg, metavar="YYYY-MM-DD", help="first date of a lake")
    parser.add_argument("--to", dest="last", type=date_arg, metavar="YYYY-MM-DD", help="last date of a lake")
    parser.add_argument("--html", default="newsbeam-report.html",
                        help="where to write the HTML page (default: newsbeam-report.html here)")
    return parser


# --------------------------------------------------------------------------------------
# The files and the numbers

TABLES = ("articles", "entities", "duplicates", "rejected", "removed_lines")


class DamagedFile(RuntimeError):
    """A data file of the output cannot be read: the message names it and how to write it again."""


def damaged(output: str, rel: str, fault: str) -> DamagedFile:
    """The error for the data file ``rel`` (below ``output``) that ``fault`` ('is missing', 'is
    damaged (...)'), with the rerun that writes it again: its date in a lake, else the whole output."""
    from transforms.io import lake, store

    date = re.match(r"[^/]+/dt=([^/]+)/", rel)
    if date:
        mend = (f"rerun date {date.group(1)} to write that date's files again (newsbeam run --date {date.group(1)} "
                f"--output {output} with that date's input; the run says when later dates must be rerun with it)")
    else:
        run = lake.run_of_part(rel)
        mend = (f"rerun the run that wrote it to write the output again ({'run ' + run + ': ' if run else ''}"
                f"newsbeam run --output {output} with the same input)")
    return DamagedFile(f"{store.join(output, rel)} {fault}; {mend}")


def report_files(output: str, first: Optional[str], last: Optional[str], workdir: Optional[str] = None,
                 tables: Sequence[str] = TABLES) -> tuple[dict[str, list[str]], list[str]]:
    """({table: local paths of its current files within the dates}, dates covered), for ``tables``
    only; files on an object store are copied into ``workdir`` (a temporary folder the caller
    removes)."""
    from transforms.io import lake, store

    state = lake.current_state(output)
    dates = [d for d in state.get("dates", []) if (not first or d >= first) and (not last or d <= last)]
    if (first or last) and not state.get("dates"):
        raise ValueError(f"{output} is not a lake of dates (it was written without --date): drop --from/--to")
    if (first or last) and not dates:
        raise ValueError(f"{output} holds no date from {first or 'the first'} to {last or 'the last'} "
                         f"(it holds {', '.join(state['dates'][:3])}{' ...' if len(state['dates']) > 3 else ''})")
    local = store.is_local(output)
    if not local and workdir is None:
        raise ValueError("a temporary folder is needed to read an object store")
    files: dict[str, list[str]] = {}
    for table, entries in state["tables"].items():
        if table not in tables:
            continue
        for entry in entries:
            if entry.get("dt") and entry["dt"] not in dates:
                continue
            path = store.join(output, entry["path"])
            if not local:
                target = os.path.join(workdir, entry["path"])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                try:
                    data = store.read_bytes(path)
                except Exception:  # pylint: disable=broad-except  (each store raises its own "not found")
                    if store.exists(path):
                        raise  # there, but the store failed: not the output's fault
                    raise damaged(output, entry["path"], "is missing") from None
                with open(target, "wb") as handle:
                    handle.write(data)
                path = target
            files.setdefault(table, []).append(path)
    return files, dates


def scan(files: dict[str, list[str]], table: str) -> Optional[str]:
    """A DuckDB table expression over a table's files (None when the output has none), with ``dt``
    (a string, NULL for an undated file) and, for articles, ``language`` taken from the partition
    folders below the table only (never from folders above the output)."""
    paths = files.get(table)
    if not paths:
        return None
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths)
    extra = ", regexp_extract(filename, '.*/language=([^/]+)/', 1) AS language" if table == "articles" else ""
    return (f"(SELECT * EXCLUDE (filename), nullif(regexp_extract(filename, '.*/{table}/dt=([^/]+)/', 1), '') AS dt"
            f"{extra} FROM read_parquet([{listed}], hive_partitioning = false, union_by_name = true, "
            f"filename = true))")


def parquet_fault(path: str) -> Optional[str]:
    """Why the local Parquet file ``path`` cannot be read whole ('is missing', 'is damaged (...)'),
    or None when its footer and every row group read."""
    import pyarrow
    import pyarrow.parquet as pq

    if not os.path.exists(path):
        return "is missing"
    try:
        with pq.ParquetFile(path) as parquet:
            for group in range(parquet.num_row_groups):
                parquet.read_row_group(group)
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        return f"is damaged ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
    return None


@contextlib.contextmanager
def naming_damaged_files(files: dict[str, list[str]], output: str, workdir: Optional[str] = None) -> Iterator[None]:
    """Turn DuckDB's error over ``files`` (local paths; copies in ``workdir`` for an object store)
    into :class:`DamagedFile` naming the file of ``output`` that cannot be read: the files the error
    names are checked first, then every other one (DuckDB does not always name it). An error that no
    file explains (a bug, not damage) goes on as it was."""
    import duckdb

    from transforms.io import store

    try:
        yield
    except duckdb.Error as exc:
        paths = [path for table in files.values() for path in table]
        named = [path for path in paths if path in str(exc)]
        for path in named + [path for path in paths if path not in named]:
            fault = parquet_fault(path)
            if fault:
                break
        else:
            if len(named) != 1:
                raise
            path, fault = named[0], f"is damaged ({' '.join(str(exc).split())[:120]})"  # seen by DuckDB only
        copied = bool(workdir) and path.startswith(os.path.join(workdir, ""))
        rel = os.path.relpath(path, workdir).replace(os.sep, "/") if copied else store.relative(output, path)
        raise damaged(output, rel, fault) from None


def has_column(con, relation: Optional[str], column: str) -> bool:
    return bool(relation) and column in [d[0] for d in con.execute(f"SELECT * FROM {relation} LIMIT 0").description]


def compute(files: dict[str, list[str]], lake: bool) -> dict:
    """Every number of the report, as plain lists and dicts."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # published_at is UTC: days are UTC days, on any machine
    articles, duplicates = scan(files, "articles"), scan(files, "duplicates")
    rejected, entities, removed = scan(files, "rejected"), scan(files, "entities"), scan(files, "removed_lines")

    def rows(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    data: dict = {"lake": lake}
    day = ("coalesce(dt, 'undated')" if lake else
           "coalesce(CAST(CAST(published_at AS DATE) AS VARCHAR), 'undated')")
    data["totals"] = {
        "articles": rows(f"SELECT count(*) FROM {articles}")[0][0] if articles else 0,
        "duplicates": rows(f"SELECT count(*) FROM {duplicates}")[0][0] if duplicates else 0,
        "rejected": rows(f"SELECT count(*) FROM {rejected}")[0][0] if rejected else 0,
        "entities": rows(f"SELECT count(*) FROM {entities}")[0][0] if entities else 0,
    }
    if articles:
        data["by_language"] = rows(f"SELECT language, count(*) n FROM {articles} GROUP BY 1 ORDER BY n DESC, 1")
        data["by_source"] = rows(f"SELECT coalesce(source, '(none)'), count(*) n FROM {articles} "
                                 f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP}")
        data["per_day"] = rows(f"SELECT {day} d, language, count(*) FROM {articles} GROUP BY 1, 2 ORDER BY 1, 2")
        # Every page of a story: the article, and each copy that names it (in its own run or on a
        # later date of the range; the article's date tells two articles of one id apart).
        outlet = "coalesce(source, nullif(regexp_extract(url, '^[A-Za-z]+://([^/?#]+)', 1), ''), source_file)"
        story_dt = "coalesce(duplicate_of_dt, dt)" if has_column(con, duplicates, "duplicate_of_dt") else "dt"
        pages = (f"(SELECT article_id AS story, dt AS story_dt, {outlet} AS outlet FROM {articles}"
                 + (f" UNION ALL SELECT duplicate_of, {story_dt}, {outlet} FROM {duplicates}" if duplicates else "")
                 + ")")
        con.execute(f"CREATE TEMP TABLE stories AS SELECT a.article_id, coalesce(a.title, '(no title)') AS title, "
                    f"count(*) AS pages, count(DISTINCT p.outlet) AS outlets FROM {articles} a JOIN {pages} p "
                    f"ON p.story = a.article_id AND p.story_dt IS NOT DISTINCT FROM a.dt GROUP BY 1, 2")
        buckets = " ".join(f"WHEN pages BETWEEN {lo} AND {hi if hi else 2**62} THEN '{label}'"
                           for lo, hi, label in SIZE_BUCKETS)
        sizes = dict(rows(f"SELECT CASE {buckets} END b, count(*) FROM stories WHERE pages > 1 GROUP BY 1"))
        data["cluster_sizes"] = [(label, sizes.get(label, 0)) for _, _, label in SIZE_BUCKETS]
        data["syndicated"] = rows(f"SELECT article_id, title, pages, outlets FROM stories WHERE pages > 1 "
                                  f"ORDER BY outlets DESC, pages DESC, title, article_id LIMIT {TOP}")
    if duplicates:
        data["duplicates_by_method"] = rows(f"SELECT method, reason, count(*) n FROM {duplicates} "
                                            "GROUP BY 1, 2 ORDER BY n DESC, 1, 2")
    if rejected:
        data["rejected_by_reason"] = rows(f"SELECT stage || '.' || reason, count(*) n FROM {rejected} "
                                          "GROUP BY 1 ORDER BY n DESC, 1")
    data["removed_by_reason"] = rows(f"SELECT reason, count(*) n FROM {removed} GROUP BY 1 ORDER BY n DESC, 1") \
        if removed else None
    if entities:
        top = rows(f"SELECT label, text, sum(mentions) m, count(DISTINCT article_id) a FROM {entities} "
                   "GROUP BY 1, 2 ORDER BY m DESC, a DESC, 2, 1")
        by_type: dict[str, list] = {}
        named = [row for row in top if row[0] in ENTITY_TYPES]  # not dates, numbers, amounts
        for label, text, mentions, count in named:
            kind = ENTITY_TYPES[label]
            if len(by_type.setdefault(kind, [])) < TOP:
                by_type[kind].append((text, label, mentions, count))
        data["entities_by_type"] = by_type
        data["top_entities"] = [(f"{text} ({label})", mentions) for label, text, mentions, _ in named[:15]]
    return data


# --------------------------------------------------------------------------------------
# Text

def _pairs(items, limit=None) -> str:
    items = list(items)[:limit] if limit else list(items)
    return ", ".join(f"{k} {v:,}" for k, v in items) or "none"


def summary_text(data: dict, output: str, dates: list[str]) -> str:
    t = data["totals"]
    span = f"dates {dates[0]} to {dates[-1]} ({len(dates)})" if dates else "the whole output"
    lines = [f"newsbeam report: {output}, {span}",
             f"articles {t['articles']:,}, duplicates {t['duplicates']:,}, rejected {t['rejected']:,}, "
             f"entity rows {t['entities']:,}",
             f"articles by language: {_pairs(data.get('by_language', []))}",
             f"articles by source (top {TOP}): {_pairs(data.get('by_source', []))}"]
    sizes = data.get("cluster_sizes", [])
    lines.append(f"duplicate clusters: {sum(n for _, n in sizes):,} articles with copies; by size "
                 f"(article + copies): {_pairs(sizes)}")
    if data.get("duplicates_by_method"):
        lines.append("duplicates by method: " + ", ".join(f"{m}/{r} {n:,}" for m, r, n in data["duplicates_by_method"]))
    lines.append(f"most syndicated stories (top {TOP}):")
    for _, title, pages, outlets in data.get("syndicated", []):
        lines.append(f"  {pages} pages, {outlets} outlet(s): {title}")
    if not data.get("syndicated"):
        lines.append("  none")
    lines.append(f"rejected by reason: {_pairs(data.get('rejected_by_reason', []))}")
    removed = data.get("removed_by_reason")
    lines.append("removed lines by reason: " + (_pairs(removed) if removed is not None else
                                                "not kept (run with --keep-removed-lines)"))
    lines.append("top entities by type:")
    for kind, items in sorted((data.get("entities_by_type") or {}).items()):
        lines.append(f"  {kind}: " + ", ".join(f"{text} ({mentions})" for text, _, mentions, _ in items))
    if not data.get("entities_by_type"):
        lines.append("  none")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# HTML

def charts(data: dict) -> list[dict]:
    """The charts of the page: id, title, kind and series (bars as [key, value])."""
    per_day = data.get("per_day", [])
    days = sorted({d for d, _, _ in per_day})
    languages = sorted({lang for _, lang, _ in per_day})
    stacked = [{"key": d, "parts": [[lang, n] for dd, lang, n in per_day if dd == d]} for d in days]
    return [
        {"id": "articles-per-day", "title": "Articles per " + ("date" if data["lake"] else "publication day")
         + " and language", "kind": "stacked", "bars": stacked, "legend": languages},
        {"id": "top-entities", "title": "Top entities (mentions)", "kind": "bars",
         "bars": [[k, v] for k, v in data.get("top_entities", [])]},
        {"id": "cluster-sizes", "title": "Duplicate clusters by size (article + copies)", "kind": "bars",
         "bars": [[k, v] for k, v in data.get("cluster_sizes", [])]},
        {"id": "rejections", "title": "Rejected records by stage and reason", "kind": "bars",
         "bars": [[k, v] for k, v in data.get("rejected_by_reason", [])]},
    ]


_SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var colours = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5',
                 '#9c6b4e', '#9498a0'];
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  data.charts.forEach(function (chart) {
    var holder = document.getElementById(chart.id);
    var rows = chart.bars.length;
    if (!rows) { holder.appendChild(document.createTextNode('nothing to show')); return; }
    var labelWidth = 260, width = 760, barArea = width - labelWidth - 70, rowHeight = 22;
    var svg = el('svg', {width: width, height: rows * rowHeight + 10, 'data-chart': chart.id, role: 'img'});
    var total = function (bar) {
      return chart.kind === 'stacked' ? bar.parts.reduce(function (s, p) { return s + p[1]; }, 0) : bar[1];
    };
    var max = Math.max.apply(null, chart.bars.map(total)) || 1;
    chart.bars.forEach(function (bar, i) {
      var y = 5 + i * rowHeight, key = chart.kind === 'stacked' ? bar.key : bar[0];
      var label = key.length > 38 ? key.slice(0, 37) + '\u2026' : key;
      svg.appendChild(el('text', {x: labelWidth - 6, y: y + 15, 'text-anchor': 'end', class: 'label'}, label));
      var parts = chart.kind === 'stacked' ? bar.parts : [[null, bar[1]]], x = labelWidth;
      parts.forEach(function (part) {
        var w = part[1] > 0 ? Math.max(1, Math.round(part[1] / max * barArea)) : 0;
        var colour = part[0] === null ? colours[0] : colours[chart.legend.indexOf(part[0]) % colours.length];
        var rect = el('rect', {x: x, y: y, width: w, height: rowHeight - 6, fill: colour, class: 'bar',
                               'data-key': part[0] === null ? key : key + '|' + part[0], 'data-value': part[1]});
        rect.appendChild(el('title', {}, (part[0] === null ? key : key + ', ' + part[0]) + ': ' + part[1]));
        svg.appendChild(rect);
        x += w;
      });
      svg.appendChild(el('text', {x: x + 6, y: y + 15, class: 'value'}, String(total(bar))));
    });
    holder.appendChild(svg);
    if (chart.legend && chart.legend.length) {
      var legend = document.createElement('p');
      legend.className = 'legend';
      chart.legend.forEach(function (name, i) {
        var swatch = document.createElement('span');
        swatch.style.background = colours[i % colours.length];
        legend.appendChild(swatch);
        legend.appendChild(document.createTextNode(name + ' '));
      });
      holder.appendChild(legend);
    }
    holder.setAttribute('data-rendered', 'true');
  });
  document.body.setAttribute('data-rendered', 'true');
})();
"""

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 800px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
pre { background: #f6f6f6; padding: 1em; white-space: pre-wrap; font-size: 12px; }
svg text { font-size: 12px; fill: #333; } .legend span { display: inline-block; width: 10px; height: 10px;
margin: 0 4px 0 10px; }
"""


def render_html(data: dict, summary: str, output: str) -> str:
    # "<" escaped: no text of a page (a title, an entity) can end or comment out the script element
    payload = json.dumps({"charts": charts(data)}, ensure_ascii=False).replace("<", "\\u003c")
    sections = "\n".join(f'<h2>{html.escape(c["title"])}</h2>\n<div class="chart" id="{c["id"]}"></div>'
                         for c in charts(data))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>newsbeam report: {html.escape(output)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>newsbeam report</h1>
<pre id="summary">{html.escape(summary)}</pre>
{sections}
<script id="report-data" type="application/json">{payload}</script>
<script>{_SCRIPT}</script>
</body></html>
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """0: the summary printed and the page written; 2: a usage error (flags, not an output, no such
    dates, the page cannot be written); 3: a file of the output (data or bookkeeping) cannot be read."""
    from transforms.io.lake import DamagedOutput

    argv = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="newsbeam-report-") as workdir:
        try:
            args, beam_args = make_parser().parse_known_args(argv)
            output = open_output(args.output, beam_args, "OUTPUT")
            files, dates = report_files(output, args.first and args.first.isoformat(),
                                        args.last and args.last.isoformat(), workdir)
        except ValueError as exc:
            print(f"newsbeam report: error: {exc}", file=sys.stderr)
            return 2
        except (DamagedFile, DamagedOutput) as exc:
            print(f"newsbeam report: error: {exc}", file=sys.stderr)
            return 3
        try:
            with naming_damaged_files(files, output, workdir):
                data = compute(files, lake=bool(dates))
        except DamagedFile as exc:
            print(f"newsbeam report: error: {exc}", file=sys.stderr)
            return 3
    summary = summary_text(data, output, dates)
    try:
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(render_html(data, summary, output))
    except OSError as exc:
        print(summary)
        print(f"newsbeam report: error: cannot write the HTML page to {args.html}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    print(summary)
    print(f"HTML report: {os.path.abspath(args.html)}")
    return 0


def open_output(path: str, beam_args: Sequence[str], name: str) -> str:
    """The checked output path, its store's flags (--s3_*) handed to Beam's file systems; a flag
    that is neither ours nor Beam's is refused (a typo such as --form would otherwise be dropped)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.options import unknown_flags
    from transforms.io import lake, store

    unknown = unknown_flags(beam_args)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}")
    store.use_options(PipelineOptions(list(beam_args)))
    output = store.check_path(path, name)
    if lake.is_old_layout(output):
        raise ValueError(f"{output} is a newsbeam output of the layout before Delta Lake tables (it has "
                         f"{lake.OLD_LAYOUT}/): convert it first with: newsbeam migrate {output}")
    if not lake.is_newsbeam_output(output):
        raise ValueError(f"{output} is not a newsbeam lake (a lake's {lake.MARKER_TABLE}/ is a Delta table named "
                         f"{lake.table_name(lake.MARKER_TABLE)}); nothing was touched")
    return output
