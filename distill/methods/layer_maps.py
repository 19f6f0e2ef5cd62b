"""Which student layer learns from which teacher layer: plain data, not code paths.

A layer map is a tuple of (student layer, teacher layer) pairs, numbered as in Hugging Face
`hidden_states`: 0 is the embedding output, 1..N the transformer layers.
"""

from __future__ import annotations

from data import InputError

LayerMap = tuple[tuple[int, int], ...]


def evenly_spaced(student_layers: int, teacher_layers: int) -> list[int]:
    """M of N teacher layers (1-based), evenly spaced and ending at the top: ceil(m * N / M). When M
    divides N this is TinyBERT's g(m) = m * N / M (4 of 12: 3, 6, 9, 12); otherwise the nearest even
    spread (4 of 6: 2, 3, 5, 6). DistilBERT's initialisation takes its mirror image from the bottom."""
    if student_layers > teacher_layers:
        raise InputError(
            f"a {student_layers}-layer student is deeper than its {teacher_layers}-layer teacher: "
            "give each student layer a teacher layer with --layer-map"
        )
    return [-(-m * teacher_layers // student_layers) for m in range(1, student_layers + 1)]


def uniform(student_layers: int, teacher_layers: int) -> LayerMap:
    """Student layer m learns from teacher layer `evenly_spaced(M, N)[m]` (the embedding layer, 0 -> 0,
    is matched apart)."""
    return tuple(enumerate(evenly_spaced(student_layers, teacher_layers), start=1))


def skip(student_layers: int, teacher_layers: int) -> LayerMap:
    """PKD-skip: student layers 1..M-1 learn from evenly spaced teacher layers (every k-th, k = N / M,
    when M divides N); the top layer is left to the KD loss on the logits."""
    return uniform(student_layers, teacher_layers)[:-1]


def last(student_layers: int, teacher_layers: int) -> LayerMap:
    """PKD-last: student layers 1..M-1 learn from the M-1 teacher layers just below the top."""
    if student_layers > teacher_layers:
        raise InputError(f"a {student_layers}-layer student is deeper than its {teacher_layers}-layer teacher")
    return tuple((m, teacher_layers - student_layers + m) for m in range(1, student_layers))


def explicit(teacher_layers_per_student: str, student_layers: int, teacher_layers: int) -> LayerMap:
    """A user's map "3,6,9,12": student layer m learns from the m-th listed teacher layer."""
    try:
        chosen = [int(part) for part in teacher_layers_per_student.split(",")]
    except ValueError:
        raise InputError(
            f"--layer-map {teacher_layers_per_student!r}: give comma-separated teacher layer "
            "numbers, one per student layer, e.g. 3,6,9,12"
        ) from None
    if len(chosen) != student_layers or not all(1 <= t <= teacher_layers for t in chosen):
        raise InputError(
            f"--layer-map {teacher_layers_per_student!r}: needs {student_layers} teacher layer "
            f"numbers between 1 and {teacher_layers}"
        )
    return tuple(zip(range(1, student_layers + 1), chosen))


def resolve(given: str | None, student_layers: int, teacher_layers: int, default=uniform) -> LayerMap:
    """The user's --layer-map when given, else `default` (uniform: TinyBERT; skip or last: PKD)."""
    return explicit(given, student_layers, teacher_layers) if given else default(student_layers, teacher_layers)


PKD_MAPS = {"skip": skip, "last": last}
