"""The finished shards of a run, kept on disk until the output is assembled: an interrupted run (Ctrl-C,
a killed worker, a crashed source) loses at most the shards in flight, and `--resume` reuses the rest
when the run's fingerprint, everything that decides their content, is unchanged."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from data import InputError, TableFormat
from data.outputs import differences
from data.stopping import writing
from data.tables import write_rows


class PartsFolder:
    """`.NAME.parts/` beside the output: one finished part file (+ its counts) per shard."""

    def __init__(self, output: Path, key: dict, *, resume: bool, pinned: tuple[str, ...] = ()):
        """`key`: everything that decides the parts' content. On `resume`, parts made with another key
        are dropped and the run starts over, unless all that changed is in `pinned` (settings the user
        may think harmless, such as batch sizes, that change the bytes here): that is refused."""
        self.output, self.folder = output, output.with_name(f".{output.name}.parts")
        record = self.folder / "key.json"
        saved = json.loads(record.read_text()) if resume and record.is_file() else None
        changed = differences(saved, key) if saved is not None else []
        if changed and all(any(name == p or name.startswith(f"{p}.") for p in pinned) for name in changed):
            raise InputError(
                f"--resume: the finished shards in {self.folder} were made with other {', '.join(changed)}, and "
                "in this precision the copies depend on how rows are batched. Repeat the interrupted run's "
                "values, or drop --resume to start over"
            )
        if saved is None or changed:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            record.write_text(json.dumps(key))

    def part(self, index: int) -> Path:
        return self.folder / f"part-{index:06d}"

    def done(self, index: int) -> bool:
        return self.part(index).with_suffix(".json").is_file()

    def stats(self, index: int) -> dict:
        return json.loads(self.part(index).with_suffix(".json").read_text())

    def write(self, index: int, frame, fmt: TableFormat, stats: dict) -> None:
        """Rows first, then the counts file that marks the part as finished; both by rename."""
        part = self.part(index)
        with writing(part, f"the finished shard {index}"):
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
        """The output, by rename: the header, then every part in order (the parts stay until `remove`)."""
        temporary = self.output.with_name(f".{self.output.name}.tmp")
        try:
            with writing(self.output, "the output, assembled from its finished shards"), open(temporary, "wb") as out:
                out.write(("\ufeff" if bom else "").encode() + header.encode())
                for index in range(shards):
                    with open(self.part(index), "rb") as part:
                        shutil.copyfileobj(part, out)
            os.replace(temporary, self.output)
        finally:
            temporary.unlink(missing_ok=True)

    def remove(self) -> None:
        shutil.rmtree(self.folder)

    def kept(self) -> str:
        """What an interrupted run keeps, and how to continue."""
        done = len(list(self.folder.glob("part-*.json")))
        if not done:
            return "no shard was finished; run the same command again"
        return f"kept {done:,} finished shards in {self.folder}; run the same command with --resume to continue"
