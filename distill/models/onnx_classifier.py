"""An exported folder run by ONNX Runtime, called like a Hugging Face classifier (`model(**inputs).logits`)
so that evaluation, timing and prediction treat both the same way."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

ONNX_FILE = "model.onnx"


def is_exported(folder: str | Path) -> bool:
    return (Path(folder) / ONNX_FILE).is_file()


class OnnxClassifier:
    """An ONNX graph in a CPU session using every core of the machine; `config` is the folder's."""

    def __init__(self, folder: str | Path, config=None):
        import onnxruntime

        graph = Path(folder) / ONNX_FILE if Path(folder).is_dir() else Path(folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = [node.name for node in self.session.get_inputs()]
        self.graph, self.config = graph, config

    @classmethod
    def from_graph(cls, graph: str | Path) -> OnnxClassifier:
        return cls(graph)

    def __call__(self, **inputs: torch.Tensor) -> SimpleNamespace:
        feed = {name: inputs[name].numpy().astype(np.int64) for name in self.inputs}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(["logits"], feed)[0]))

    def num_parameters(self) -> int:
        """Weights stored in the graph (int8 ones included), as a model's parameter count."""
        import onnx

        model = onnx.load(str(self.graph), load_external_data=False)
        return int(sum(np.prod(tensor.dims) for tensor in model.graph.initializer if len(tensor.dims) > 0))

    def eval(self) -> OnnxClassifier:  # a graph has no training mode
        return self

    def to(self, device) -> OnnxClassifier:  # it runs where its session runs: the CPU
        return self
