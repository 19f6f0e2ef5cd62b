"""Hand memory that tensors freed back to the system, so that a long run's resident memory is what it
holds, not the sum of its batches.

glibc's malloc serves large blocks from its heaps once a large block has been freed (its mmap threshold
rises), and space freed there fragments and is kept: with batches whose shapes vary (length-sorted
masked-LM calls), resident memory grows batch after batch although nothing is kept. `malloc_trim` gives
the free pages back, but each release makes the next calls fault their pages in again. Measured with
`augment` on 256 long pairs (2-core Xeon, AMX, bf16), with the kernel cache below bounded: never
released, a peak of 1.9 GB in 85 s; released after every masked-LM call, 1.3 GB in 105 s; released once
memory has grown by SLACK since the last release, 1.36 GB in 97 s (512 MB: 1.55 GB in 90 s); 2.8 GB and
88 s before any of this. Peaks sampled every 250 ms.

oneDNN (torch's CPU kernels) also keeps up to 1,024 prepared kernels, one per input shape, each with its
own copy of the weights repacked (in bf16 most of all): 70 masked-LM call shapes held 170 MB more than
the 32 kept here, at the same speed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys

KERNEL_CACHE = 32  # oneDNN kernels kept per process (its default: 1,024)
SLACK = 256 * 2**20  # bytes of growth since the last release that make the next one


@functools.cache
def _trim():
    """glibc's malloc_trim, or None where there is none (macOS, Windows, musl: allocators that do not
    keep memory this way)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _resident() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


_released = [0]  # resident bytes after the last release


def release_freed_memory() -> None:
    """Give the allocator's free pages back to the system when resident memory has grown by SLACK since
    the last time (call between batches)."""
    trim = _trim()
    if trim is None or _resident() - _released[0] < SLACK:
        return
    trim(0)
    _released[0] = _resident()


def bound_kernel_cache() -> None:
    """Keep at most KERNEL_CACHE oneDNN kernels unless ONEDNN_PRIMITIVE_CACHE_CAPACITY says otherwise. oneDNN
    reads it when it prepares its first kernel: call this before a model's first call."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(KERNEL_CACHE))
