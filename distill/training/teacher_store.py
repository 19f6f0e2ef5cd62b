"""Teacher outputs kept on disk between runs. A frozen teacher gives the same logits (and [CLS] states) for
the same tokens, so the second student of a teacher on the same training file (another shape, seed or
method) reuses the first one's teacher passes instead of repeating them: on a CPU the teacher's forward
pass is most of a small student's prediction-layer step.

Entries are keyed by a digest of each example's model inputs, not by its position, so held-out slices,
--filter-teacher subsets and other orders share them; a file per teacher (by the digest of its weights),
precision and device type, since each changes the numbers. Values equal a fresh teacher pass within float
rounding (a batch's padding differs). The store is a cache: a write that fails (full disk) is said once
and the run goes on without it."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path

import numpy as np
import torch

from data.paths import cache_root

from ..examples.encoding import LabelledExamples

log = logging.getLogger("tinydistill")


def example_keys(examples: LabelledExamples) -> np.ndarray:
    """One int64 per example: a digest of its model inputs (token ids, segments), equal for equal tokens."""
    keys = np.empty(len(examples), dtype=np.int64)
    for i in range(len(examples)):
        digest, row = hashlib.blake2b(digest_size=8), examples.row(i)
        for name in sorted(row):
            digest.update(name.encode())
            digest.update(row[name].tobytes())
        keys[i] = int.from_bytes(digest.digest(), "little", signed=True)
    return keys


def teacher_digest(teacher) -> str:
    """A digest of the teacher's weights: the store's name does not depend on where the teacher lies."""
    digest = hashlib.sha256()
    for name, tensor in sorted(teacher.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


class TeacherStore:
    """One file of teacher outputs: `keys` (see example_keys), `logits`, and `cls` states by layer."""

    def __init__(self, path: Path, cls_layers: tuple[int, ...]):
        self.path, self.cls_layers = path, cls_layers
        self.failed = False

    @classmethod
    def for_run(cls, objective, teacher, precision: str, device, processes: int) -> TeacherStore | None:
        """The store a run's teacher cache starts from and adds to, when the objective's teacher outputs
        are cached at all; one process only (each process of a distributed run sees its own share)."""
        if not objective.cacheable or teacher is None or processes > 1:
            return None
        cls_layers = objective.cls_layers
        layers = "".join(f"-cls{t}" for t in cls_layers)
        name = f"{teacher_digest(teacher)}-{precision}-{torch.device(device).type}{layers}.pt"
        return cls(cache_root() / "teacher-outputs" / name, cls_layers)

    def load(self) -> dict | None:
        """The stored entries, or None when there are none (or the file is unreadable: it is a cache)."""
        if not self.path.is_file():
            return None
        try:
            return torch.load(self.path, weights_only=True)
        except (OSError, RuntimeError, EOFError) as error:
            log.warning(f"teacher-output cache {self.path} is unreadable ({error}); computing afresh")
            return None

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, dict | None]:
        """For each key, its row in the stored entries (-1 when absent), and the entries."""
        stored = self.load()
        if stored is None:
            return np.full(len(keys), -1), None
        known = stored["keys"].numpy()
        order = np.argsort(known)
        at = np.clip(np.searchsorted(known[order], keys), 0, len(known) - 1)
        found = known[order][at] == keys
        return np.where(found, order[at], -1), stored

    def known_share(self, examples: LabelledExamples) -> float:
        """The share of these examples whose outputs the store holds (for the time estimate)."""
        rows, _ = self.lookup(example_keys(examples))
        return float((rows >= 0).mean()) if len(rows) else 0.0

    def save(self, keys: np.ndarray, logits: torch.Tensor, cls: dict[int, torch.Tensor]) -> None:
        """Add these entries to the file (entries already there are kept), written whole or not at all."""
        if self.failed or not len(keys):
            return
        stored = self.load()
        if stored is not None and stored["logits"].shape[-1] == logits.shape[-1]:
            new = ~np.isin(keys, stored["keys"].numpy())
            keys = np.concatenate([stored["keys"].numpy(), keys[new]])
            logits = torch.cat([stored["logits"], logits[new]])
            cls = {t: torch.cat([stored["cls"][t], cls[t][new]]) for t in self.cls_layers}
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"keys": torch.from_numpy(keys), "logits": logits, "cls": cls}, partial)
            os.replace(partial, self.path)
        except (OSError, RuntimeError) as error:  # RuntimeError: torch.save's writer on a full disk
            with contextlib.suppress(OSError):
                partial.unlink()
            self.failed = True
            log.warning(f"teacher-output cache not saved to {self.path} ({error}); the run goes on without it")
