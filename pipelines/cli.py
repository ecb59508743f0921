"""The ``newsbeam`` command: ``newsbeam run [flags]`` runs the articles job; ``newsbeam files OUTPUT``
lists the files that make up an output now; vacuum and optimize keep a lake's tables tidy."""
from __future__ import annotations

import logging
import sys
from typing import Optional, Sequence

USAGE = """usage: newsbeam run [--input PATH ...] [--output DIR] [options] [Beam pipeline flags]
       newsbeam backfill --from YYYY-MM-DD --to YYYY-MM-DD --input 'TEMPLATE{date}' --output LAKE [run flags]
       newsbeam files OUTPUT [--table NAME] [Beam file-system flags such as --s3_endpoint_url]
       newsbeam report OUTPUT [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--html PATH]
       newsbeam show OUTPUT ARTICLE_ID
       newsbeam vacuum LAKE [--retain-hours H] [--dry-run]
       newsbeam optimize LAKE [--date YYYY-MM-DD]
       newsbeam migrate OUTPUT

commands:
  run       read raw news page text, dedupe, clean, detect language, extract entities, write Parquet
            ('newsbeam run --help' lists the options; --date D writes date D of a lake)
  backfill  run each date of a range into one lake, oldest first: {date} in --input becomes the
            date, other flags are those of run
  files     print the data files that make up OUTPUT's tables now (from their Delta logs), one per
            line: what a reader should read, never a mix of two runs
  report    summarise OUTPUT (or dates of a lake) and write an HTML page with charts
  show      one article: its page text with the removed lines and their reasons, its entities
            and its duplicates
  vacuum    delete the files no table names any more (replaced dates, runs that died), once older
            than --retain-hours (168); Delta Lake's vacuum on every table
  optimize  compact the small files of a date (or every date) of every table; Delta's optimize
  migrate   turn an output of newsbeam's layout before Delta tables (_newsbeam/) into Delta tables
"""


def files_main(argv: Sequence[str]) -> int:
    from pipelines.options import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, Parser, refuse_unknown
    from pipelines.report import open_output
    from transforms.io import lake

    parser = Parser(prog="newsbeam files")
    parser.add_argument("output")
    parser.add_argument("--table", help="one table (articles, entities, duplicates, rejected, removed_lines)")
    try:
        args, beam_args = parser.parse_known_args(argv)
        refuse_unknown(beam_args, "newsbeam files")
        output = open_output(args.output, beam_args, "OUTPUT")
        paths = lake.current_files(output, args.table)
    except ValueError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except lake.DamagedOutput as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILED
    for path in paths:
        print(path)
    return EXIT_OK


def quiet_known_import_noise() -> None:
    """Beam warns on import that optional GCP client libraries are missing; newsbeam never uses them."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: "apitools not found" not in record.getMessage())
    logging.getLogger("newsbeam").setLevel(logging.INFO)  # progress lines, see transforms/progress.py


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run":
        quiet_known_import_noise()
        from pipelines import articles

        return articles.main(rest)
    if command == "backfill":
        quiet_known_import_noise()
        from pipelines import backfill

        return backfill.main(rest)
    if command in ("report", "show"):
        quiet_known_import_noise()
        module = __import__(f"pipelines.{command}", fromlist=["main"])
        return module.main(rest)
    if command in ("vacuum", "optimize", "migrate"):
        quiet_known_import_noise()
        from pipelines import housekeeping

        return getattr(housekeeping, f"{command}_main")(rest)
    if command == "files":
        quiet_known_import_noise()
        return files_main(rest)
    print(f"newsbeam: unknown command {command!r}\n{USAGE}", file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main())
