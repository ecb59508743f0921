"""Shared fixtures. Nothing here reads ../shared: the suite runs on a fresh machine without it."""
from __future__ import annotations

import os

import pytest

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(PROJECT_ROOT, "seeds")

# Every TestPipeline here runs on the in-process runner, named explicitly.
TEST_RUNNER = "FnApiRunner"


@pytest.fixture
def runner_options():
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions([f"--runner={TEST_RUNNER}"])


def without_run_id(rel: str) -> str:
    """A data file's path with the run id taken out of its name (part-<run>-00000-of-00001.parquet):
    two runs of the same input write the same files under their own run's names."""
    import re

    return re.sub(r"part-[0-9a-z-]+?-(\d{5}-of-\d{5}\.parquet)$", r"part-\1", rel)
