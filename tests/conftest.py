"""Shared fixtures. Nothing here reads ../shared: the suite runs on a fresh machine without it."""
from __future__ import annotations

import os

import pytest

from transforms.io.commit import without_run_id  # noqa: F401  (tests import it from here)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(PROJECT_ROOT, "seeds")

# Every TestPipeline here runs on the in-process runner, named explicitly.
TEST_RUNNER = "FnApiRunner"


@pytest.fixture
def runner_options():
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions([f"--runner={TEST_RUNNER}"])
