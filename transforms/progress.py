"""Progress lines for long runs: one log line per stage and worker every ``interval`` seconds.

Logged at INFO on the ``newsbeam.progress`` logger (the ``newsbeam`` command shows it; Beam's own
INFO chatter stays hidden), never per element.
"""
from __future__ import annotations

import logging
import time

LOG = logging.getLogger("newsbeam.progress")


class Progress:
    """Counts items and logs the running total and rate at most once per ``interval`` seconds."""

    def __init__(self, stage: str, noun: str, interval: float = 15.0):
        self._stage, self._noun, self._interval = stage, noun, interval
        self._count = 0
        self._started = self._last = time.monotonic()

    def add(self, n: int = 1) -> None:
        self._count += n
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            rate = self._count / max(now - self._started, 1e-9)
            LOG.info("%s: %d %s so far on this worker (%.1f/s)", self._stage, self._count, self._noun, rate)
