"""``newsbeam show OUT ARTICLE_ID``: why one article looks the way it does.

Prints the article's row (title, source, language, where it was read), its page text line by line
with each line the cleaner removed marked with its reason code, the entities found, and the
records that were dropped as its copies. Given the id of a dropped copy, it says which article the
copy collapsed into and shows that article.

The page text is read again from the input file and line the article came from (when the file still
holds the same text: its content hash is checked). The removed lines and reasons are those the run
recorded when it ran with ``--keep-removed-lines``; otherwise the page is cleaned again here with the
default settings, without what the run learnt from the source's other pages (lines recurring on
many of them, which also shape where the article starts and ends), so some lines may differ; the
output says which it shows. In a lake the same id can name articles of two dates (a story back
after ``--dedupe-days``): ``--date`` picks one, else the latest is shown and the others listed. A
data file that cannot be read stops it with one line naming the file, as ``newsbeam report`` does.
"""
from __future__ import annotations

import sys
from collections import Counter
from typing import Optional, Sequence

import duckdb


def _rows(con, files: dict, table: str, where: str, params: list, order: str = "") -> list[dict]:
    from pipelines.report import scan

    if not files.get(table):
        return []
    cursor = con.execute(f"SELECT * FROM {scan(files, table)} WHERE {where} {order}", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def page_record(source_file: str, source_line: Optional[int], content_hash: Optional[str] = None):
    """The validated Article of the input record (file, line), or None with the reason; None too
    when the record there no longer has ``content_hash`` (the file was replaced since the run)."""
    from transforms.io import store
    from transforms.io.formats import read_file
    from transforms.records import RawRecord
    from transforms.validate import validate_record

    try:
        if not store.exists(source_file):
            return None, f"{source_file} is no longer there"
        for item in read_file(source_file):
            if isinstance(item, RawRecord) and item.source_line == source_line:
                article = validate_record(item)
                if not hasattr(article, "text"):
                    return None, "the record there no longer validates with the default limits"
                if content_hash and article.content_hash != content_hash:
                    return None, f"{source_file} has changed since the run"
                return article, None
    except Exception as exc:  # pylint: disable=broad-except  (show what we can)
        return None, f"{source_file} could not be read ({type(exc).__name__}: {exc})"
    return None, f"{source_file} has no record at line {source_line}"


def page_lines(text: str, title_hint: Optional[str], recorded: Optional[list[tuple[str, str]]]):
    """(reason or None, line) for every non-blank line of the page, in order: the reason of each
    removed line from ``recorded`` (the run's removed_lines), else from cleaning the page again."""
    from transforms.clean.rules import clean_page
    from transforms.clean.text import normalise_lines

    removed = recorded if recorded is not None else [(r.text, r.reason) for r in clean_page(text, title_hint).removed]
    pending: dict[str, list[str]] = {}
    for line, reason in removed:
        pending.setdefault(line, []).append(reason)
    out = []
    for line in normalise_lines(text):
        reasons = pending.get(line)
        out.append((reasons.pop(0) if reasons else None, line))
    return out


def _same_date(column: str) -> str:
    return f"{column} IS NOT DISTINCT FROM ?"


def render(con, files: dict, article_id: str, write, date: Optional[str] = None, seen: frozenset = frozenset()) -> bool:
    """Write the article's story; False when the output holds no such article or copy."""
    if article_id in seen:  # a copy whose article is itself only a copy: nothing more to show
        return bool(seen)
    found = _rows(con, files, "articles", "article_id = ?" + (" AND dt = ?" if date else ""),
                  [article_id] + ([date] if date else []), "ORDER BY dt DESC NULLS LAST")
    row = found[0] if found else None
    if row is None:
        copies = _rows(con, files, "duplicates", "article_id = ?" + (" AND dt = ?" if date else ""),
                       [article_id] + ([date] if date else []), "ORDER BY dt DESC NULLS LAST")
        if not copies:
            return bool(seen)
        for copy in copies:
            where = f" of {copy['duplicate_of_dt']}" if copy.get("duplicate_of_dt") else ""
            write(f"{article_id} is a dropped copy ({copy['method']}/{copy['reason']}, similarity "
                  f"{copy['similarity']}) of article {copy['duplicate_of']}{where}, read from "
                  f"{copy['source_file']}{'' if copy['source_line'] is None else ':' + str(copy['source_line'])}.")
        write("")
        first = copies[0]
        return render(con, files, first["duplicate_of"], write, first.get("duplicate_of_dt") or first.get("dt"),
                      seen | {article_id})
    if len(found) > 1:
        write(f"{article_id} names articles of {len(found)} dates ({', '.join(str(r['dt']) for r in found)}); "
              f"showing {row['dt']} (--date picks another)")
    dated = f", date {row['dt']}" if row.get("dt") is not None else ""
    write(f"article {row['article_id']}{dated}")
    write(f"  title:     {row['title']}")
    for label, key in (("source", "source"), ("url", "url"), ("byline", "byline"), ("published", "published_at"),
                       ("language", "language")):
        if row.get(key) is not None:
            write(f"  {label + ':':<10} {row[key]}")
    where = row["source_file"] + ("" if row["source_line"] is None else f":{row['source_line']}")
    write(f"  read from: {where}")
    write(f"  body:      {row['word_count']} words in {row['paragraph_count']} paragraph(s); "
          f"{row['removed_line_count']} page line(s) removed; entities: {row['entity_status']}")
    if row.get("stage_errors"):
        write(f"  faults:    {'; '.join(row['stage_errors'])}")

    write("")
    dt = row.get("dt")
    article, missing = page_record(row["source_file"], row["source_line"], row.get("content_hash"))
    if article is None:
        write(f"page text: not available ({missing}); the cleaned body:")
        for paragraph in row["body"].split("\n\n"):
            write(f"  {paragraph}")
    else:
        kept = [p for p in files.get("removed_lines", []) if dt is None or f"/dt={dt}/" in p]
        recorded = _rows(con, {"removed_lines": kept}, "removed_lines", "article_id = ?", [article_id],
                         "ORDER BY ordinal") if kept else None
        note = ("removed lines as the run recorded them" if recorded is not None else
                "removed lines as cleaning the page again gives them, without what the run learnt from the "
                "source's other pages (run with --keep-removed-lines to record the run's own)")
        write(f"page text ({note}; '-' marks a removed line, its reason in brackets):")
        lines = page_lines(article.text, article.given_title,
                           [(r["text"], r["reason"]) for r in recorded] if recorded is not None else None)
        for reason, line in lines:
            write(f"  - {line}   [{reason}]" if reason else f"    {line}")
        counts = Counter(reason for reason, _ in lines if reason)
        write("  removed: " + (", ".join(f"{k} {v}" for k, v in counts.most_common()) or "nothing"))

    write("")
    entities = _rows(con, files, "entities", "article_id = ? AND " + _same_date("dt"), [article_id, dt],
                     "ORDER BY first_start, label, text")
    write(f"entities ({len(entities)}):" if entities else "entities: none")
    for entity in entities:
        other_forms = [form for form in entity.get("forms") or () if form != entity["text"]]  # none before forms/
        write(f"  {entity['label']:<12} {entity['text']}  x{entity['mentions']}"
              + (f"  (also written: {', '.join(other_forms)})" if other_forms else ""))

    write("")
    copies = _rows(con, files, "duplicates", "duplicate_of = ? AND " + _same_date("coalesce(duplicate_of_dt, dt)"),
                   [article_id, dt], "ORDER BY dt, source_file, source_line")
    write(f"copies dropped as duplicates of it ({len(copies)}):" if copies else "copies: none")
    for copy in copies:
        when = f"{copy['dt']} " if copy.get("dt") is not None else ""
        write(f"  {when}{copy['method']}/{copy['reason']} similarity {copy['similarity']}: "
              f"{copy['source'] or copy['url'] or copy['source_file']} ({copy['article_id']})")
    return True


def main(argv: Optional[Sequence[str]] = None) -> int:
    """0: the article shown; 2: a usage error (flags, not an output, no such article or copy); 3: a
    file of the output (data or bookkeeping) cannot be read (nothing is printed on stdout then)."""
    import tempfile

    from pipelines.options import Parser, date_arg
    from pipelines.report import DamagedFile, naming_damaged_files, open_output, report_files
    from transforms.io.lake import DamagedOutput

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = Parser(prog="newsbeam show", allow_abbrev=False)
    parser.add_argument("output", help="a newsbeam output or lake (folder, s3://, gs://)")
    parser.add_argument("article_id", help="an article_id of articles/ or of duplicates/")
    parser.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD", help="in a lake: the date of the article")
    with tempfile.TemporaryDirectory(prefix="newsbeam-show-") as workdir:
        try:
            args, beam_args = parser.parse_known_args(argv)
            output = open_output(args.output, beam_args, "OUTPUT")
            files, _ = report_files(output, None, None, workdir,
                                    tables=("articles", "entities", "duplicates", "removed_lines"))
        except ValueError as exc:
            print(f"newsbeam show: error: {exc}", file=sys.stderr)
            return 2
        except (DamagedFile, DamagedOutput) as exc:
            print(f"newsbeam show: error: {exc}", file=sys.stderr)
            return 3
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        lines: list[str] = []  # printed once every table has been read: no half story before an error
        try:
            with naming_damaged_files(files, output, workdir):
                found = render(con, files, args.article_id, lines.append, args.date and args.date.isoformat())
        except DamagedFile as exc:
            print(f"newsbeam show: error: {exc}", file=sys.stderr)
            return 3
        if not found:
            where = f" on {args.date}" if args.date else ""
            print(f"newsbeam show: error: {output} holds no article or duplicate with id {args.article_id!r}{where}",
                  file=sys.stderr)
            return 2
    for line in lines:
        print(line)
    return 0
