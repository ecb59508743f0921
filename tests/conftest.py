"""Shared fixtures. Shared constants and helpers are in support/ (tests/support). Nothing here reads
../shared: the suite runs on a fresh machine without it."""
from __future__ import annotations

import pytest

from support import TEST_RUNNER


@pytest.fixture
def runner_options():
    from apache_beam.options.pipeline_options import PipelineOptions

    return PipelineOptions([f"--runner={TEST_RUNNER}"])
