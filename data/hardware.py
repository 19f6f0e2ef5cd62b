"""What `auto` means on this machine, for both halves: the device, and the precision models run in.

One rule for augment's masked-LM and for training: bf16 where the hardware computes it natively
(CUDA GPUs with bf16; CPUs with AVX-512-BF16 or AMX), fp16 on GPUs without bf16, fp32 elsewhere.
"""

from __future__ import annotations

import os

import torch

from .errors import InputError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PRECISION_HELP = (
    "auto = bf16 where the hardware computes it natively (GPUs with bf16, CPUs with AVX-512-BF16 "
    "or AMX), fp16 on GPUs without bf16, fp32 elsewhere"
)
TORCH_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def autocast_for(device, precision: str | None):
    """Autocast in `precision` on `device` (a torch.device or its name); fp32 (or None) turns it off."""
    reduced = precision not in (None, "fp32")
    return torch.autocast(
        torch.device(device).type, dtype=TORCH_DTYPES[precision] if reduced else None, enabled=reduced
    )


def process_device(device: str = "auto") -> torch.device:
    """The device this process computes on: `resolve_device`'s, and for a GPU the one torchrun (or
    accelerate launch) gave this process (LOCAL_RANK, read from the environment so that no accelerate
    state is created before the run's own)."""
    place = resolve_device(device)
    return place if place.type == "cpu" else torch.device(place.type, int(os.environ.get("LOCAL_RANK", 0)))


def is_main_process() -> bool:
    """Whether this is the one process of a run, or rank 0 of several (torchrun and accelerate launch set
    RANK); read from the environment, as `process_device`, so that no accelerate state is made early."""
    return int(os.environ.get("RANK", 0)) == 0


def resolve_device(device: str = "auto") -> torch.device:
    """auto: the first CUDA GPU when one is visible, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device}: no CUDA device is visible here; use --device cpu (or auto)")
    return resolved


def cpu_has_native_bf16() -> bool:
    """AVX-512-BF16 or AMX: torch has no public probe for these, so its CPU feature checks are asked."""
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


def kernel_facts(device: torch.device) -> dict:
    """What reduced-precision results can depend on besides the inputs: the torch build and the CPU's
    bf16 instructions (or the GPU's name), for records of outputs made in bf16 or fp16."""
    facts = {"torch": torch.__version__, "device": device.type}
    if device.type == "cuda":
        facts["gpu"] = torch.cuda.get_device_name(device)
    else:
        probes = {"avx512_bf16": "_is_avx512_bf16_supported", "amx": "_is_amx_tile_supported"}
        facts.update({name: bool(getattr(torch.cpu, probe, lambda: False)()) for name, probe in probes.items()})
    return facts


def resolve_precision(precision: str, device: torch.device) -> str:
    """'fp32', 'bf16' or 'fp16' for `precision` on `device` (see the module's rule for 'auto')."""
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_has_native_bf16() else "fp32"
