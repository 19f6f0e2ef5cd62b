"""`--speedup X`: the student shape to build for a wanted speed. Candidate shapes are timed here, before
any training, as they would ship (ONNX Runtime int8 after its fusions, random weights: speed does not
depend on them) on real examples at batch 32, against the teacher's own shape timed the same way; the
largest candidate at least X times faster is chosen, on the grounds that more compute keeps more of
the teacher (or, asked, the deepest: see `candidates`)."""

from __future__ import annotations

import logging
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from transformers import AutoModelForSequenceClassification

from data import InputError

from ..examples.encoding import LabelledExamples
from ..models.onnx_classifier import OnnxClassifier
from ..models.shapes import parse_shape, student_config
from .export import int8_graph
from .speed import cpu_speed

log = logging.getLogger("tinydistill")

# Candidate students, as shares of the teacher's width and depth: a 6L-384 teacher gives 4, 3, 2 and 1
# layers of width 384, 312, 264, 192, 144 or 120 (widths rounded to a multiple of its head count).
WIDTH_SHARES = (1.0, 0.8125, 0.6875, 0.5, 0.375, 0.3125)
DEPTH_SHARES = (2 / 3, 1 / 2, 1 / 3, 1 / 6)
RANKINGS = ("compute", "balanced", "depth")
SAMPLE_EXAMPLES = 32
TIMING_ROUNDS = 3


@dataclass(frozen=True)
class SpeedChoice:
    """The shape chosen for `asked`, its measured speed-up over the teacher's shape, and every timing."""

    asked: float
    shape: str
    measured: float
    examples_per_s: dict[str, float]  # int8, batch 32, by shape; "teacher" for the teacher's own

    def describe(self) -> str:
        timed = len(self.examples_per_s) - 1
        return (
            f"--speedup {self.asked:g}: {self.shape}, {self.measured:.2f}x the teacher's int8 throughput here "
            f"({self.examples_per_s[self.shape]:.0f} vs {self.examples_per_s['teacher']:.0f} examples/s at batch "
            f"32; {timed} shape{'' if timed == 1 else 's'} timed)"
        )


class Int8Timer:
    """Examples/s at batch 32 of a random model of a config as shipped (ONNX Runtime int8), on a sample;
    each config's graph is built once (a timing is repeated side by side with the teacher's)."""

    def __init__(self):
        self.work = tempfile.TemporaryDirectory()
        self.graphs: dict[tuple, OnnxClassifier] = {}

    def __call__(self, config, sample: LabelledExamples) -> float:
        return cpu_speed(self.graph(config, sample), sample, batch_sizes=(32,), repeats=3)["examples_per_s_batch32"]

    def graph(self, config, sample: LabelledExamples) -> OnnxClassifier:
        """A random model of `config`, shipped as int8 (built on the first call for its shape)."""
        key = (config.num_hidden_layers, config.hidden_size, config.num_attention_heads, config.intermediate_size)
        if key not in self.graphs:
            torch.manual_seed(0)
            model = AutoModelForSequenceClassification.from_config(config, attn_implementation="eager").eval()
            folder = Path(self.work.name) / "-".join(map(str, key))
            folder.mkdir()
            self.graphs[key] = OnnxClassifier.from_graph(int8_graph(model, sample, folder))
        return self.graphs[key]

    def __enter__(self) -> Int8Timer:
        return self

    def __exit__(self, *exc) -> None:
        self.graphs.clear()
        self.work.cleanup()


