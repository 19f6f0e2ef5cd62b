"""Settings that describe themselves: a settings dataclass declares each user-facing field once, with
its default and its help, and the command line builds its flags from that declaration. There is no
second list of flags that could drift from the settings they fill.

    @dataclass(frozen=True)
    class Options:
        alpha: float = setting(0.5, "KD weight (the task loss gets 1 - alpha).", minimum=0, maximum=1)
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass


@dataclass(frozen=True)
class Described:
    """One declared setting: its field name, Python type, default and how the command line shows it."""

    name: str
    type: type  # int, float, str, bool or tuple (a repeatable flag of strings)
    default: object
    help: str
    flag: str  # the long flag, e.g. --max-seq-length
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    open_interval: bool = False  # minimum and maximum themselves excluded
    negatable: bool = False  # a bool shown as --name/--no-name


def setting(
    default,
    help: str,
    *,
    flag: str | None = None,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    open_interval: bool = False,
    negatable: bool = False,
):
    """A dataclass field with its command-line description (see the module docstring)."""
    meta = {
        "help": help,
        "flag": flag,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "open_interval": open_interval,
        "negatable": negatable,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("a setting's default must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata={"described": meta})


def described(settings_class) -> list[Described]:
    """The declared settings of a dataclass, in field order (fields without `setting` are internal)."""
    hints = typing.get_type_hints(settings_class)
    found = []
    for field in dataclasses.fields(settings_class):
        meta = field.metadata.get("described")
        if meta is None:
            continue
        kind = _plain_type(hints[field.name])
        flag = meta["flag"] or "--" + field.name.replace("_", "-")
        found.append(Described(field.name, kind, field.default, **{**meta, "flag": flag}))
    return found


def _plain_type(hint) -> type:
    """int for `int` and `int | None`; tuple for `tuple[str, ...]`."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin is tuple or hint is tuple:
        return tuple
    if args and origin is not None and origin is not tuple:
        return _plain_type(args[0])
    return hint
