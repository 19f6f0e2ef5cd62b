"""Whole-file augmentation on real MRPC rows: rows per example, pair alignment, labels, determinism
across workers, resume, and the tolerated oddities (ragged rows, empty and over-long texts)."""

import json

import pytest
import torch

from augment import AugmentConfig, augment_file, split_words
from data import InputError, get_task, read_table
from data.hardware import resolve_precision
from tests.conftest import VECTORS

MRPC = get_task("MRPC")
TEXTS = list(MRPC.text_columns)


def _config(tiny_mlm, **changes):
    return AugmentConfig.of(**{"n": 6, "mlm": str(tiny_mlm), "glove": str(VECTORS), "device": "cpu", **changes})


def _stop_after(last: int):
    """An `on_shard` hook: the user presses Ctrl-C once shard `last` is finished."""

    def hook(index):
        if index == last:
            raise KeyboardInterrupt

    return hook


def _same_words_except_replaceable(original: str, variant: str) -> bool:
    a, b = split_words(original), split_words(variant)
    if len(a.tokens) != len(b.tokens):
        return False
    return all(x == y or ok for x, y, ok in zip(a.tokens, b.tokens, a.replaceable()))


@pytest.fixture(scope="module")
def mrpc_augmented(tmp_path_factory, tiny_mlm, mrpc_head):
    out = tmp_path_factory.mktemp("out") / "train_aug.tsv"
    summary = augment_file(
        mrpc_head, out, TEXTS, _config(tiny_mlm), label_column="Quality", shard_rows=16, progress=False
    )
    return summary, read_table(mrpc_head), read_table(out), out


def test_every_example_is_kept_then_followed_by_its_own_copies(mrpc_augmented):
    summary, source, output, _ = mrpc_augmented
    assert summary.rows_in == 40 and summary.rows_out == len(output)
    groups = output.groupby(["#1 ID", "#2 ID"], sort=False)
    assert len(groups) == 40
    for (id1, id2), rows in groups:
        example = source[(source["#1 ID"] == id1) & (source["#2 ID"] == id2)].iloc[0]
        assert 2 <= len(rows) <= 7  # the original + up to N = 6 distinct copies
        assert rows.iloc[0].equals(example)  # the original row comes first, unchanged
        assert (rows["Quality"] == example["Quality"]).all()  # label kept
        assert not rows.duplicated(TEXTS).any()
        for _, row in rows.iterrows():  # each text is a variant of the SAME example's text
            assert _same_words_except_replaceable(example["#1 String"], row["#1 String"])
            assert _same_words_except_replaceable(example["#2 String"], row["#2 String"])
    # Copy j pairs draw j of text A with draw j of text B: text A varies from copy to copy. (The published
    # script paired every B variant with the LAST A variant, so its copies all share one text A.)
    copies = output.groupby(["#1 ID", "#2 ID"], sort=False).apply(lambda rows: rows.iloc[1:], include_groups=False)
    varied = copies.groupby(level=[0, 1])["#1 String"].nunique()
    several = copies.groupby(level=[0, 1]).size() >= 3
    assert (varied[several] >= 2).mean() > 0.9, varied[several].describe()


def test_output_rows_are_in_input_order_and_labels_keep_their_balance(mrpc_augmented):
    _, source, output, path = mrpc_augmented
    firsts = output.drop_duplicates(["#1 ID", "#2 ID"])
    assert firsts["#1 ID"].tolist() == source["#1 ID"].tolist()
    assert path.read_bytes().startswith(b"\xef\xbb\xbfQuality\t#1 ID")  # the input's own header and BOM
    # each label's row count is its examples' rows: the input's balance, weighted by copies per example
    rows = output.groupby(["#1 ID", "#2 ID"], sort=False).size().to_numpy()
    expected = source["Quality"].repeat(rows).value_counts()
    assert output["Quality"].value_counts().to_dict() == expected.to_dict()
    assert set(expected.index) == {"0", "1"}


def test_same_seed_same_bytes_for_one_or_two_workers(tmp_path, tiny_mlm, mrpc_head, mrpc_augmented):
    *_, one_worker = mrpc_augmented
    two = tmp_path / "two.tsv"
    augment_file(mrpc_head, two, TEXTS, _config(tiny_mlm), jobs=2, shard_rows=16, progress=False)
    assert two.read_bytes() == one_worker.read_bytes()
    other_seed = tmp_path / "seed.tsv"
    augment_file(mrpc_head, other_seed, TEXTS, _config(tiny_mlm, seed=7), shard_rows=16, progress=False)
    assert other_seed.read_bytes() != one_worker.read_bytes()


