"""Who may write an output, and whether it needs writing at all. One live run per output: a lock file
beside it names its owner, and a second run is refused at once. A finished result is neither redone
nor silently replaced: the same request on it is a free rerun, another one needs --overwrite."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError

log = logging.getLogger("tinydistill")


def write_text_atomic(path: Path, text: str) -> None:
    """Write `path` by rename: a reader (or a run stopped mid-write) sees the old file or the whole new one."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")  # whatever the locale says: every file here is UTF-8
    os.replace(temporary, path)


def lock_path(output: Path) -> Path:
    """`.NAME.lock` beside the output (a file or a run folder): it outlives a folder removed and made again."""
    return output.with_name(f".{output.name}.lock")


class OutputLock:
    """Held for a run's whole life by the one process that writes `output` (the main one of a run with
    workers or several GPUs). It is an flock, which the kernel drops when its holder dies however it
    dies; the file also names the holder (pid, host, start, command) for the refusal message. Released
    by deleting the file while still held, so the next run never locks a file that is on its way out."""

    def __init__(self, output: str | os.PathLike, command: str):
        self.output, self.command = Path(output).resolve(), command
        self.path = lock_path(self.output)
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_owner(fd)
                os.close(fd)
                raise InputError(
                    f"{self.output} is being written by another run ({_describe(owner)}). Wait for it to end or "
                    "stop it, or give this run another --out"
                ) from None
            except OSError as error:  # a filesystem without locks (NFS mounted nolock): say so, do not fail
                os.close(fd)
                log.warning(f"warning: cannot lock {self.path} ({error.strerror}); nothing stops a second run here")
                return self
            if _same_file(fd, self.path):
                break
            os.close(fd)  # the holder released (deleted) it between our open and our lock: try afresh
        try:
            self._claim(fd)
        except BaseException:
            os.close(fd)  # the lock goes with the descriptor
            raise
        return self

    def _claim(self, fd: int) -> None:
        """Write this run's name into the lock, after a note when a dead run's name was there."""
        previous = _read_owner(fd)
        if previous:
            log.info(
                f"note: {self.output} was left by a run that ended without finishing ({_describe(previous)}); "
                "this run takes it over"
            )
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": self.command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def _read_owner(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}


def _describe(owner: dict) -> str:
    if not owner:
        return "its owner unknown"
    return f"pid {owner['pid']} on {owner['host']}, started {owner['started']}: {owner['command']}"


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def finished_already(output: Path, asked: dict, made_with: dict | None, *, overwrite: bool, what: str) -> bool:
    """Whether `output` holds a finished result made as `asked` (then the caller has nothing to do).
    `made_with` is the request recorded with the finished result, None when there is none, {} when
    one is there without a record. With `overwrite` it is always redone; without, one made otherwise is
    refused."""
    if made_with is None:
        return False
    asked = json.loads(json.dumps(asked, default=str))  # as it was recorded: JSON types only
    if overwrite:
        log.info(f"--overwrite: replacing the finished {what} in {output}")
        return False
    if made_with and not differences(made_with, asked):
        log.info(f"already done: {output} holds a finished {what} made with these settings (--overwrite redoes it)")
        return True
    changed = ", ".join(differences(made_with, asked)) if made_with else "unknown: no record of how it was made"
    raise InputError(
        f"{output} already holds a finished {what} made with other settings (differing: {changed}). Pass "
        "--overwrite to replace it, or give another --out"
    )


def differences(saved: dict, given: dict, prefix: str = "") -> list[str]:
    """The dotted names of the settings that differ (run.recipe.temperature, max_length...). A setting the
    saved record lacks, asked off (False or None), is no difference: an option added since the result was
    made, whose off default is what made it."""
    names = []
    for key in sorted(set(saved) | set(given)):
        a, b = saved.get(key), given.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names += differences(a, b, f"{prefix}{key}.")
        elif a != b and not (key not in saved and b in (None, False)):
            names.append(f"{prefix}{key}")
    return names
