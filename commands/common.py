"""What every command shares: logging to stderr, known errors as one message and exit status 2, and
the refusal of flags that would silently do nothing."""

from __future__ import annotations

import functools
import logging
import sys

import click
import torch
import transformers
from click.core import ParameterSource

from data import InputError
from data.stopping import NOTHING_KEPT, Stopped, full_disk_reason, stop_on_signals


class EchoHandler(logging.Handler):
    """Library messages to stderr through click, resolved at each message (tests swap the streams)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def configure_run() -> None:
    """What every command needs first: our log lines, and stop signals as `Stopped` while it runs."""
    configure_logging()
    click.get_current_context().call_on_close(stop_on_signals())


def configure_logging() -> None:
    logger = logging.getLogger("tinydistill")
    if not any(isinstance(h, EchoHandler) for h in logger.handlers):
        logger.addHandler(EchoHandler())
    logger.setLevel(logging.INFO)
    logger.propagate = False  # our handler only: a library that configures the root logger doubles nothing
    # Libraries that log to the root logger (ONNX Runtime's quantizer) would otherwise configure it on
    # their first message and print it: only our own lines on a good run.
    logging.getLogger().addHandler(logging.NullHandler())
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def user_errors(command):
    """Known bad input and a full disk -> 'error: ...' on stderr and exit 2; a stop signal -> one line
    and exit 128 + its number; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InputError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(2)
        except Stopped as stop:
            click.echo(stop.line(), err=True)
            sys.exit(stop.exit_status)
        except OSError as err:  # a full disk where no write named itself (see data.stopping.writing)
            reason = full_disk_reason(err)
            if reason is None:
                raise
            click.echo(f"error: {reason} while writing {err.filename or 'a file'}; {NOTHING_KEPT}", err=True)
            sys.exit(2)
        except torch.cuda.OutOfMemoryError:
            click.echo(
                "error: out of GPU memory. Lower --batch-size (and raise --grad-accum to keep the same "
                "effective batch), or --max-seq-length",
                err=True,
            )
            sys.exit(2)

    return wrapper


def refuse_given(names, why: str) -> None:
    """Exit 2 naming every flag of `names` that the user typed (flags that would silently do nothing)."""
    context = click.get_current_context()
    given = [
        param.opts[0]
        for param in context.command.get_params(context)
        if param.name in names and context.get_parameter_source(param.name) == ParameterSource.COMMANDLINE
    ]
    if given:
        raise InputError(f"{why}: drop {', '.join(given)}")