def test_resume_reuses_finished_shards_and_gives_the_same_file(tmp_path, tiny_mlm, mrpc_head, mrpc_augmented):
    *_, uninterrupted = mrpc_augmented
    out = tmp_path / "train_aug.tsv"
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C once the second of three shards is written
        augment_file(mrpc_head, out, TEXTS, _config(tiny_mlm), shard_rows=16, progress=False, on_shard=_stop_after(1))
    assert not out.exists()  # nothing half-written
    summary = augment_file(mrpc_head, out, TEXTS, _config(tiny_mlm), shard_rows=16, progress=False, resume=True)
    assert summary.resumed_shards == 2 and summary.shards == 3
    assert out.read_bytes() == uninterrupted.read_bytes()
    assert not out.with_name(".train_aug.tsv.parts").exists()


def _interrupted_before_assembly(*args, **kwargs):
    """Every part of the 3 shards (40 rows, 16 a shard) written, then interrupted before the output is
    assembled."""
    with pytest.raises(KeyboardInterrupt):
        augment_file(*args, shard_rows=16, progress=False, on_shard=_stop_after(2), **kwargs)


def test_resume_with_other_settings_starts_over(tmp_path, tiny_mlm, mrpc_head):
    out = tmp_path / "a.tsv"
    _interrupted_before_assembly(mrpc_head, out, TEXTS, _config(tiny_mlm))
    summary = augment_file(mrpc_head, out, TEXTS, _config(tiny_mlm, p=0.2), shard_rows=16, progress=False, resume=True)
    assert summary.resumed_shards == 0


def test_ragged_empty_and_long_texts_are_tolerated(tmp_path, tiny_mlm):
    source = tmp_path / "reviews.tsv"
    long_text = " ".join(["the river crossed the quiet valley"] * 40)
    source.write_text(
        f"review\tstars\na quiet river town\t5\n   \t3\nbroken\trow\twith\textra\tfields\n{long_text}\t4\n\t1\n"
    )
    out = tmp_path / "reviews_aug.tsv"
    summary = augment_file(
        source, out, ["review"], _config(tiny_mlm, max_length=64), label_column="stars", progress=False
    )
    frame = read_table(out)
    assert summary.ragged_lines == [4]
    assert summary.counts["empty_texts"] == 2 and summary.counts["cut_windows"] > 0
    assert frame[frame["stars"] == "3"]["review"].tolist() == ["   "]  # kept unchanged, no copies
    assert frame[frame["stars"] == "1"]["review"].tolist() == [""]
    assert (frame["stars"] == "4").sum() > 1


