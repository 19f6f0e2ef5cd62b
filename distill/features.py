"""Task tables -> tokenised tensors with label ids, checked against the task's labels."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch.utils.data import Dataset

from data import InputError


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


NOT_MODEL_INPUTS = ("labels", "index")  # gold labels and the example's index ride along in every batch


def model_inputs(batch: dict) -> dict:
    """The fields of a batch (or example) that the model takes."""
    return {k: v for k, v in batch.items() if k not in NOT_MODEL_INPUTS}


class LabelledExamples(Dataset):
    """Tokenised examples (unpadded); `collate` pads each batch only to its own longest example.
    Item i carries its index, which keys the teacher-output cache."""

    def __init__(self, features: list[dict[str, list[int]]], labels: torch.Tensor, tokenizer):
        self.features, self.labels, self.tokenizer = features, labels, tokenizer
        self.skipped_lines: tuple[int, ...] = ()  # ragged rows of the source file, left out

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, rows) -> LabelledExamples:
        """These rows only, renumbered from 0 (the index keys the teacher cache)."""
        rows = list(rows)
        part = LabelledExamples([self.features[i] for i in rows], self.labels[rows], self.tokenizer)
        part.skipped_lines = self.skipped_lines
        return part

    def lengths(self) -> list[int]:
        return [len(feature["input_ids"]) for feature in self.features]

    def __getitem__(self, i: int) -> dict:
        return {**self.features[i], "labels": self.labels[i], "index": i}

    def collate(self, items: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.pad([model_inputs(item) for item in items], return_tensors="pt")
        batch["labels"] = torch.stack([item["labels"] for item in items])
        batch["index"] = torch.tensor([item["index"] for item in items])
        return dict(batch)


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
    texts = [frame[c].fillna("").astype(str).tolist() for c in text_columns]
    encoded = tokenizer(*texts, truncation=True, max_length=max_length)
    names = [name for name in tokenizer.model_input_names if name in encoded]
    features = [{name: encoded[name][i] for name in names} for i in range(len(frame))]
    return LabelledExamples(features, scheme.ids(frame[label_column], source), tokenizer)
