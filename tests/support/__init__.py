"""What the test modules share besides fixtures (those are in conftest.py): constants here, helpers in
support.runs and support.stories. A test module imports from these, from the project and from
benchmarks.corpora / benchmarks.servers (the generated corpora and loopback servers the benchmarks
use too), never from another test module.

Imported as ``support``: pytest puts tests/ (the folder of conftest.py) first on the import path.
"""
from __future__ import annotations

import os
import sys

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(PROJECT_ROOT, "seeds")

# Every pipeline a test runs in process runs on the in-process runner, named explicitly.
TEST_RUNNER = "FnApiRunner"

# The command a user runs: the console script of the environment the tests run in.
NEWSBEAM = os.path.join(os.path.dirname(sys.executable), "newsbeam")
