"""``newsbeam backfill``: run a range of dates into one lake, oldest first.

    newsbeam backfill --from 2025-03-01 --to 2025-03-31 --input 's3://raw/dt={date}/' --output s3://lake [flags]

Each date is an ordinary dated run (``newsbeam run --input ... --output LAKE --date D``) with every
other flag passed through; ``{date}`` in an ``--input`` becomes the date. Dates run in order, so each
one matches its copies against the dates before it (``--dedupe-days``). The first date that fails
stops the backfill (later dates would otherwise miss its articles as history); the message names
the command that resumes from it. Exit code: that of the first failed run, else 0 (1 when a run's
counts did not reconcile).
"""
from __future__ import annotations

import argparse
import datetime
import shlex
import sys
from typing import Optional, Sequence

from pipelines import options
from pipelines.options import Parser, date_arg

MAX_DATES = 3660


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="newsbeam backfill", description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--from", dest="first", type=date_arg, required=True, metavar="YYYY-MM-DD",
                        help="first date to run")
    parser.add_argument("--to", dest="last", type=date_arg, required=True, metavar="YYYY-MM-DD",
                        help="last date to run (inclusive)")
    parser.add_argument("--input", nargs="+", action="extend", required=True, metavar="TEMPLATE",
                        help="input paths with {date} where the date goes, e.g. 's3://raw/dt={date}/'")
    parser.add_argument("--output", required=True, help="the lake (a folder or an object-store prefix)")
    return parser


def dates_between(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    days = (last - first).days + 1
    if days > MAX_DATES:
        raise ValueError(f"{days} dates from {first} to {last}: more than {MAX_DATES}; split the backfill")
    return [first + datetime.timedelta(days=n) for n in range(days)]


def plan(argv: Sequence[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """(date, the `newsbeam run` arguments of that date) in order, and the flags passed through."""
    args, rest = make_parser().parse_known_args(list(argv))
    for flag in ("--date", "--backfill-to"):
        if flag in rest or any(a.startswith(flag + "=") for a in rest):
            raise ValueError(f"{flag} is set per run by backfill; give --from and --to")
    if not any("{date}" in template for template in args.input):
        raise ValueError("no --input holds {date}: every date would read the same input; write where the "
                         "date goes, e.g. --input 'raw/dt={date}/'")
    runs = []
    for day in dates_between(args.first, args.last):
        date = day.isoformat()  # as `newsbeam run` takes it on its command line
        inputs = [template.replace("{date}", date) for template in args.input]
        # --date last: it wins over anything in the flags passed through (an abbreviation such as --dat)
        runs.append((date, ["--input", *inputs, "--output", args.output, *rest, "--backfill-to",
                            args.last.isoformat(), "--date", date]))
    return runs, rest


def main(argv: Optional[Sequence[str]] = None) -> int:
    from pipelines import articles

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        runs, _ = plan(argv)
    except ValueError as exc:
        print(f"newsbeam backfill: error: {exc}", file=sys.stderr)
        return options.EXIT_USAGE
    worst = options.EXIT_OK
    for n, (date, run_args) in enumerate(runs, 1):
        print(f"newsbeam backfill: {date} ({n} of {len(runs)})", file=sys.stderr, flush=True)
        try:
            code = articles.main(run_args)
        except Exception:  # pylint: disable=broad-except  (a fault while building the run: reported like a failed run)
            articles.LOG.exception("the run of %s failed", date)
            code = options.EXIT_RUN_FAILED
        if code == options.EXIT_UNRECONCILED:
            worst = code
            continue
        if code != options.EXIT_OK:
            resume = _with_from(argv, date)
            print(f"newsbeam backfill: {date} failed (exit {code}); dates before it are in the lake, none after it "
                  f"ran. Resume with: newsbeam backfill {shlex.join(resume)}", file=sys.stderr)
            return code
    print(f"newsbeam backfill: {len(runs)} date(s) from {runs[0][0]} to {runs[-1][0]} done", file=sys.stderr)
    return worst


def _with_from(argv: Sequence[str], date: str) -> list[str]:
    """``argv`` with its --from set to ``date``."""
    out, skip = [], False
    for arg in argv:
        if skip:
            out.append(date)
            skip = False
        elif arg == "--from":
            out.append(arg)
            skip = True
        elif arg.startswith("--from="):
            out.append(f"--from={date}")
        else:
            out.append(arg)
    return out
