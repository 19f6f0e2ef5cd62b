"""The frontier study's training sets, each made once in the work folder (the same bytes on every machine):
the plain set (SST-2: a seeded subsample of the GLUE lines), every training row ("all" budget), the long
phrases followed by augmented copies ("aug" budget), and MRPC's augmented set (the quality study's). Each
keeps the held-out slice the teacher's own: held-out examples and their copies are never trained on."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np

from augment import AugmentConfig, augment_file
from bench.frontier_spec import AUG_COPIES, AUG_MIN_WORDS, PRECISION, TaskStudy
from data import SHARED_DIR, format_for
from data.outputs import write_text_atomic
from distill import TaskData, glue_task_data, load_tokenizer, max_length_for


def _phrase(line: str) -> str:
    """A GLUE SST-2 training line's text (its label is the last column)."""
    return line.rstrip("\n").rsplit("\t", 1)[0]


class TrainingSets:
    """One task's training sets. `timed(name, make)` times what takes long to make (the augmentations)."""

    def __init__(self, spec: TaskStudy, work: Path, quality_work: Path, timed):
        self.spec, self.work, self.quality_work, self.timed = spec, work, quality_work, timed
        self.plain = self._plain_task()

    def for_budget(self, budget: str = "matched") -> TaskData:
        """What a student at this budget trains on (see TaskStudy.budgets)."""
        if budget == "all":
            return self.all_rows()
        if budget == "aug":
            return self.long_augmented()
        return self.augmented() if self.spec.augmented else self.plain

    def dev_set(self, model: Path):
        """The dev examples, encoded for `model` (what exports score and speeds are timed on)."""
        return self.plain.encode(self.plain.dev_paths[0], load_tokenizer(model), max_length_for(self.plain, None))

    def _plain_task(self) -> TaskData:
        if self.spec.train_rows is None:
            return glue_task_data(self.spec.name)
        folder = self.work / "glue" / self.spec.name
        if not (folder / "train.tsv").is_file():  # the same subsample on every machine: a seeded choice of lines
            folder.mkdir(parents=True, exist_ok=True)
            header, lines, chosen = self._source_lines()
            write_text_atomic(folder / "train.tsv", header + "".join(lines[i] for i in chosen))
            (folder / "dev.tsv").write_bytes((SHARED_DIR / "data" / "glue" / self.spec.name / "dev.tsv").read_bytes())
        return glue_task_data(self.spec.name, folder.parent)

    def _source_lines(self) -> tuple[str, list[str], list[int]]:
        """The task's GLUE training file (header, lines) and the lines of its seeded subsample, in order."""
        source = SHARED_DIR / "data" / "glue" / self.spec.name / "train.tsv"
        header, *lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
        return header, lines, sorted(np.random.default_rng(0).permutation(len(lines))[: self.spec.train_rows])

    def all_rows(self) -> TaskData:
        """The "all" budget's training data: every training row of the task, laid out as `augment` lays out its
        copies, each subsample row (the teacher's training data) followed by the rows that come after it in
        the GLUE file (those before the first, after the first): so the held-out slice is the same examples
        as the subsample's, and no row of the task outside the subsample can be one of them. A row whose text is
        a subsample row's is left out (it would be a held-out example, or a second copy)."""
        path = self.work / "glue-all" / self.spec.name / "train.tsv"
        if not path.is_file():
            header, lines, chosen = self._source_lines()
            taken = {_phrase(lines[i]) for i in chosen}
            owner = np.maximum(np.searchsorted(chosen, np.arange(len(lines)), side="right") - 1, 0)
            after = [[] for _ in chosen]
            for index, line in enumerate(lines):
                if _phrase(line) not in taken:
                    after[owner[index]].append(line)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, header + "".join(lines[i] + "".join(rest) for i, rest in zip(chosen, after)))
        return replace(self.plain, train_path=path)

    def long_augmented(self) -> TaskData:
        """The "aug" budget's training data: the subsample, each phrase of at least AUG_MIN_WORDS words followed by
        AUG_COPIES copies from `augment` (the demo masked-LM): sentence-length transfer data, where the training
        phrases are far shorter than the dev sentences. Copies follow their phrase, so the held-out slice and
        its copies stay out of training as with MRPC's augmented set."""
        folder = self.work / "glue-aug" / self.spec.name
        path = folder / "train.tsv"
        if not path.is_file():
            header, *lines = self.plain.train_path.read_text(encoding="utf-8").splitlines(keepends=True)
            long = [line for line in lines if len(_phrase(line).split()) >= AUG_MIN_WORDS]
            folder.mkdir(parents=True, exist_ok=True)
            write_text_atomic(folder / "long.tsv", header + "".join(long))
            config = AugmentConfig.of(n=AUG_COPIES, dtype=PRECISION)
            columns, fmt = list(self.plain.spec.text_columns), format_for(self.plain.train_path)
            made = folder / "long_aug.tsv"
            self.timed(
                "augment",
                partial(augment_file, folder / "long.tsv", made, columns, config, fmt=fmt, label_column="label"),
            )
            copies = self._copies_of_each(made, folder / "long.tsv", long)
            following, long_lines = iter(copies), set(long)
            merged = ("".join(next(following)) if line in long_lines else line for line in lines)
            write_text_atomic(path, header + "".join(merged))
        return replace(self.plain, train_path=path)

    def _copies_of_each(self, made: Path, originals: Path, long: list[str]) -> list[list[str]]:
        """Each long phrase's lines in the augmented file `made`: itself, then its copies."""
        augmented = replace(self.plain, train_path=made, original_train_path=originals)
        owners, _ = augmented.example_of_each_row()
        copies = [[] for _ in long]
        for owner, line in zip(owners, made.read_text(encoding="utf-8").splitlines(keepends=True)[1:]):
            copies[owner].append(line)
        if [group[0] for group in copies] != long:
            raise RuntimeError(f"{made}: its originals are not {originals}'s lines, byte for byte")
        return copies

    def augmented(self) -> TaskData:
        """MRPC's student data: the quality study's augmented set (demo masked-LM, N=20), made there if absent."""
        path = self.quality_work / "train_aug.tsv"
        if not path.is_file():
            self.quality_work.mkdir(parents=True, exist_ok=True)
            columns, fmt = list(self.plain.spec.text_columns), format_for(self.plain.train_path)
            config = AugmentConfig.of(n=20, dtype=PRECISION)
            label = self.spec.label_column
            self.timed(
                "augment",
                partial(augment_file, self.plain.train_path, path, columns, config, fmt=fmt, label_column=label),
            )
        return replace(self.plain, train_path=path)
