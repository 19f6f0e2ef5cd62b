"""The cheapest honest alternative to a student: static embeddings distilled from a pretrained encoder
(model2vec's recipe, written here on numpy and torch) and a logistic regression on top.

Every word piece of the vocabulary is encoded once, alone between [CLS] and [SEP], and mean-pooled;
the table is reduced by PCA and each row weighted by how rare the piece is in the task's training
text (SIF: a / (a + p)). A sentence is the mean of its pieces' rows; a pair is [u, v, |u - v|, u * v].
The regression's L2 strength is chosen on the held-out slice. As a model it takes the same token ids
as a student, so evaluation, timing, prediction and export treat it as any classifier. Its folder holds
STATIC_FILE (the weights), a config.json that marks it static, and the encoder's tokenizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoModel, PretrainedConfig
from transformers.modeling_outputs import SequenceClassifierOutput

PCA_DIMS = 256  # model2vec's default
SIF_A = 1e-3
L2_GRID = (1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
ENCODE_BATCH = 512
STATIC_FILE = "static.safetensors"
CONFIG_KEY = "tinydistill_static"  # in config.json: what makes a folder (or its export) a static model


def is_static(folder: str | Path) -> bool:
    """Whether the folder holds a static model (or its ONNX export), by its config."""
    config = Path(folder) / "config.json"
    return config.is_file() and CONFIG_KEY in json.loads(config.read_text())


def piece_vectors(encoder_dir, tokenizer) -> np.ndarray:
    """One row per vocabulary piece: the encoder's mean-pooled output for [CLS] piece [SEP]."""
    encoder = AutoModel.from_pretrained(encoder_dir, local_files_only=True).eval()
    ids = torch.arange(len(tokenizer))
    rows = []
    with torch.inference_mode():
        for chunk in ids.split(ENCODE_BATCH):
            cls = torch.full_like(chunk, tokenizer.cls_token_id)
            sep = torch.full_like(chunk, tokenizer.sep_token_id)
            out = encoder(input_ids=torch.stack([cls, chunk, sep], dim=1)).last_hidden_state
            rows.append(out.float().mean(dim=1))
    return torch.cat(rows).numpy()


def static_table(vectors: np.ndarray, train_ids: list, special_ids: list[int]) -> np.ndarray:
    """PCA to PCA_DIMS, then each row times a / (a + p(piece)) with p counted on the training pieces;
    special pieces get a zero row (they carry no meaning of their own)."""
    centred = torch.from_numpy(vectors - vectors.mean(axis=0))
    _, _, components = torch.linalg.svd(centred, full_matrices=False)  # 3x numpy's here
    reduced = (centred @ components[:PCA_DIMS].T).numpy()
    counts = np.bincount(np.concatenate([np.asarray(ids) for ids in train_ids]), minlength=len(vectors))
    weights = SIF_A / (SIF_A + counts / counts.sum())
    table = (reduced * weights[:, None]).astype(np.float32)
    table[special_ids] = 0.0
    return table