def shape_for_speedup(
    asked: float,
    teacher_config,
    sample: LabelledExamples,
    *,
    same_width: bool = False,
    prefer: str = "compute",
    throughput: Callable[[object, LabelledExamples], float] | None = None,
) -> SpeedChoice:
    """The first candidate shape in `prefer`'s ranking (see `candidates`) whose `throughput` (default: a fresh
    Int8Timer) is at least `asked` times the teacher's shape's. Each candidate is timed TIMING_ROUNDS times,
    each time between two timings of the teacher, and its ratio is the median of the ratios to the mean of
    those two: a busy machine slows both alike. Candidates are tried in ranking order, so a modest ask times
    few shapes; `same_width` keeps the teacher's width (methods that copy whole teacher layers)."""
    if asked <= 1:
        raise InputError(f"--speedup {asked:g}: ask for more than 1 (times the teacher's int8 throughput)")
    if throughput is None:
        with Int8Timer() as timer:
            return shape_for_speedup(
                asked, teacher_config, sample, same_width=same_width, prefer=prefer, throughput=timer
            )
    sample = sample.subset(range(min(SAMPLE_EXAMPLES, len(sample))))
    shapes = candidates(teacher_config, same_width=same_width, prefer=prefer)
    teacher_cost = _cost(teacher_config.num_hidden_layers, teacher_config.hidden_size)
    # a shape whose compute shrinks by less than the ask cannot reach it (overheads do not shrink): not timed,
    # but the smallest always is, so that a refusal can say how fast the fastest shape runs here
    timed = [shape for shape in shapes[:-1] if teacher_cost / _cost(*parse_shape(shape)) >= asked] + shapes[-1:]
    ratios, speeds, teacher_speeds = {}, {}, [throughput(teacher_config, sample)]
    for shape in timed:
        config = student_config(teacher_config, *parse_shape(shape))
        rounds = []
        for _ in range(TIMING_ROUNDS):
            speed, after = throughput(config, sample), throughput(teacher_config, sample)
            rounds.append((speed, speed / ((teacher_speeds[-1] + after) / 2)))
            teacher_speeds.append(after)
        speeds[shape] = statistics.median(speed for speed, _ in rounds)
        ratios[shape] = statistics.median(ratio for _, ratio in rounds)
        if ratios[shape] >= asked:
            return SpeedChoice(asked, shape, ratios[shape], {"teacher": statistics.median(teacher_speeds), **speeds})
    fastest = max(ratios, key=ratios.get)
    raise InputError(
        f"--speedup {asked:g}: no candidate shape is that fast here; the fastest, {fastest}, runs "
        f"{ratios[fastest]:.1f}x the teacher's int8 throughput. Ask for less, or give --student SHAPE"
    )


def candidates(teacher_config, *, same_width: bool, prefer: str = "compute") -> list[str]:
    """The shapes this teacher can have as students (see WIDTH_SHARES, DEPTH_SHARES), ranked: `prefer`
    "compute", the largest compute (layers x width²) first; "depth", the most layers first, the widest first
    among equals; "balanced", the most layers x width first, the deeper first among equals: a budget spent
    on depth and width alike (the frontier study weighs the three, docs/frontier.md: no one ranking won
    at every ask). With `same_width`, only the teacher's width (methods that copy whole teacher layers)."""
    if prefer not in RANKINGS:
        raise InputError(f"a shape ranking is one of {', '.join(RANKINGS)}, got {prefer!r}")
    layers, width, heads = (
        teacher_config.num_hidden_layers,
        teacher_config.hidden_size,
        teacher_config.num_attention_heads,
    )
    depths = sorted({max(1, round(layers * share)) for share in DEPTH_SHARES} - {layers}, reverse=True)
    shares = (1.0,) if same_width else WIDTH_SHARES
    widths = sorted({max(heads, round(width * share / heads) * heads) for share in shares}, reverse=True)
    shapes = [(n, w) for n in depths for w in widths]
    rank = {
        "compute": lambda shape: -_cost(*shape),
        "balanced": lambda shape: (-shape[0] * shape[1], -shape[0]),
        "depth": lambda shape: (-shape[0], -shape[1]),
    }[prefer]
    return [f"{n}L-{w}" for n, w in sorted(shapes, key=rank)]


def _cost(layers: int, width: int) -> int:
    """Multiply-adds per token of the encoder layers (attention projections and a 4x feed-forward), for order."""
    return layers * (4 * width * width + 8 * width * width)
