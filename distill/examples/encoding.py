"""Task tables -> tokenised examples with label ids (what every model is fed), checked against the task's labels."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from data import InputError
from data.memory import release_freed_memory


def default_max_length(*, pair: bool) -> int:
    """Published defaults: 128 word pieces for sentence pairs, 64 for single sentences."""
    return 128 if pair else 64


@dataclass(frozen=True)
class LabelScheme:
    """Label strings in id order, or None for a regression task (float labels, one output); `names` say
    what they mean where the data stores numbers (MRPC's 0/1: not_equivalent/equivalent)."""

    labels: tuple[str, ...] | None
    names: tuple[str, ...] | None = None

    @property
    def display_names(self) -> tuple[str, ...] | None:
        return self.names or self.labels

    @property
    def num_outputs(self) -> int:
        return 1 if self.labels is None else len(self.labels)

    def ids(self, values: pd.Series, source: str) -> torch.Tensor:
        if self.labels is None:
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.isna().any():
                row = int(numbers.isna().to_numpy().argmax())
                raise InputError(
                    f"{source}: row {row + 1} has label {values.iloc[row]!r}, not a number; "
                    "a regression task needs numeric labels"
                )
            return torch.tensor(numbers.to_numpy(), dtype=torch.float32)
        index = {label: i for i, label in enumerate(self.labels)}
        unknown = ~values.astype(str).isin(list(index))
        if unknown.any():
            row = int(unknown.to_numpy().argmax())
            raise InputError(
                f"{source}: row {row + 1} has label {values.iloc[row]!r}, which this task does not "
                f"have (labels: {', '.join(self.labels)}). Fix the data or pass the right --task"
            )
        return torch.tensor([index[v] for v in values.astype(str)], dtype=torch.long)


ENCODE_ROWS = 4096  # rows tokenised per call while encoding a table
NOT_MODEL_INPUTS = ("labels", "index")  # gold labels and the example's index ride along in every batch


def model_inputs(batch: dict) -> dict:
    """The fields of a batch (or example) that the model takes."""
    return {k: v for k, v in batch.items() if k not in NOT_MODEL_INPUTS}


class LabelledExamples(Dataset):
    """Tokenised examples, held flat: one int32 array per model input (the pieces of every row end to end)
    and where each row starts, about 4 bytes per piece and input instead of the ~300 that Python lists of
    ints cost, so a training set of millions of rows stays small. The attention mask is not stored (an
    unpadded row attends to all its pieces: the tokenizer's `pad` makes it); `collate` pads each batch only
    to its own longest row.
    Item i carries its index, which keys the teacher-output cache."""

    def __init__(self, fields: dict[str, np.ndarray], starts: np.ndarray, labels: torch.Tensor, tokenizer):
        self.fields, self.starts, self.labels, self.tokenizer = fields, starts, labels, tokenizer
        self.skipped_lines: tuple[int, ...] = ()  # ragged rows of the source file, left out

    def __len__(self) -> int:
        return len(self.starts) - 1

    def subset(self, rows) -> LabelledExamples:
        """These rows only, renumbered from 0 (the index keys the teacher cache)."""
        rows = np.asarray(list(rows), dtype=np.int64)
        lengths = self.lengths()[rows]
        starts = np.concatenate([[0], np.cumsum(lengths)])
        pieces = np.repeat(self.starts[rows] - starts[:-1], lengths) + np.arange(starts[-1])
        fields = {name: values[pieces] for name, values in self.fields.items()}
        part = LabelledExamples(fields, starts, self.labels[torch.as_tensor(rows)], self.tokenizer)
        part.skipped_lines = self.skipped_lines
        return part

    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def row(self, i: int) -> dict[str, np.ndarray]:
        """Row i's model inputs (without the attention mask)."""
        start, end = self.starts[i], self.starts[i + 1]
        return {name: values[start:end] for name, values in self.fields.items()}

    def __getitem__(self, i: int) -> dict:
        return {**self.row(i), "labels": self.labels[i], "index": i}

    def collate(self, items: list[dict]) -> dict[str, torch.Tensor]:
        rows = [{name: values.tolist() for name, values in model_inputs(item).items()} for item in items]
        batch = dict(self.tokenizer.pad(rows, return_tensors="pt"))
        batch["labels"] = torch.stack([item["labels"] for item in items])
        batch["index"] = torch.tensor([item["index"] for item in items])
        return batch


def encode_frame(
    frame: pd.DataFrame,
    text_columns: list[str],
    label_column: str,
    scheme: LabelScheme,
    tokenizer,
    max_length: int,
    source: str,
) -> LabelledExamples:
    """Tokenise one or two text columns (truncated to `max_length`) and map labels to ids."""
    if frame.empty:
        raise InputError(f"{source}: no examples to train or evaluate on")
    labels = scheme.ids(frame[label_column], source)
    texts = [frame[c].fillna("").astype(str).tolist() for c in text_columns]
    names = [name for name in tokenizer.model_input_names if name != "attention_mask"]
    fields: dict[str, list[np.ndarray]] = {}
    lengths = []
    for start in range(0, len(frame), ENCODE_ROWS):  # the tokenizer's own output is large: a chunk at a time
        encoded = tokenizer(*(t[start : start + ENCODE_ROWS] for t in texts), truncation=True, max_length=max_length)
        lengths += [len(ids) for ids in encoded["input_ids"]]
        for name in (n for n in names if n in encoded):
            fields.setdefault(name, []).append(np.fromiter(chain.from_iterable(encoded[name]), dtype=np.int32))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    release_freed_memory()  # the tokenizer's output, freed chunk by chunk
    return LabelledExamples({name: np.concatenate(parts) for name, parts in fields.items()}, starts, labels, tokenizer)
