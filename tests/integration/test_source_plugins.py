"""Augmentation sources are plug-ins: a source defined here, in the test file, registered like a user's
own, runs through `cli.py augment --source` with its own flags, resumes after a crash, and gets the
preview, summary and manifest every source gets; the command's choices are the registry's. The same
source, written out as an outside package with an entry point, is found by a fresh `cli.py` process
with no registration from Python."""

import inspect
import json
import re
from collections import Counter
from dataclasses import dataclass

import click
import numpy as np
import pytest

from augment import AugmentConfig, sources
from data import InputError, read_table
from data.options import setting
from tests.conftest import copy_glue_rows, outside_package, refused, run_cli, run_cli_process

TEXTS = ["#1 String", "#2 String"]


@dataclass(frozen=True)
class UpperOptions:
    words: int = setting(1, "Words upper-cased in each copy.", minimum=1)
    crash_at_row: int | None = setting(None, "Crash on reaching this 0-based row (a test's simulated failure).")


class Upper(sources.Source):
    """Copies with `words` random words of each text upper-cased, drawn from (seed, row): no model."""

    name = "upper"
    summary = "copies with a few words upper-cased"
    Options = UpperOptions

    def open(self, options):
        return UpperCopier(options)

    def fingerprint(self, options):
        return {"words": options.words}  # where it crashes decides nothing written


class UpperCopier:
    def __init__(self, options):
        self.options = options

    def copies(self, texts, rows, *, n, seed, marks=False):
        if self.options.crash_at_row in rows:
            raise RuntimeError("simulated crash")
        made = []
        for i, row in enumerate(rows):
            rng = np.random.default_rng([seed, row])
            made.append([sources.Copy(tuple(self._upper(column[i], rng) for column in texts)) for _ in range(n)])
        return sources.Copies(made, Counter(calls=1))

    def _upper(self, text, rng):
        words = text.split(" ")
        chosen = set(rng.choice(len(words), size=min(self.options.words, len(words)), replace=False).tolist())
        return " ".join(word.upper() if j in chosen else word for j, word in enumerate(words))


# The same source as an outside package's one module: this file's classes, as source text, registering
# themselves as they are imported (here, by the entry point) like the built-in source module.
PLUGIN_MODULE = "\n\n".join(
    [
        '"""Upper-casing copies, a source of an outside package (tests/integration/test_source_plugins.py)."""\n',
        "from collections import Counter",
        "from dataclasses import dataclass\n",
        "import numpy as np\n",
        "from augment import sources",
        "from data.options import setting\n",
        inspect.getsource(UpperOptions),
        "@sources.register\n" + inspect.getsource(Upper),
        inspect.getsource(UpperCopier),
    ]
)


@pytest.fixture
def upper():
    sources.register(Upper)
    yield
    sources.REGISTRY.unregister("upper")


@pytest.fixture
def mrpc6(tmp_path):
    return copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 6})


def _augment(data, out, *flags):
    where = ("--out", out) if out else ()
    return run_cli("augment", "--quiet", "--data-dir", data.parent, "--source", "upper", *where, *flags)


def test_a_source_registered_from_outside_runs_resumes_and_is_recorded(tmp_path, upper, mrpc6):
    whole = tmp_path / "whole.tsv"
    result = _augment(mrpc6, whole, "--n", 3, "--words", 2, "--shard-rows", 2)
    assert result.exit_code == 0, result.output
    source, output = read_table(mrpc6 / "train.tsv"), read_table(whole)
    assert output.drop_duplicates(["#1 ID", "#2 ID"])["#1 ID"].tolist() == source["#1 ID"].tolist()
    for _, example in source.iterrows():
        rows = output[(output["#1 ID"] == example["#1 ID"]) & (output["#2 ID"] == example["#2 ID"])]
        assert rows.iloc[0].equals(example) and 1 < len(rows) <= 4 and not rows.duplicated(TEXTS).any()
        for text in TEXTS:  # each copy: the same words, at most two of them upper-cased
            old = example[text].split(" ")
            for new in rows[text].iloc[1:]:
                new = new.split(" ")
                assert len(new) == len(old) and all(b in (a, a.upper()) for a, b in zip(old, new))
                assert 0 < sum(a != b for a, b in zip(old, new)) <= 2 or new == old
    manifest = json.loads((tmp_path / "whole.tsv.json").read_text())
    assert manifest["settings"] == {"source": "upper", "n": 3, "seed": 42, "words": 2, "crash_at_row": None}
    assert manifest["rows_out"] == len(output) and "masked_lm" not in manifest
    summary = " ".join(result.output.split())
    assert f"wrote {len(output)} rows (6 examples + augmented copies)" in summary
    assert f"copies: {(len(output) - 6) / 6:.1f} distinct copies per example" in summary
    assert "candidates:" not in summary and "replaced" not in summary  # no word-level counts: no such lines

    crashed, flags = tmp_path / "crashed.tsv", ("--n", 3, "--shard-rows", 2)
    for words in (1, 2):  # a resume with other settings reuses nothing; with the same, the finished shard
        crashed.unlink(missing_ok=True)
        result = _augment(mrpc6, crashed, *flags, "--words", 2, "--crash-at-row", 2)
        assert result.exit_code != 0 and str(result.exception) == "simulated crash"
        assert not crashed.exists() and len(list(tmp_path.glob(".crashed.tsv.parts/part-*.json"))) == 1
        result = _augment(mrpc6, crashed, *flags, "--words", words, "--resume")
        assert result.exit_code == 0, result.output
        assert ("resumed: reused 1 of 3 finished shards" in result.output) == (words == 2)
    assert crashed.read_bytes() == whole.read_bytes()


