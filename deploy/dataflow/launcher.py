"""Dataflow flex-template entry point: the template launcher runs this file with the job's parameters as flags.

With ``--runner=DataflowRunner`` (what the template launcher passes) the pipeline is built exactly as
``newsbeam run`` builds it, handed to Dataflow, and this process returns without waiting for the job.
Nothing is left for it to do afterwards: the job's last step commits the run to the lake's Delta
tables on gs:// itself and writes ``_runs/<run id>.json`` and ``run.json``, and a flex-template launcher is not meant to stay up
for the length of the job. Read ``run.json`` of the output, or the job's state in Dataflow, to
learn how a run went.

With any other runner this is ``newsbeam run``: it waits, prints the summary, and exits with
newsbeam's status.
"""
from __future__ import annotations

import logging
import sys
from typing import Optional, Sequence

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines import articles, options
from pipelines.cli import quiet_known_import_noise


def is_dataflow(argv: Sequence[str]) -> bool:
    runner = PipelineOptions(list(argv)).view_as(StandardOptions).runner or ""
    return runner.rsplit(".", 1)[-1] in ("DataflowRunner", "TestDataflowRunner")


def launch(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    quiet_known_import_noise()
    if not is_dataflow(argv):
        return articles.main(argv)
    logging.getLogger("apache_beam.runners.dataflow").setLevel(logging.INFO)  # job id and console URL
    try:
        config, pipeline = articles.prepare(argv)
    except ValueError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return options.EXIT_USAGE
    try:
        result = pipeline.run()
    except Exception as exc:  # nothing ran: the output is untouched
        logging.getLogger("newsbeam").exception("submitting run %s failed", config.run_id)
        print(f"newsbeam: error: the job was not submitted ({type(exc).__name__}: {str(exc)[:500]}); "
              f"{config.output} was not changed", file=sys.stderr)
        return options.EXIT_RUN_FAILED
    job = f"Dataflow job {result.job_id()}" if getattr(result, "has_job", False) else "the job"
    print(f"newsbeam: run {config.run_id} handed to Dataflow as {job}; when it succeeds it commits the lake's "
          f"tables and writes {config.output}/_runs/{config.run_id}.json and run.json (not waiting here)",
          file=sys.stderr)
    return options.EXIT_OK


if __name__ == "__main__":
    sys.exit(launch())
