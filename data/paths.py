"""Where things live on disk: the shared data folder, a task's files, augment's output beside them,
the user cache, and whether a folder may be written (read-only folders such as ../shared never are)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from .errors import InputError
from .tasks import TaskSpec

SHARED_DIR = Path(__file__).resolve().parent.parent.parent / "shared"
"""The `shared/` folder beside the project checkout: real data, vectors and demo models."""


def cache_root() -> Path:
    """The user cache of derived files (vector caches, tokenised corpora): $TINYDISTILL_CACHE, else
    $XDG_CACHE_HOME/tinydistill, else ~/.cache/tinydistill."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tinydistill"
    return Path(os.environ.get("TINYDISTILL_CACHE", default))


def writable_folder(folder: Path) -> bool:
    """Whether we may write into `folder`: allowed for this user AND not marked read-only (root is
    allowed everywhere, but a read-only folder such as ../shared must stay untouched)."""
    writable_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return os.access(folder, os.W_OK) and bool(folder.stat().st_mode & writable_bits)


def augmented_train_path(task_dir: Path) -> Path:
    """Where `augment` writes a GLUE task's train_aug.tsv and `distill --aug` looks for it: beside
    train.tsv, or under ./runs/glue/TASK/ when that folder is read-only (like ../shared)."""
    if writable_folder(task_dir):
        return task_dir / "train_aug.tsv"
    return Path("runs") / "glue" / task_dir.name / "train_aug.tsv"


def sibling_output(source: Path, tag: str, room: str) -> Path:
    """FILE's sibling NAME_TAG.EXT, or runs/ROOM/NAME_TAG.EXT when FILE's folder is read-only."""
    name = f"{source.stem}_{tag}{source.suffix}"
    return source.with_name(name) if writable_folder(source.parent) else Path("runs") / room / name


def augmented_table_path(source: Path) -> Path:
    """Where `augment --input FILE` writes by default and `distill --aug --train FILE` looks."""
    return sibling_output(source, "aug", "augment")


def find_task_dir(spec: TaskSpec, data_dir: str | os.PathLike | None = None, *, shared: Path = SHARED_DIR) -> Path:
    """The folder holding the task's files: `data_dir/TASK`, or `data_dir` itself when it holds them.

    Without `data_dir`, look in $GLUE_DIR, then in ../shared/data/glue beside the project.
    """
    if data_dir is not None:
        roots = [Path(data_dir)]
    else:
        roots = [Path(os.environ["GLUE_DIR"])] if os.environ.get("GLUE_DIR") else []
        roots.append(shared / "data" / "glue")
    for root in roots:
        for folder in (root / spec.name, root / spec.name.replace("-", ""), root):
            if (folder / spec.train_file).is_file():
                return folder
    tried = ", ".join(str(r) for r in roots)
    raise InputError(
        f"no {spec.name} data found (looked in {tried}). Put the GLUE files in a folder such as "
        f"glue/{spec.name}/{spec.train_file} and pass --data-dir glue (or set GLUE_DIR=glue)."
    )


_DIGESTS: dict[tuple, str] = {}  # (path, inode, size, times) -> digest: each file is read once per process
# a model folder without one of these has no tokenizer (transformers 5 then builds one of special tokens only)
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")


def check_tokenizer_files(folder: Path) -> None:
    """Refuse a model folder without tokenizer files, before transformers builds an empty tokenizer."""
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise InputError(
            f"{folder}: no usable tokenizer in this model folder (none of {', '.join(TOKENIZER_FILES)}); save the "
            "tokenizer beside the model (tokenizer.save_pretrained)"
        )


WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.h5", "*.msgpack", "*.onnx")
# what decides a model folder's behaviour: its config, weights and tokenizer
MODEL_FILES = ("config.json", *WEIGHT_FILES, "vocab.txt", "vocab.json", "merges.txt", "tokenizer.json")


def content_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes; for a model folder, of its config and weight files. Manifests, resumes and
    the corpus cache key on this, not on names or times: a replaced file with an old time (`cp -p`) is
    still seen. (The vector cache keys on path, size and time instead: see glove.loading.)"""
    path = Path(path)
    if path.is_dir():
        files = sorted({f for pattern in MODEL_FILES for f in path.glob(pattern) if f.is_file()})
        combined = hashlib.sha256()
        for file in files:
            combined.update(f"{file.name}:{content_digest(file)}\n".encode())
        return combined.hexdigest()
    stat_ = path.stat()
    # ctime too: `cp -p` sets an old mtime, never an old ctime
    key = (str(path.resolve()), stat_.st_ino, stat_.st_size, stat_.st_mtime_ns, stat_.st_ctime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]
