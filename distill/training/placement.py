"""Where and in which precision a run computes, resolved once from its --device and --precision: the
training loop, the warm-up that times it, and the teacher's passes before training all take it from
here rather than resolving `auto` again."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from data.hardware import autocast_for, process_device, resolve_precision


@dataclass(frozen=True)
class Placement:
    device: torch.device  # this process's own (cuda:LOCAL_RANK when several GPUs run it)
    precision: str  # fp32, bf16 or fp16: what `auto` became on this device

    @classmethod
    def of(cls, settings) -> Placement:
        device = process_device(settings.device)
        return cls(device, resolve_precision(settings.precision, device))

    def autocast(self):
        return autocast_for(self.device, self.precision)