def test_the_preview_of_a_source_without_marks_shows_its_plain_copies(tmp_path, upper, mrpc6):
    shown = _augment(mrpc6, None, "--n", 2, "--preview", 2)
    assert shown.exit_code == 0, shown.output
    assert sorted(p.name for p in mrpc6.iterdir()) == ["train.tsv"]  # nothing written
    assert "2 of 6 rows shown. The full run would write about" in " ".join(shown.output.split())
    assert _augment(mrpc6, None, "--n", 2).exit_code == 0
    out = mrpc6 / "train_aug.tsv"
    originals = {" || ".join(row) for row in read_table(mrpc6 / "train.tsv")[TEXTS].itertuples(index=False)}
    written = {" || ".join(row) for row in read_table(out)[TEXTS].itertuples(index=False)} - originals
    copies = [line.split(". ", 1)[1] for line in shown.output.splitlines() if line.startswith("    ")]
    assert copies and set(copies) <= written and "→" not in shown.output  # the copies the run writes, unmarked


def _choices():
    from cli import main

    command = main.commands["augment"]
    (option,) = [p for p in command.get_params(click.Context(command)) if p.name == "source"]
    return tuple(option.type.choices)


def test_the_commands_source_choices_are_the_registry(upper):
    assert _choices() == sources.available() and "upper" in _choices() and "tinybert" in _choices()
    sources.REGISTRY.unregister("upper")
    assert _choices() == sources.available() and "upper" not in _choices()


def test_a_flag_of_another_source_is_refused(tmp_path, upper, mrpc6):
    out = tmp_path / "never.tsv"
    refused(
        *("augment", "--data-dir", mrpc6.parent, "--source", "upper", "--k", 3, "--out", out),
        message="--source upper has no use for --k: drop it",
    )
    refused(
        *("augment", "--data-dir", mrpc6.parent, "--words", 2, "--max-seq-length", 32, "--out", out),
        message="--source tinybert has no use for --words: drop it",
    )
    assert not out.exists()
    with pytest.raises(InputError, match="has no use for --mlm, --max-seq-length: drop them"):
        sources.options_for("upper", {"mlm": "none", "max_length": 64, "words": None})


def test_config_from_flat_keywords_splits_shared_settings_and_source_options(upper):
    config = AugmentConfig.of(n=3, seed=1, p=0.2, mlm="none")
    assert (config.source, config.n, config.seed, config.options.p, config.options.mlm) == ("tinybert", 3, 1, 0.2, None)
    assert AugmentConfig.of(source="upper", n=2, words=4).options == UpperOptions(words=4)
    with pytest.raises(TypeError, match="unknown setting"):
        AugmentConfig.of(source="upper", p=0.2)


def _squeezed(text: str) -> str:
    """Text without its whitespace: help as click wraps it (at spaces and after hyphens) compares whole."""
    return "".join(text.split())


@pytest.mark.slow
def test_an_outside_packages_source_is_found_by_its_entry_point_in_a_fresh_process(tmp_path, upper, mrpc6):
    """Nothing registers the source from Python in `cli.py`'s process: it finds it through the
    package's metadata, and writes the very bytes this process writes with the source registered from
    Python."""
    package = outside_package(
        tmp_path / "site-packages",
        "upper_source_plugin",
        PLUGIN_MODULE,
        {"tinydistill.sources": {"upper": "upper_source_plugin:Upper"}},
    )
    helped = run_cli_process("augment", "--source", "upper", "--help", path=(package,))
    assert helped.returncode == 0, helped.stderr
    (choices,) = re.findall(r"--source \[([^\]]+)\]", helped.stdout)
    assert {"tinybert", "upper"} <= set(choices.split("|"))
    shown = _squeezed(helped.stdout)
    assert _squeezed("upper: copies with a few words upper-cased") in shown
    assert _squeezed("--words INTEGER RANGE [--source upper] Words upper-cased in each copy.") in shown
    assert _squeezed("--crash-at-row INTEGER [--source upper] Crash on reaching this 0-based row") in shown
    assert "warning" not in helped.stderr

    out, flags = tmp_path / "outside.tsv", ("--n", 3, "--words", 2, "--shard-rows", 2)
    ran = run_cli_process(
        *("augment", "--quiet", "--data-dir", mrpc6.parent, "--source", "upper", *flags, "--out", out),
        path=(package,),
    )
    assert ran.returncode == 0, ran.stderr
    manifest = json.loads((tmp_path / "outside.tsv.json").read_text())
    assert manifest["settings"] == {"source": "upper", "n": 3, "seed": 42, "words": 2, "crash_at_row": None}
    output = read_table(out)
    assert len(output) > 6 and output.drop_duplicates(["#1 ID", "#2 ID"])["#1 ID"].tolist() == (
        read_table(mrpc6 / "train.tsv")["#1 ID"].tolist()
    )
    here = tmp_path / "here.tsv"
    assert _augment(mrpc6, here, *flags).exit_code == 0
    assert out.read_bytes() == here.read_bytes()
