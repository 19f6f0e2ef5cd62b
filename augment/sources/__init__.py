"""Augmentation sources: what turns a row's texts into copies. The TinyBERT word substitution is the
built-in one; a new source (a paraphraser, back-translation) is one module with a `Source` subclass
that registers itself, found through an entry point in the group `tinydistill.sources` (or registered
from Python), and then works everywhere: `augment --source NAME` with its own flags, the runner,
`--resume`, the manifest, the preview and the summary.

    from augment import sources

    @dataclass(frozen=True)
    class ReverseOptions:                        # its flags: --source reverse --every 2
        every: int = setting(1, "Reverse the words of every k-th sentence.", minimum=1)

    @sources.register
    class Reverse(sources.Source):
        name, summary, Options = "reverse", "texts with their words in reverse order", ReverseOptions

        def open(self, options):                 # load models here; returns a Copier (see base.py)
            return ReverseCopier(options)

tests/integration/test_source_plugins.py holds a whole one, installed as an outside package.
"""

from __future__ import annotations

from .base import Copier, Copies, Copy, Source
from .registry import REGISTRY, register

DEFAULT_SOURCE = "tinybert"

available = REGISTRY.available
get = REGISTRY.get


def options_for(source: str, given: dict):
    """The `Options` of source `source` from flag values of any source (see `Registry.typed_options`)."""
    return get(source).Options(**REGISTRY.typed_options(source, given))


__all__ = [
    "DEFAULT_SOURCE",
    "REGISTRY",
    "Copier",
    "Copies",
    "Copy",
    "Source",
    "available",
    "get",
    "options_for",
    "register",
]
