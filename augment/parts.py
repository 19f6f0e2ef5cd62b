"""The finished shards of a run, kept on disk until the output is assembled: an interrupted run (Ctrl-C,
a killed worker, a crashed source) loses at most the shards in flight, and `--resume` reuses the rest
when the run's fingerprint, everything that decides their content, is unchanged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from data import InputError, TableFormat
from data.tables import write_rows


class PartsFolder:
    """`.NAME.parts/` beside the output: one finished part file (+ its counts) per shard."""

    def __init__(self, output: Path, fingerprint: str, *, resume: bool):
        self.output, self.folder = output, output.with_name(f".{output.name}.parts")
        manifest = self.folder / "fingerprint"
        reusable = resume and manifest.is_file() and manifest.read_text() == fingerprint
        if not reusable:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            manifest.write_text(fingerprint)

    def part(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}"

    def done(self, index: int) -> bool:
        return self.part(index).with_suffix(".json").is_file()

    def stats(self, index: int) -> dict:
        return json.loads(self.part(index).with_suffix(".json").read_text())

    def write(self, index: int, frame, fmt: TableFormat, stats: dict) -> None:
        """Rows first, then the counts file that marks the part as finished; both by rename."""
        part = self.part(index)
        with open(f"{part}.tmp", "w", encoding="utf-8", newline="") as handle:
            write_rows(frame, handle, fmt, header=False)
        os.replace(f"{part}.tmp", part)
        Path(f"{part}.json.tmp").write_text(json.dumps(stats))
        os.replace(f"{part}.json.tmp", part.with_suffix(".json"))

    def discarded_on_bad_input(self, results):
        """Pass the results through; bad input found mid-run makes every part useless (the input must
        change, and with it the fingerprint), so the folder goes too: nothing half-written stays."""
        try:
            yield from results
        except InputError:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def assemble(self, shards: int, header: str, *, bom: bool) -> None:
        """The output, by rename: the header, then every part in order; the folder goes."""
        temporary = self.output.with_name(f".{self.output.name}.tmp")
        with open(temporary, "wb") as out:
            out.write(("\ufeff" if bom else "").encode() + header.encode())
            for index in range(shards):
                with open(self.part(index), "rb") as part:
                    shutil.copyfileobj(part, out)
        os.replace(temporary, self.output)
        shutil.rmtree(self.folder)
