"""The record written beside every augmented file (`NAME.json` for output NAME): what it was made
from and how. `augment` writes it; `distill --aug` reads it to check that an augmented file belongs
to the training file it would pair with."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import InputError
from .outputs import write_text_atomic
from .paths import content_digest


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name + ".json")


def write_manifest(output: Path, facts: dict) -> Path:
    """Write the manifest of `output` (its own size and sha256 added), by rename."""
    path = manifest_path(output)
    record = {**facts, "output": {"path": str(output), "size": output.stat().st_size, "sha256": content_digest(output)}}
    write_text_atomic(path, json.dumps(record, indent=2) + "\n")
    return path


def checked_manifest(augmented: Path, source: Path) -> dict:
    """The manifest of `augmented`, after checking that it describes this very file and that it was
    made from `source` (by content); exit 2 with the fix otherwise."""
    path = manifest_path(augmented)
    redo = f"make it again with: python cli.py augment ... (for {source})"
    if not path.is_file():
        raise InputError(f"{augmented}: no manifest ({path.name}) says what it was made from; {redo}")
    record = json.loads(path.read_text())
    if record["output"]["sha256"] != content_digest(augmented):
        raise InputError(
            f"{augmented}: changed since augment wrote it (its manifest {path.name} holds another sha256); {redo}"
        )
    if record["source"]["sha256"] != content_digest(source):
        raise InputError(
            f"{augmented} was made from {record['source']['path']}, whose content is not that of "
            f"{source}: training on it would pair other rows with this dev set; {redo}"
        )
    return record