class StaticClassifier(nn.Module):
    """Static piece table -> mean per sentence (pair features for two) -> standardised -> linear."""

    def __init__(self, table: np.ndarray, special_ids: list[int], pair: bool, classes: int, config=None):
        super().__init__()
        self.table = nn.Embedding.from_pretrained(torch.from_numpy(np.asarray(table)), freeze=True)
        counted = torch.ones(len(table))
        counted[list(special_ids)] = 0.0
        self.register_buffer("counted", counted)
        self.pair = pair
        width = table.shape[1] * (4 if pair else 1)
        self.register_buffer("mean", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))
        self.linear = nn.Linear(width, classes)
        self.config = config

    def features(self, input_ids, attention_mask, token_type_ids=None, **_) -> torch.Tensor:
        weight = self.counted[input_ids] * attention_mask
        vectors = self.table(input_ids)
        if not self.pair:
            return _mean(vectors, weight)
        second = token_type_ids.float()
        u, v = _mean(vectors, weight * (1 - second)), _mean(vectors, weight * second)
        return torch.cat([u, v, (u - v).abs(), u * v], dim=-1)

    def forward(self, input_ids, attention_mask, token_type_ids=None, **_) -> SequenceClassifierOutput:
        features = self.features(input_ids, attention_mask, token_type_ids)
        return SequenceClassifierOutput(logits=self.linear((features - self.mean) / self.scale))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def save(self, folder: Path, config: PretrainedConfig) -> None:
        """The weights and the config that marks the folder static (the tokenizer is the caller's)."""
        save_file({name: value.contiguous() for name, value in self.state_dict().items()}, str(folder / STATIC_FILE))
        config.save_pretrained(folder)

    @classmethod
    def load(cls, folder: str | Path) -> StaticClassifier:
        config = PretrainedConfig.from_pretrained(folder, local_files_only=True)
        state = load_file(str(Path(folder) / STATIC_FILE))
        spec = getattr(config, CONFIG_KEY)
        model = cls(state["table.weight"].numpy(), spec["special_ids"], spec["pair"], config.num_labels, config)
        model.load_state_dict(state)
        return model.eval()


def static_config(label_config: dict, table: np.ndarray, special_ids: list[int], pair: bool, fit: dict):
    """A config that `PretrainedConfig` reads back, naming the labels, the shape and how it was fitted."""
    spec = {"special_ids": list(special_ids), "pair": pair, "pca_dims": table.shape[1], "sif_a": SIF_A, **fit}
    return PretrainedConfig(
        architectures=["StaticEmbeddingsForSequenceClassification"],
        num_hidden_layers=0,
        hidden_size=table.shape[1],
        vocab_size=len(table),
        **label_config,
        **{CONFIG_KEY: spec},
    )


def _mean(vectors: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (vectors * weight[..., None]).sum(1) / weight.sum(1, keepdim=True).clamp(min=1.0)


@dataclass
class StaticFit:
    model: StaticClassifier
    l2: float
    holdout_acc_by_l2: dict[str, float]


def fit_static(table, special_ids, pair: bool, classes: int, train, holdout) -> StaticFit:
    """The regression on `train` (LabelledExamples) for each L2 strength; the best on `holdout` is kept."""
    model = StaticClassifier(table, special_ids, pair, classes)
    with torch.inference_mode():
        x_train, x_held = _features(model, train), _features(model, holdout)
    model.mean.copy_(x_train.mean(0))
    model.scale.copy_(x_train.std(0).clamp(min=1e-6))
    x_train, x_held = (x_train - model.mean) / model.scale, (x_held - model.mean) / model.scale
    scores, fitted = {}, {}
    for l2 in L2_GRID:
        linear = _logistic(x_train, train.labels, classes, l2)
        with torch.no_grad():
            scores[f"{l2:g}"] = float((linear(x_held).argmax(-1) == holdout.labels).float().mean())
        fitted[l2] = linear
    best = max(L2_GRID, key=lambda l2: scores[f"{l2:g}"])
    model.linear.load_state_dict(fitted[best].state_dict())
    return StaticFit(model, best, scores)


def _features(model: StaticClassifier, examples) -> torch.Tensor:
    batch = examples.collate([examples[i] for i in range(len(examples))])
    return model.features(**{k: v for k, v in batch.items() if k not in ("labels", "index")})


def _logistic(x: torch.Tensor, y: torch.Tensor, classes: int, l2: float) -> nn.Linear:
    """Multinomial logistic regression, full batch, L-BFGS; `l2` on the weights (not the bias)."""
    torch.manual_seed(0)
    linear = nn.Linear(x.shape[1], classes)
    nn.init.zeros_(linear.weight), nn.init.zeros_(linear.bias)
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(linear(x), y) + l2 * linear.weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return linear
