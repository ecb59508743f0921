"""What every newsbeam command shares on its command line: the parser that raises instead of
exiting, flag types, the check that refuses unknown flags and stray arguments (Beam would drop
them), Beam's options with the runner named, and the exit codes.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import logging
from typing import Optional, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from transforms import config as settings

LOG = logging.getLogger("newsbeam")
# Exit codes of every command: published and the counts reconcile; published, they do not; a usage
# error, nothing run; the run failed or could not start, the previous output untouched.
EXIT_OK, EXIT_UNRECONCILED, EXIT_USAGE, EXIT_RUN_FAILED = 0, 1, 2, 3
# The in-process runner (what DirectRunner uses for batch), named so Beam does not try to fetch Prism.
DEFAULT_RUNNER = "FnApiRunner"


class UsageError(ValueError):
    """A command line newsbeam cannot run: the message says which flag and why."""


class Parser(argparse.ArgumentParser):
    """The parser of every newsbeam command: it raises instead of printing usage and exiting, so
    that the command reports the error (exit 2)."""

    def error(self, message):
        raise UsageError(message)


def date_arg(text: str) -> datetime.date:
    """An argparse type: a calendar date as YYYY-MM-DD (read here, once; a ``datetime.date`` from then on)."""
    try:
        return settings.calendar_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a calendar date as YYYY-MM-DD, got {text!r}") from None


def typed(kind: type, meta: dict):
    """An argparse type that refuses values outside the setting's range, naming that range."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {settings.allowed_range(meta, kind)}, got {text!r}") from None
        if not settings.in_range(value, meta):
            raise argparse.ArgumentTypeError(f"must be {settings.allowed_range(meta, kind)}, got {text}")
        return value
    return convert


# Modules that define pipeline options but that Beam does not import until their runner is used.
_OPTION_MODULES = ("apache_beam.runners.dask.dask_runner", "apache_beam.runners.render",
                   "apache_beam.runners.interactive.interactive_runner")


def register_runner_options(runner: Optional[str] = None) -> None:
    """Import every runner module Beam knows (``StandardOptions.ALL_KNOWN_RUNNERS``), the modules
    above and the module of a runner given by its dotted path, so that the options classes they
    define are registered. A runner whose extras are not installed (Dask) is skipped."""
    modules = {path.rsplit(".", 1)[0] for path in StandardOptions.ALL_KNOWN_RUNNERS}
    modules.update(_OPTION_MODULES)
    if runner and "." in runner:
        modules.add(runner.rsplit(".", 1)[0])
    for module in sorted(modules):
        try:
            importlib.import_module(module)
        except Exception:  # an optional runner whose dependencies are missing defines no usable options
            LOG.debug("runner module %s not importable; its options are unknown", module)


def unknown_flags(beam_args: Sequence[str]) -> list[str]:
    """Flags that neither newsbeam nor any Beam options class knows (typos such as --ouput).

    Beam only logs and drops these; a scheduled job with a mistyped --output would then silently
    write to the default folder, so newsbeam refuses them instead. The parser is Beam's own, as
    ``PipelineOptions.get_all_options`` builds it from every registered options class (its
    ``add_extra_args_fn`` hook hands it over).
    """
    register_runner_options(PipelineOptions(list(beam_args)).view_as(StandardOptions).runner)
    parsers = []
    PipelineOptions([]).get_all_options(add_extra_args_fn=parsers.append)
    _, unknown = parsers[0].parse_known_args(list(beam_args))
    return [flag.split("=", 1)[0] if flag.startswith("-") else flag for flag in unknown]


def refuse_unknown(beam_args: Sequence[str], command: str = "newsbeam run") -> None:
    """Raise :class:`UsageError` for unknown flags and for stray arguments: Beam would only log and
    drop both (``--input=a.jsonl b.jsonl`` would never read b)."""
    unknown = unknown_flags(beam_args)
    flags = [item for item in unknown if item.startswith("-")]
    stray = [item for item in unknown if not item.startswith("-")]
    if flags:
        raise UsageError(f"unknown option(s) {', '.join(flags)}: not a newsbeam flag (see '{command} --help') "
                         "nor an Apache Beam pipeline option")
    if stray:
        raise UsageError(f"stray argument(s) {', '.join(repr(item) for item in stray)}: {command} takes no "
                         "positional arguments; give several inputs as --input A B ...")


# What Beam's in-process runner may be told with --direct_running_mode, and what newsbeam refuses.
_REFUSED_RUNNING_MODES = {
    "multi_threading": "it loses GroupByKey output under load (seen: 199,535 of 200,000 records); use "
                       "--direct_running_mode=multi_processing (with --direct_num_workers N) for parallel local runs",
}


def check_running_mode(options: PipelineOptions) -> None:
    """Refuse a running mode of the in-process runner that is known to lose records."""
    from apache_beam.options.pipeline_options import DirectOptions

    mode = options.view_as(DirectOptions).direct_running_mode
    if mode in _REFUSED_RUNNING_MODES:
        raise UsageError(f"--direct_running_mode={mode} is refused: {_REFUSED_RUNNING_MODES[mode]}")


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options; without --runner, the in-process FnApiRunner is named explicitly.

    (Beam's DirectRunner would first try to download and start Prism, and silently fall back.)
    """
    options = PipelineOptions(list(beam_args))
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = DEFAULT_RUNNER
    return options
