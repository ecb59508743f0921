"""What a run says about itself: ``run.json``'s counts, and the checks that fail a run instead of
publishing it (too many stage errors, too many rejections).
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

from transforms.rejects import StageFailure


class StageErrorLimit(StageFailure):
    """Too many records failed inside the stages: the run fails instead of publishing."""


def stage_error_count(counts: dict) -> int:
    return sum(v for k, v in counts.items() if k.startswith("stage_error."))


def check_stage_errors(counts: dict, max_share: float, examples: list) -> None:
    """Raise :class:`StageErrorLimit` when the share of stage errors among the records in passes
    ``max_share`` (``--max-stage-error-share``)."""
    errors = stage_error_count(counts)
    records_in = counts.get("records_in", 0)
    if errors == 0 or errors <= max_share * records_in:
        return
    by_stage = ", ".join(f"{k.split('.', 1)[1]} {v}" for k, v in sorted(counts.items())
                         if k.startswith("stage_error."))
    first = "; ".join(f"{f}{'' if line is None else ':' + str(line)}: {detail}" for f, line, detail in examples)
    raise StageErrorLimit(
        f"{errors} of {records_in} records ({errors / max(records_in, 1):.1%}) failed inside a stage ({by_stage}), "
        f"more than --max-stage-error-share {max_share:g} allows, so nothing was published. Examples: {first}")


class RejectedLimit(StageFailure):
    """Too many records were rejected: the run fails instead of publishing an output of rejections."""


def check_rejected_share(counts: dict, max_share: float) -> None:
    """Raise :class:`RejectedLimit` when the share of rejected records among the records in passes
    ``max_share`` (``--max-rejected-share``), naming the most common reasons."""
    rejected, records_in = counts.get("rejected", 0), counts.get("records_in", 0)
    if rejected == 0 or rejected <= max_share * records_in:
        return
    reasons = sorted(((v, k.split(".", 1)[1]) for k, v in counts.items() if k.startswith("reject.")),
                     key=lambda item: (-item[0], item[1]))
    top = ", ".join(f"{reason.replace('.', '/', 1)} {count}" for count, reason in reasons[:3])
    raise RejectedLimit(
        f"{rejected} of {records_in} records ({rejected / max(records_in, 1):.1%}) were rejected, more than "
        f"--max-rejected-share {max_share:g} allows, so nothing was published. Top reasons (stage/reason): {top}. "
        "Check the input's format, or raise --max-rejected-share to publish anyway")


def summarise(counts: dict, manifest: list[dict], run: dict, partial: list[dict] = ()) -> dict:
    """run.json: counts by outcome and reason, whether they reconcile, and the files read only in part."""
    def group(prefix):
        return {k[len(prefix):]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}

    records_in = counts.get("records_in", 0)
    articles = counts.get("articles", 0)
    duplicates = counts.get("duplicates", 0)
    rejected = counts.get("rejected", 0)
    finished = time.time()
    return {
        **run,
        "finished_at": datetime.fromtimestamp(finished, timezone.utc).isoformat(),
        "wall_seconds": round(finished - run["started_at_epoch"], 3),
        "inputs": counts.get("input_files", 0),
        "records_in": records_in,
        "articles_written": articles,
        "duplicates": duplicates,
        "rejected": rejected,
        "reconciled": records_in == articles + duplicates + rejected,
        "articles_by_language": group("language."),
        "entity_status": group("entity_status."),
        "entity_rows": counts.get("entity_rows", 0),
        "duplicates_by_reason": group("duplicate."),
        "duplicates_by_method": group("duplicate_method."),
        "duplicates_of_earlier_dates": counts.get("duplicates_of_earlier_dates", 0),
        "rejected_by_reason": group("reject."),
        "stage_errors": stage_error_count(counts),
        "partial_files": sorted(partial, key=lambda p: p["source_file"]),
        "files": sorted(manifest, key=lambda m: m["path"]),
    }
