"""tinydistill command line: the entry point (`python cli.py COMMAND` or `tinydistill COMMAND`).

The commands live in `commands/`, one module per group; each parses its flags, calls one library
function and prints what it returns. Logging is configured here and only here.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may download at run time
# Worker processes (joblib, dask) inherit these: only our own lines on a good run
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import click  # noqa: E402

from commands.augment_command import augment_command  # noqa: E402
from commands.common import configure_run  # noqa: E402
from commands.ship_commands import evaluate_command, export_command, predict_command  # noqa: E402
from commands.static_command import static_command  # noqa: E402
from commands.train_commands import distill_command, finetune_command  # noqa: E402


@click.group()
def main():
    """tinydistill: small, fast BERT models for text classification, offline."""
    configure_run()


COMMANDS = (augment_command, finetune_command, distill_command, static_command, evaluate_command, export_command)
for command in (*COMMANDS, predict_command):
    main.add_command(command)


if __name__ == "__main__":
    main()
