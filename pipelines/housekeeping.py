"""``newsbeam vacuum OUT``, ``newsbeam optimize OUT`` and ``newsbeam migrate OUT``: Delta Lake's own housekeeping, on every
table of a newsbeam lake.

* ``vacuum`` deletes, inside each table's folder, the files its log has removed (replaced dates,
  files ``optimize`` merged) or never added (runs that died before their commit), once they are
  older than ``--retain-hours`` (168, Delta's default). Nothing else is ever deleted: no file outside
  a table's folder, no file a table's current version names.
* ``optimize`` compacts a date's small files (``--date``), or every date's, into fewer large ones: a
  year of daily runs by language makes thousands of small files, which slow every reader.

Both refuse an output that is not a newsbeam lake (exit 2, nothing touched). ``migrate`` turns an
output of the layout before Delta tables (``_newsbeam/current.json``) into Delta tables over the
same files.
"""
from __future__ import annotations

import sys
from typing import Optional, Sequence

from pipelines.options import EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, Parser, date_arg


def _open(args_output: str, beam_args: Sequence[str]) -> str:
    from pipelines.report import open_output

    return open_output(args_output, beam_args, "OUTPUT")


def vacuum_main(argv: Optional[Sequence[str]] = None) -> int:
    from transforms.io import lake

    parser = Parser(prog="newsbeam vacuum", allow_abbrev=False,
                    description="Delete the files no table of the lake names any more, after a retention.")
    parser.add_argument("output", help="a newsbeam lake (folder, s3://, gs://)")
    parser.add_argument("--retain-hours", type=float, default=lake.DEFAULT_RETAIN_HOURS,
                        help="keep files removed (or written by a run that never committed) less than this many "
                             f"hours ago: runs still writing, and time travel to recent versions (default "
                             f"{lake.DEFAULT_RETAIN_HOURS:g})")
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")
    try:
        args, beam_args = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
        if args.retain_hours < 0:
            raise ValueError(f"--retain-hours must be 0 or more, got {args.retain_hours:g}")
        output = _open(args.output, beam_args)
        deleted = lake.vacuum(output, args.retain_hours, args.dry_run)
    except ValueError as exc:
        print(f"newsbeam vacuum: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # pylint: disable=broad-except  (a store, a damaged log: one line)
        print(f"newsbeam vacuum: error: {' '.join(str(exc).split())[:500]}", file=sys.stderr)
        return EXIT_RUN_FAILED
    verb = "would delete" if args.dry_run else "deleted"
    for name, paths in deleted.items():
        for path in paths:
            print(f"{name}: {path}")
    total = sum(len(paths) for paths in deleted.values())
    print(f"newsbeam vacuum: {verb} {total} file(s) older than {args.retain_hours:g} h that no table names "
          f"({', '.join(f'{n} {len(p)}' for n, p in deleted.items())})", file=sys.stderr)
    return EXIT_OK


def optimize_main(argv: Optional[Sequence[str]] = None) -> int:
    from transforms.io import lake

    parser = Parser(prog="newsbeam optimize", allow_abbrev=False,
                    description="Compact small files of the lake's tables (one date, or all).")
    parser.add_argument("output", help="a newsbeam lake (folder, s3://, gs://)")
    parser.add_argument("--date", type=date_arg, metavar="YYYY-MM-DD", help="only this date (default: every date)")
    try:
        args, beam_args = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
        output = _open(args.output, beam_args)
        day = args.date.isoformat() if args.date else None
        if day and day not in lake.current_state(output)["dates"]:
            raise ValueError(f"{output} holds no date {day}")
        counts = lake.optimize(output, day)
    except ValueError as exc:
        print(f"newsbeam optimize: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # pylint: disable=broad-except
        print(f"newsbeam optimize: error: {' '.join(str(exc).split())[:500]}", file=sys.stderr)
        return EXIT_RUN_FAILED
    for name, (before, after) in counts.items():
        print(f"{name}: {before} -> {after} files")
    print(f"newsbeam optimize: {sum(b for b, _ in counts.values())} -> {sum(a for _, a in counts.values())} files"
          f"{' of ' + day if day else ''}; the replaced files stay until newsbeam vacuum", file=sys.stderr)
    return EXIT_OK


def migrate_main(argv: Optional[Sequence[str]] = None) -> int:
    """``newsbeam migrate OUT``: an output of the layout before Delta tables becomes Delta tables
    over the same files (nothing rewritten; the old commit log is deleted once every table is committed)."""
    from transforms.io import lake, store

    parser = Parser(prog="newsbeam migrate", allow_abbrev=False,
                    description="Turn an output of newsbeam's old layout (_newsbeam/current.json) into Delta tables.")
    parser.add_argument("output", help="an output of the old layout (folder, s3://, gs://)")
    try:
        args, beam_args = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
        from apache_beam.options.pipeline_options import PipelineOptions

        from pipelines.options import refuse_unknown

        refuse_unknown(beam_args, "newsbeam migrate")
        store.use_options(PipelineOptions(list(beam_args)))
        output = store.check_path(args.output, "OUTPUT")
        if not lake.is_old_layout(output):
            raise ValueError(f"{output} holds no {lake.OLD_LAYOUT}/current.json: it is not an output of the old "
                             "layout" + (" (it is a lake of Delta tables already)" if lake.is_newsbeam_output(output)
                                         else ""))
        from transforms.io.rows import CORE_TABLES, TABLES

        found = lake.migrate(output, {name: TABLES[name].schema for name in (*CORE_TABLES, "dedupe_index")})
    except ValueError as exc:
        print(f"newsbeam migrate: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # pylint: disable=broad-except
        print(f"newsbeam migrate: error: {' '.join(str(exc).split())[:500]}; run it again once mended (tables "
              "already committed are not committed twice)", file=sys.stderr)
        return EXIT_RUN_FAILED
    print(f"newsbeam migrate: {output} is Delta tables now: "
          + ", ".join(f"{name} {count} file(s)" for name, count in found.items())
          + "; files its old state did not name are left for newsbeam vacuum", file=sys.stderr)
    return EXIT_OK
