"""Plain-text corpora for general distillation, streamed line by line and tokenised once into a
memory-mapped cache (token ids + offsets) that later epochs and later runs reuse.

One non-blank line is one example (a sentence or a short document), cut to `max_length` word pieces;
blank lines separate documents and are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from array import array
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset

from data import InputError
from data.paths import cache_root, content_digest
from data.stopping import writing

from .encoding import model_inputs

_BATCH_LINES = 4096


def _lines(path: Path) -> Iterator[list[str]]:
    """Non-blank lines in batches, never the whole file in memory."""
    batch: list[str] = []
    with open(path, encoding="utf-8", errors="strict") as handle:
        try:
            for line in handle:
                if line.strip():
                    batch.append(line.strip())
                if len(batch) == _BATCH_LINES:
                    yield batch
                    batch = []
        except UnicodeDecodeError as err:
            raise InputError(f"{path}: not UTF-8 text ({err}); re-save it as UTF-8") from None
    if batch:
        yield batch


class Corpus(Dataset):
    """Tokenised corpus lines; `collate` pads a batch to its longest line."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, tokenizer):
        self.ids, self.offsets, self.tokenizer = ids, offsets, tokenizer

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[self.offsets[i] : self.offsets[i + 1]].tolist(), "index": i}

    def collate(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.pad([model_inputs(item) for item in items], return_tensors="pt")
        if "token_type_ids" in self.tokenizer.model_input_names:
            batch["token_type_ids"] = torch.zeros_like(batch["input_ids"])
        batch["index"] = torch.tensor([item["index"] for item in items])
        return dict(batch)


def _tokenizer_fingerprint(tokenizer) -> str:
    """Vocabulary and splitting rules, without the per-call truncation/padding state."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    spec.pop("truncation", None)
    spec.pop("padding", None)
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def load_corpus(path: str | Path, tokenizer, max_length: int = 128) -> Corpus:
    """The corpus tokenised with `tokenizer`, from the cache when the file and settings are unchanged."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such corpus file; give --corpus a plain-text file, one sentence or document per line"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the corpus is empty")
    key = json.dumps([content_digest(path), max_length, _tokenizer_fingerprint(tokenizer)])  # content, not time
    folder = cache_root() / "corpus" / f"{path.name}.{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    if not (folder / "offsets.npy").is_file():
        _build(path, tokenizer, max_length, folder)
    return Corpus(np.memmap(folder / "ids.int32", dtype=np.int32, mode="r"), np.load(folder / "offsets.npy"), tokenizer)


def _build(path: Path, tokenizer, max_length: int, folder: Path) -> None:
    """Tokenise batch by batch, appending to a flat int32 file; publish the folder with one rename."""
    special = set(tokenizer.all_special_ids)
    building = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    building.mkdir(parents=True, exist_ok=True)
    try:
        lengths = array("q")
        with writing(folder, "the tokenised corpus cache"), open(building / "ids.int32", "wb") as out:
            for lines in _lines(path):
                for ids in tokenizer(lines, truncation=True, max_length=max_length)["input_ids"]:
                    if any(token not in special for token in ids):
                        np.asarray(ids, dtype=np.int32).tofile(out)
                        lengths.append(len(ids))
        if not lengths:
            raise InputError(
                f"{path}: no line of the corpus gives the tokenizer anything but special tokens; "
                "is it the right file for this teacher's tokenizer?"
            )
        with writing(folder, "the tokenised corpus cache"):
            np.save(building / "offsets.npy", np.concatenate([[0], np.cumsum(np.frombuffer(lengths, np.int64))]))
        if not folder.exists():  # another process may have built the same cache meanwhile
            os.replace(building, folder)
    finally:
        shutil.rmtree(building, ignore_errors=True)
