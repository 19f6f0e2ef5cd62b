"""Runs that end early: a stop signal (SIGINT from Ctrl-C, SIGTERM from a scheduler before it kills) or
a full disk. Either ends the run with one line that says what was kept and how to continue, never a
traceback or a half-written file. The library says what it kept (`kept`) as the error passes through
it; the command line prints the line and exits 128 + signal number, or 2 for a full disk."""

from __future__ import annotations

import errno
import os
import resource
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from .errors import InputError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
NOTHING_KEPT = "nothing was half-written; run the same command again"


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt: no `except Exception` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.kept: str | None = None  # what the run keeps, said by the code that knows (see `keep`)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum

    def line(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}: {self.kept or NOTHING_KEPT}"


class DiskFull(InputError):
    """A write failed for want of space (or quota, or the file-size limit): which file, doing what."""

    def __init__(self, path: Path, what: str, reason: str):
        self.path, self.what, self.reason = path, what, reason
        self.kept: str | None = None
        super().__init__(self._message())

    def _message(self) -> str:
        return (
            f"{self.reason} while writing {self.path} ({self.what}); {self.kept or NOTHING_KEPT}, once space is freed"
        )


def keep(error: BaseException, kept: str) -> None:
    """Say on a stop or a full disk what the interrupted run keeps and how to continue ("kept the
    checkpoint of step 40 in runs/x; ... --resume ..."): the first to say it is the nearest to the work.
    Other errors pass untouched."""
    if isinstance(error, (Stopped, DiskFull)) and error.kept is None:
        error.kept = kept
        if isinstance(error, DiskFull):
            error.args = (error._message(),)


# what torch.save's native writer says when its file came out short
TORCH_SHORT_WRITES = ("unexpected pos", "iostream error", "file write failed")
REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file-size limit",
}


def full_disk_reason(error: BaseException, path: Path | None = None) -> str | None:
    """Why a write failed for want of room ('no space left on the device', the quota, the file-size
    limit), or None when `error` is no such failure. Libraries that write from native code say it their
    own way: safetensors passes the OS's text on; torch.save's zip writer only finds its file shorter than
    it wrote (TORCH_SHORT_WRITES), so the room left at `path` and this process's file-size limit decide."""
    number = getattr(error, "errno", None)
    if number in REASONS:
        return REASONS[number]
    text = str(error)
    if type(error).__name__ == "SafetensorError":
        for number, words in (
            (errno.ENOSPC, "No space left"),
            (errno.EDQUOT, "quota"),
            (errno.EFBIG, "File too large"),
        ):
            if words in text:
                return REASONS[number]
    if isinstance(error, RuntimeError) and any(words in text for words in TORCH_SHORT_WRITES):
        return _room_left_reason(path)
    return None


def _room_left_reason(path: Path | None) -> str:
    soft_limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft_limit != resource.RLIM_INFINITY:
        return REASONS[errno.EFBIG]
    folder = next((p for p in ([path, *path.parents] if path else []) if p.exists()), None)
    if folder is not None:
        room = os.statvfs(folder)
        if room.f_bavail * room.f_frsize < 1 << 20:
            return REASONS[errno.ENOSPC]
    return "a write was cut short (a full disk or a quota?)"


@contextmanager
def writing(path: str | Path, what: str):
    """Turn a write that fails for want of room into DiskFull naming `path` and `what`."""
    try:
        yield
    except Exception as error:
        reason = full_disk_reason(error, Path(path))
        if reason is None:
            raise
        raise DiskFull(Path(path), what, reason) from None


_deferred: list[int] = []  # signals that arrived inside `whole_writes`, raised at its end
_deferring = threading.local()


def _on_signal(signum, frame) -> None:
    if getattr(_deferring, "depth", 0) and not _deferred:  # a second signal does not wait
        _deferred.append(signum)
        return
    raise Stopped(signum)


def stop_on_signals() -> Callable[[], None]:
    """SIGINT and SIGTERM raise Stopped in the main thread (the command line's choice, not the library's);
    returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {number: signal.signal(number, _on_signal) for number in STOP_SIGNALS}
    return lambda: [signal.signal(number, handler) for number, handler in previous.items()] and None


@contextmanager
def whole_writes():
    """A stop signal inside waits until the block is done: files written here are never cut short (a
    second signal stops at once). An error raised in the block goes out as it is."""
    _deferring.depth = getattr(_deferring, "depth", 0) + 1
    try:
        yield
    except BaseException:
        _deferring.depth -= 1
        if not _deferring.depth:
            _deferred.clear()
        raise
    _deferring.depth -= 1
    if not _deferring.depth and _deferred:
        signum = _deferred[0]
        _deferred.clear()
        raise Stopped(signum)
