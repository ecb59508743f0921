"""What the benchmark scripts share: running `newsbeam run` as a user would, and measuring it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Callable, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEWSBEAM = os.path.join(os.path.dirname(sys.executable), "newsbeam")


def write_jsonl(path: str, records: list[dict]) -> str:
    """``records`` as a JSONL file at ``path`` (its folder made if missing); returns ``path``."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (a child may be started by any thread, so /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _peak_kib(pid: int) -> int:
    """VmHWM of a live process, in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_newsbeam(inputs, output: str, flags: list[str] = (), env: Optional[dict] = None,
                 summary: Optional[Callable[[], dict]] = None, peaks: Optional[dict] = None) -> tuple[dict, float, float]:
    """Run one `newsbeam run` process on ``inputs`` (a path or a list of them): (its run.json, wall
    seconds, peak resident MiB of the newsbeam process from wait4). ``summary`` reads run.json
    when the output is not a local folder. With ``peaks`` (a dict), /proc is read every 0.25 s while
    it runs and ``peaks`` gets ``launcher`` (the process's own VmHWM, MiB: wait4's figure includes
    its children) and ``workers`` (VmHWM of each child process above 100 MiB, largest first; the
    pip and ``python -c`` helpers Beam starts are smaller)."""
    paths = [inputs] if isinstance(inputs, str) else list(inputs)
    start = time.perf_counter()
    proc = subprocess.Popen([NEWSBEAM, "run", "--input", *paths, "--output", output, *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    stop = threading.Event()
    launcher, workers = [0], {}

    def watch():
        while not stop.is_set():
            launcher[0] = max(launcher[0], _peak_kib(proc.pid))
            for child in _descendants(proc.pid):
                workers[child] = max(workers.get(child, 0), _peak_kib(child))
            stop.wait(0.25)

    watcher = threading.Thread(target=watch, daemon=True)
    if peaks is not None:
        watcher.start()
    stderr = proc.stderr.read()  # drained before waiting, so a chatty run cannot block on the pipe
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if peaks is not None:
        stop.set()
        watcher.join()
        peaks["launcher"] = (launcher[0] or usage.ru_maxrss) / 1024
        peaks["workers"] = sorted((kib / 1024 for kib in workers.values() if kib > 100 * 1024), reverse=True)
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
