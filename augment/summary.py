"""What an augment run did, and the text that tells it (the command line only prints `describe()`), so
that every source gets the same summary: the rows written, what was resumed or tolerated, the source's
own lines (where its candidates came from), and the copies per example."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import sources
from .sources import DEFAULT_SOURCE


@dataclass
class AugmentSummary:
    """What a run did, including what it tolerated (skipped, kept unchanged, cut, unknown)."""

    output: Path
    rows_in: int = 0
    rows_out: int = 0
    shards: int = 0
    resumed_shards: int = 0
    seconds: float = 0.0
    ragged_lines: list[int] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    source: str = DEFAULT_SOURCE
    unchanged_output: bool = False  # a finished output made with the same settings: nothing was written

    @classmethod
    def unchanged(cls, output: Path, manifest: dict) -> AugmentSummary:
        """A finished output left as it is, told from its manifest."""
        counts = {"rows_in": manifest["rows_in"], "rows_out": manifest["rows_out"]}
        return cls(output, **counts, ragged_lines=manifest["ragged_lines"], unchanged_output=True)

    def describe(self) -> str:
        if self.unchanged_output:
            return f"{self.output}: {self.rows_out} rows ({self.rows_in} examples + augmented copies), unchanged"
        counts = self.counts
        lines = [
            f"wrote {self.rows_out} rows ({self.rows_in} examples + augmented copies) to "
            f"{self.output} in {self.seconds:.1f}s"
        ]
        if self.resumed_shards:
            lines.append(f"resumed: reused {self.resumed_shards} of {self.shards} finished shards")
        if self.ragged_lines:
            shown = ", ".join(map(str, self.ragged_lines[:20]))
            more = f" and {len(self.ragged_lines) - 20} more" if len(self.ragged_lines) > 20 else ""
            lines.append(f"skipped {len(self.ragged_lines)} ragged rows (wrong number of fields), lines {shown}{more}")
        source = sources.get(self.source) if self.source in sources.available() else sources.Source()
        lines += source.count_lines(counts)
        copies, words = counts.get("copies", 0), counts.get("copy_words", 0)
        if self.rows_in:
            fewer = counts.get("examples_with_fewer_copies", 0)
            lines.append(
                f"copies: {copies / self.rows_in:.1f} distinct copies per example ({fewer} examples got fewer than "
                f"--n: {source.fewer_copies})"
                + (f"; each copy replaced {counts.get('replaced_words', 0) / words:.0%} of its words" if words else "")
            )
        return "\n".join(lines)
