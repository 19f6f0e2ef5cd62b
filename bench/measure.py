"""Shared benchmark helpers: peak memory of a process tree, and running one measurement per process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path


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


def in_child(script: Path, *args: str) -> dict:
    """Run `script --worker ...` in a fresh Python process and parse the JSON line it prints last, so
    every measurement has its own memory peak and no state left by another."""
    done = subprocess.run(
        [sys.executable, str(script), *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=script.resolve().parent.parent,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
