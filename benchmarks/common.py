"""What the benchmark scripts share: running `newsbeam run` as a user would, and measuring it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Callable, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEWSBEAM = os.path.join(os.path.dirname(sys.executable), "newsbeam")
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the generated corpora live beside the tests


def run_newsbeam(inputs, output: str, flags: list[str] = (), env: Optional[dict] = None,
                 summary: Optional[Callable[[], dict]] = None) -> tuple[dict, float, float]:
    """Run one `newsbeam run` process on ``inputs`` (a path or a list of them): (its run.json, wall
    seconds, peak resident MiB of the newsbeam process from wait4). ``summary`` reads run.json
    when the output is not a local folder."""
    paths = [inputs] if isinstance(inputs, str) else list(inputs)
    start = time.perf_counter()
    proc = subprocess.Popen([NEWSBEAM, "run", "--input", *paths, "--output", output, *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    stderr = proc.stderr.read()  # drained before waiting, so a chatty run cannot block on the pipe
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code not in (0, 1):
        raise SystemExit(f"newsbeam failed on {inputs} with {list(flags)}: exit {code}\n{stderr.decode()[-3000:]}")
    if summary is not None:
        return summary(), wall, usage.ru_maxrss / 1024
    with open(os.path.join(output, "run.json"), encoding="utf-8") as handle:
        return json.load(handle), wall, usage.ru_maxrss / 1024


def lost(summary: dict) -> int:
    """Records that reached none of articles/, duplicates/, rejected/ (must be 0)."""
    return summary["records_in"] - summary["articles_written"] - summary["duplicates"] - summary["rejected"]
