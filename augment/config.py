"""Everything that decides an augmented file: the settings every source shares (which source, how many
copies, the seed) and the chosen source's own options. Settings are declared once, with their
command-line help, and the command line builds its flags from them.

    AugmentConfig()                          # the TinyBERT rule with its defaults, 20 copies
    AugmentConfig.of(n=20, mlm=None)         # flat keywords, split between the two
    AugmentConfig("reverse", n=2)            # another registered source, its default options
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from data import InputError
from data.options import described, setting

from . import sources
from .sources import DEFAULT_SOURCE


@dataclass(frozen=True)
class AugmentConfig:
    """`options` is the source's own `Options` (None: its defaults)."""

    source: str = DEFAULT_SOURCE
    n: int = setting(20, "Augmented copies drawn per example (duplicates dropped).", minimum=1)
    seed: int = setting(42, "Random seed; same seed, same bytes.")
    options: object = None

    def __post_init__(self):
        plugin = sources.get(self.source)
        if self.options is None:
            object.__setattr__(self, "options", plugin.Options())
        elif not isinstance(self.options, plugin.Options):
            raise TypeError(f"options of source {self.source!r} must be its Options, got {type(self.options)}")

    @classmethod
    def of(cls, source: str = DEFAULT_SOURCE, **keywords) -> AugmentConfig:
        """A config from flat keywords: the shared settings by name, the rest to the source's Options
        (a keyword that neither takes is a TypeError naming both lists)."""
        general = {f.name for f in fields(cls)} - {"source", "options"}
        plugin = sources.get(source)
        own = {s.name for s in described(plugin.Options)}
        unknown = set(keywords) - general - own
        if unknown:
            raise TypeError(
                f"AugmentConfig.of: unknown setting(s) {sorted(unknown)}; shared: {sorted(general)}, "
                f"source {source!r}: {sorted(own)}"
            )
        options = plugin.Options(**{k: v for k, v in keywords.items() if k in own})
        return cls(source, options=options, **{k: v for k, v in keywords.items() if k in general})

    @property
    def plugin(self) -> sources.Source:
        return sources.get(self.source)

    def settled(self) -> tuple[AugmentConfig, list[str]]:
        """This config with the machine-dependent defaults of its source named (e.g. which vector file),
        and the source's lines saying which models and files a run uses."""
        options, lines = self.plugin.settle(self.options)
        return replace(self, options=options), lines

    def validate(self) -> None:
        if self.n < 1:
            raise InputError(f"--n must be at least 1 (augmented copies per example), got {self.n}")
        self.plugin.check(self.options)

    def general(self) -> dict:
        """The shared settings, by name (for manifests and fingerprints)."""
        return {"source": self.source, "n": self.n, "seed": self.seed}
