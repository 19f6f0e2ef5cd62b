"""`augment`: data augmentation of a GLUE task's train.tsv or the user's own table, by any registered
source. Its flags come from the library's declarations (the shared settings of `AugmentConfig`, how a
run is carried out in `RunSettings`, each source's `Options` from the registry at run time); it
parses them, calls the library and prints what the library describes."""

from __future__ import annotations

import click

from augment import AugmentConfig, RunSettings, augment_dataset, preview_dataset, sources

from .common import refuse_given, user_errors
from .options import flags_of, out_flag, plugin_command, settings_from, with_flags

OUT = out_flag(
    "Output file. Default: train_aug.tsv beside a GLUE train.tsv (runs/glue/TASK/ when that folder is read-only), "
    "else INPUT_aug.EXT beside --input (runs/augment/ when read-only).",
    folder=False,
)


@plugin_command("augment", sources.REGISTRY, "What makes the copies.", sources.DEFAULT_SOURCE)
@click.option(
    "--task",
    default=None,
    help="GLUE task (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI). Default: MRPC, unless --input is given.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="GLUE folder holding TASK/train.tsv (or the task folder itself). "
    "Default: $GLUE_DIR, else ../shared/data/glue.",
)
@click.option(
    "--input",
    "input_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Your own table instead of a GLUE task: .tsv (no quoting, as GLUE), .csv or .jsonl.",
)
@click.option(
    "--text-col",
    "text_columns",
    multiple=True,
    help="With --input: a text column to augment; repeat "
    "it for sentence pairs (--text-col question --text-col answer).",
)
@click.option(
    "--label-col", "label_column", default=None, help="With --input: the label column (checked, copied unchanged)."
)
@with_flags([OUT, *flags_of(AugmentConfig), *flags_of(RunSettings)])
@click.option(
    "--preview",
    type=click.IntRange(min=1),
    default=None,
    help="Look first: print this many random rows with the copies the run would write for them (changed "
    "words shown as [old→new] where the source marks them) and the run's estimated time and output rows, "
    "then exit; nothing is written.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@user_errors
def augment_command(source, preview, quiet, **values):
    """Data augmentation: write train_aug.tsv (or your table + _aug).

    Every example is kept and followed by up to N distinct copies made by --source. The default,
    TinyBERT's rule: in each copy, every replaceable word (alphabetic, not a stop word) is replaced with
    probability p by a random candidate: masked-LM predictions for words that are one word piece, GloVe
    neighbours for words of several pieces. For sentence pairs, copy j of an example pairs text A's
    draw j with text B's draw j.
    """
    options = sources.options_for(source, {name: values.pop(name) for name in sources.REGISTRY.option_names()})
    config = settings_from(AugmentConfig, values, source=source, options=options)
    if preview:
        running = ("jobs", "dask", "shard_rows", "resume", "overwrite", "out")
        refuse_given(running, "--preview writes nothing and runs nothing in full")
        where = {k: v for k, v in values.items() if k not in running}
        click.echo(preview_dataset(config, preview, **where).describe())
        return
    click.echo(augment_dataset(config, progress=not quiet, **values).describe(), err=True)
