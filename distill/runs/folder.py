"""A training run's folder, held by one run at a time: locked for the run's life (see data.outputs), a
finished run (its report is written last) asked for again with the same request is a free rerun,
and one made with another request is only replaced when the user says --overwrite."""

from __future__ import annotations

import json
from pathlib import Path

from data.hardware import is_main_process
from data.outputs import OutputLock, finished_already, write_text_atomic
from data.stopping import keep

from . import files


class RunFolder:
    """`with RunFolder(out, "distill", overwrite) as folder:` then `folder.finished_as(request)` before
    any model loads, and `folder.begin(request)` before the first step."""

    def __init__(self, out: Path, command: str, overwrite: bool, *, finished_file: str = files.REPORT):
        self.out, self.overwrite = Path(out), overwrite
        self.finished_file = self.out / finished_file
        # the other processes of a multi-GPU run write nothing here
        self._lock = OutputLock(self.out, command) if is_main_process() else None

    def __enter__(self) -> RunFolder:
        if self._lock:
            self._lock.__enter__()
        return self

    def __exit__(self, kind, error, trace) -> None:
        keep(error, self._kept())  # for a stop between stages or while reporting (the loop says its own)
        if self._lock:
            self._lock.__exit__(kind, error, trace)

    def _kept(self) -> str:
        if any(self.out.glob(f"**/{files.CHECKPOINT}/{files.CHECKPOINT_STATE}")):
            return f"kept the trained checkpoints in {self.out}; run the same command with --resume to continue"
        return f"no checkpoint yet in {self.out}; run the same command again"

    def finished_as(self, request: dict) -> dict | None:
        """The finished run's report when it was made as `request`; None when there is nothing finished
        (or --overwrite replaces it); refused when it was made otherwise."""
        if not self.finished_file.is_file():
            return None
        recorded = self.out / files.REQUEST
        made_with = json.loads(recorded.read_text()) if recorded.is_file() else {}
        if finished_already(self.out, request, made_with, overwrite=self.overwrite, what="run"):
            return json.loads(self.finished_file.read_text())
        return None

    def begin(self, request: dict) -> None:
        """The folder no longer holds a finished run (an interrupted new one must not pass for the old),
        and records what this one was asked for."""
        if self._lock is None:
            return
        self.finished_file.unlink(missing_ok=True)
        self.out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.out / files.REQUEST, json.dumps(request, indent=2, default=str) + "\n")
