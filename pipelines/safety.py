"""Checks a run passes before anything is written: each refuses a command line that would lose or
mislay records, with a message that says what to type instead (exit 2, nothing written).

* the output inside an input: the next run would read this run's Parquet as articles;
* a dated run into an undated output, or an undated run into a lake of dates: the one would mix
  two kinds of output, the other would delete every date of the lake (``--change-output-kind``
  says it is meant);
* a rerun of a date whose articles later dates' duplicates name: those rows would name articles
  that are gone (``newsbeam backfill`` reruns the later dates too).

:func:`within` bounds the time starting a run may wait on object stores (``--launch-timeout``).
"""
from __future__ import annotations

import datetime
import logging
import os
import threading
from typing import Callable, Iterable, Optional, TypeVar

from transforms.config import RunConfig
from transforms.dedupe import history
from transforms.io import lake, store
from transforms.io.paths import glob_root, has_glob

T = TypeVar("T")


class LaunchFailed(RuntimeError):
    """Starting the run failed on something outside the command line (a store, the lake's state)."""


def _comparable(path: str) -> str:
    """A path as compared for nesting: local paths resolved through links, URLs without a final '/'."""
    if store.is_local(path):
        return os.path.realpath(path)
    return path.rstrip("/")


def _input_root(given: str) -> str:
    """The folder or prefix an --input reads below (a glob's part before its first wildcard)."""
    path = store.check_path(given, "--input")
    if has_glob(given) and not (store.is_local(path) and os.path.exists(path)):
        return glob_root(path)
    return path


def _inside(path: str, root: str) -> bool:
    sep = os.sep if store.is_local(root) else "/"
    return path == root or path.startswith(root.rstrip(sep) + sep)


def check_output_outside_inputs(output: str, inputs: Iterable[str]) -> None:
    """Refuse an output that is an input or lies inside one: its Parquet files would be read back
    as articles by the next run."""
    out = _comparable(output)
    for given in inputs:
        root = _comparable(_input_root(given))
        if _inside(out, root):
            raise ValueError(f"--output {output} is inside --input {given}: the next run would read this run's "
                             "output as input. Write the output outside the input folders.")


def lake_state(output: str) -> Optional[dict]:
    """The output's current state (one read of it, for every check below), or None for a new, empty
    or foreign output."""
    return lake.lake_state(output)


def output_kind(state: Optional[dict]) -> Optional[str]:
    """'dated' (a lake of dates), 'undated' (one whole output) or None (new, empty or foreign)."""
    if state is None:
        return None
    if state.get("dates"):
        return "dated"
    return "undated" if any(state["tables"].values()) else None


def check_lake_kind(config: RunConfig, state: Optional[dict]) -> None:
    """Refuse a dated run into an undated output and an undated run into a lake, unless
    ``--change-output-kind`` says so."""
    kind = output_kind(state)
    if kind is None or config.change_output_kind:
        return
    if kind == "dated" and not config.date:
        dates = state["dates"]
        raise ValueError(
            f"--output {config.output} is a lake of {len(dates)} date(s) ({dates[0]} to {dates[-1]}), and this run has "
            "no --date: it would replace every date of the lake and its dedupe index. Add --date YYYY-MM-DD to write "
            "one date, or --change-output-kind to replace the whole lake with this run.")
    if kind == "undated" and config.date:
        raise ValueError(
            f"--output {config.output} is an undated output (written without --date), and this run has --date "
            f"{config.date}. Write dated runs into a new lake, or add --change-output-kind to replace the undated "
            "output with this date.")


def input_template(inputs: Iterable[str], day: datetime.date) -> str:
    """The --input of a backfill that reads the same inputs for every date: ``day`` as {date}."""
    given, text = list(inputs), day.isoformat()
    if any(text in path for path in given):
        return " ".join(repr(path.replace(text, "{date}")) for path in given)
    return "'RAW{date}'"


def check_rerun(config: RunConfig, state: Optional[dict]) -> None:
    """Refuse to rerun a date of a lake when later dates' duplicates name its articles: the rerun
    may drop or re-id those articles, and the later rows would name nothing. ``newsbeam backfill``
    reruns the date and the later ones (it passes ``--backfill-to``: references from dates up to
    that one are rewritten by the same backfill)."""
    if not config.date or state is None:
        return
    day = config.date.isoformat()
    if day not in state.get("dates", []):
        return  # a new date: no later date has seen it
    last = max(config.date, config.backfill_to or config.date).isoformat()
    references = history.references_into(config.output, state, day, last, after=last)
    if not references:
        return
    dates = list(references)
    rows = sum(references.values())
    raise ValueError(
        f"{config.output} already holds {config.date}, and {rows} duplicate row(s) of {len(dates)} later date(s) "
        f"({dates[0]} to {dates[-1]}) name its articles; rerunning {config.date} alone would leave them naming "
        f"articles that may be gone. Rerun it together with the later dates, oldest first: newsbeam backfill --from "
        f"{config.date} --to {dates[-1]} --input {input_template(config.inputs, config.date)} --output {config.output}")


def stores_of(paths: Iterable[str], options) -> str:
    """The object stores ``paths`` live on, with their endpoints, for a message ('s3://b (endpoint
    http://127.0.0.1:9000)'); '' when all are local."""
    named = []
    for path in paths:
        kind = store.scheme(path)
        if kind in (None, "file"):
            continue
        endpoint = None
        if kind == "s3":
            from apache_beam.options.pipeline_options import S3Options

            endpoint = options.view_as(S3Options).s3_endpoint_url or "AWS's default endpoint"
        elif kind == "gs":
            endpoint = os.environ.get("STORAGE_EMULATOR_HOST") or "https://storage.googleapis.com"
        named.append(f"{path} (endpoint {endpoint})" if endpoint else path)
    return ", ".join(dict.fromkeys(named))


def within(seconds: float, work: Callable[[], T], what: str) -> T:
    """``work()``'s result, or :class:`LaunchFailed` once it has run ``seconds`` without an answer
    (a store that does not answer makes its clients retry for minutes). The work goes on in a
    daemon thread that the process leaves behind when it exits."""
    result: dict = {}

    def target():
        try:
            result["value"] = work()
        except BaseException as exc:  # pylint: disable=broad-except  (handed to the caller)
            result["error"] = exc

    retries = _QuietRetries()
    logging.getLogger(_RETRY_LOGGER).addFilter(retries)
    try:
        thread = threading.Thread(target=target, name="newsbeam-launch", daemon=True)
        thread.start()
        thread.join(seconds)
    finally:
        logging.getLogger(_RETRY_LOGGER).removeFilter(retries)
    if thread.is_alive():
        last = f" (last error: {retries.last})" if retries.last else ""
        raise LaunchFailed(f"no answer within --launch-timeout {seconds:g} s from {what or 'the inputs and output'}"
                           f"{last}; check the endpoint, the network and the credentials")
    if "error" in result:
        raise result["error"]
    return result["value"]


_RETRY_LOGGER = "apache_beam.utils.retry"


class _QuietRetries(logging.Filter):
    """Keeps the last of Beam's retry warnings (each a traceback) instead of printing them: the
    launch reports one line when it gives up."""

    last = ""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        self.last = message.split(" because we caught exception: ", 1)[-1].split("\n", 1)[0][:300]
        return False
