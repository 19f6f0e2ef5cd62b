"""Shared benchmark helpers: peak memory of a process tree, running one measurement per process (a bench
module run again as `python -m bench.NAME --worker ...`), and a study's time budget."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project's root: `python -m bench.NAME` runs from here


class PeakMemory:
    """Samples the RSS of this process and all its children (joblib workers) every 50 ms."""

    def __init__(self):
        import psutil

        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import psutil

        while not self._stop.wait(0.05):
            total = 0
            for p in [self.process] + self.process.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def in_child(module: str, *args: str) -> dict:
    """Run `python -m module --worker ...` (module: "bench.distill_bench") in a fresh Python process from the
    project's root and parse the JSON line it prints last, so every measurement has its own memory peak and
    no state left by another."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


class TimeBudget:
    """Whether a study may start a new run: never when it only renders, else until `max_minutes` (None: no
    limit) have passed since it began, as `clock` counts seconds."""

    def __init__(self, max_minutes: float | None, render_only: bool = False, clock=time.perf_counter):
        self.max_minutes, self.render_only, self.clock = max_minutes, render_only, clock
        self.started = clock()

    def __call__(self) -> bool:
        limit = self.max_minutes
        return not self.render_only and (limit is None or self.clock() - self.started < 60 * limit)

    def minutes(self) -> float:
        """The minutes since the study began."""
        return (self.clock() - self.started) / 60