def test_csv_keeps_its_quoting_and_original_rows_byte_for_byte(tmp_path, tiny_mlm):
    """Raw lines, not a pandas read-back: quoting, number formats and line endings are compared."""
    source = tmp_path / "reviews.csv"
    source.write_text(
        "id,review,stars\n"
        '1,"A ""quiet"", lovely river town.",5\n'
        '2,"The border, closed.",1\n'
        "3,Plain words about the quiet valley,3.5\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    augment_file(source, out, ["review"], _config(tiny_mlm), label_column="stars", progress=False)
    lines, originals = out.read_text(encoding="utf-8").splitlines(), source.read_text().splitlines()
    assert b"\r" not in out.read_bytes() and out.read_bytes().endswith(b"\n")  # the input's line endings
    assert lines[0] == originals[0]
    assert [line for line in lines if line in originals[1:]] == originals[1:]  # each original, unchanged, in order
    assert len(lines) > len(originals)
    import csv

    rows = list(csv.reader(lines[1:]))
    assert all(len(row) == 3 for row in rows) and {row[2] for row in rows} == {"5", "1", "3.5"}
    for row, line in zip(rows, lines[1:]):  # a field is quoted exactly when it needs it
        assert line.startswith(f'{row[0]},"') == any(c in row[1] for c in ',"\n')


def test_jsonl_keeps_its_value_types_and_original_records(tmp_path, tiny_mlm):
    import json

    records = [
        {"id": 1, "review": 'A "quiet", lovely river town café.', "stars": 5, "score": 0.75, "tags": ["a"]},
        {"id": 2, "review": "The border stayed closed all week.", "stars": 1, "score": 1.0, "tags": []},
    ]
    source = tmp_path / "reviews.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    augment_file(source, out, ["review"], _config(tiny_mlm), label_column="stars", progress=False)
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(written) > 2 and written[0] == records[0] and records[1] in written
    for record in written:  # numbers stay numbers (5, not "5"; 1.0 stays a float), lists stay lists
        original = next(r for r in records if r["id"] == record["id"])
        assert {k: (v, type(v)) for k, v in record.items() if k != "review"} == {
            k: (v, type(v)) for k, v in original.items() if k != "review"
        }
    assert "café" in out.read_text(encoding="utf-8")  # UTF-8 kept, not \u escapes


def test_resume_keys_parts_by_file_content_and_resolved_precision(tmp_path, tiny_mlm, mrpc_head):
    """Before: parts were keyed by the vector file's path, so replacing it and resuming reused old parts."""
    import os
    import shutil

    vectors = tmp_path / "vectors.txt"
    shutil.copy(VECTORS, vectors)
    out = tmp_path / "train_aug.tsv"
    config = AugmentConfig.of(n=4, mlm=None, glove=str(vectors))

    _interrupted_before_assembly(mrpc_head, out, TEXTS, config)
    lines = VECTORS.read_text(encoding="utf-8").splitlines()
    lines = [line.split(" ", 1)[0] + " " + " ".join(reversed(line.split(" ")[1:])) for line in lines]
    vectors.write_text("\n".join(lines) + "\n")  # same words, same size, other vectors...
    os.utime(vectors, (0, 0))  # ...and an old time
    summary = augment_file(mrpc_head, out, TEXTS, config, shard_rows=16, progress=False, resume=True)
    assert summary.resumed_shards == 0
    fresh = tmp_path / "fresh.tsv"
    augment_file(mrpc_head, fresh, TEXTS, config, shard_rows=16, progress=False)
    assert out.read_bytes() == fresh.read_bytes()

    # The precision counts as what `auto` resolves to here: parts made with that precision named are
    # reused by an `auto` run, parts of an `auto` run are not reused at another precision.
    here = resolve_precision("auto", torch.device("cpu"))
    other = "fp32" if here != "fp32" else "bf16"

    def tiny(dtype):
        return AugmentConfig.of(n=4, mlm=str(tiny_mlm), glove=str(vectors), device="cpu", dtype=dtype)

    # (each run replaces the finished output of the one before: --overwrite)
    replace = {"shard_rows": 16, "progress": False, "resume": True, "overwrite": True}
    _interrupted_before_assembly(mrpc_head, out, TEXTS, tiny(here), overwrite=True)
    assert augment_file(mrpc_head, out, TEXTS, tiny("auto"), **replace).resumed_shards == 3
    _interrupted_before_assembly(mrpc_head, out, TEXTS, tiny("auto"), overwrite=True)
    assert augment_file(mrpc_head, out, TEXTS, tiny(other), **replace).resumed_shards == 0


@pytest.mark.slow
def test_a_local_dask_cluster_of_two_workers_gives_the_same_bytes(tmp_path, tiny_mlm, mrpc_head, mrpc_augmented):
    """`augment --dask local --jobs 2`: the same shards on two dask.distributed worker processes."""
    from click.testing import CliRunner

    from cli import main

    *_, one_worker = mrpc_augmented
    out = tmp_path / "dask.tsv"
    result = CliRunner().invoke(
        main,
        [
            "augment",
            "--quiet",
            "--input",
            str(mrpc_head),
            *sum((["--text-col", t] for t in TEXTS), []),
            "--label-col",
            "Quality",
            "--mlm",
            str(tiny_mlm),
            "--glove",
            str(VECTORS),
            "--n",
            "6",
            "--shard-rows",
            "16",
            "--dask",
            "local",
            "--jobs",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == one_worker.read_bytes()
    assert "shards run on dask.distributed (local): 2 workers" in result.output


def test_batch_settings_decide_the_bytes_only_in_reduced_precision(tmp_path, tiny_mlm, mrpc_head):
    """fp32: the shard and batch sizes only pace a run (the same bytes, so a finished output is done
    whatever they are, and a resume may change them). bf16: they are part of what made the bytes, with
    the kernels; the manifest says so, a finished output is kept from other values, and a resume that
    changes them is refused rather than started over or mixed."""
    fp32 = _config(tiny_mlm, dtype="fp32")
    out = tmp_path / "fp32.tsv"
    augment_file(mrpc_head, out, TEXTS, fp32, shard_rows=16, progress=False)
    assert json.loads((tmp_path / "fp32.tsv.json").read_text())["batching_decides_bytes"] is False
    other = _config(tiny_mlm, dtype="fp32", batch_size=3)
    assert augment_file(mrpc_head, out, TEXTS, other, shard_rows=5, progress=False).unchanged_output
    augment_file(mrpc_head, tmp_path / "check.tsv", TEXTS, other, shard_rows=5, progress=False)
    assert (tmp_path / "check.tsv").read_bytes() == out.read_bytes()  # what "done" relies on

    bf16 = _config(tiny_mlm, dtype="bf16")
    out = tmp_path / "bf16.tsv"
    _interrupted_before_assembly(mrpc_head, out, TEXTS, bf16)
    with pytest.raises(InputError, match=r"--resume: the finished shards .* were made with other source.batch_size"):
        augment_file(mrpc_head, out, TEXTS, _config(tiny_mlm, dtype="bf16", batch_size=3), shard_rows=16, resume=True)
    assert augment_file(mrpc_head, out, TEXTS, bf16, shard_rows=16, progress=False, resume=True).resumed_shards == 3
    manifest = json.loads((tmp_path / "bf16.tsv.json").read_text())
    assert manifest["batching_decides_bytes"] is True and manifest["request"]["shard_rows"] == 16
    assert manifest["request"]["source"]["kernels"]["torch"] == torch.__version__
    with pytest.raises(InputError, match=r"made with other settings \(differing: shard_rows\)"):
        augment_file(mrpc_head, out, TEXTS, bf16, shard_rows=8, progress=False)
