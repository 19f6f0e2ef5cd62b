"""Settings that describe themselves become flags with the declared defaults, types and ranges; a
registry of plug-ins refuses what would silently do nothing."""

from dataclasses import dataclass

import click
import pytest
from click.testing import CliRunner

from commands.options import flags_of, settings_from, with_flags
from data import InputError
from data.options import described, setting
from data.registry import Registry


@dataclass(frozen=True)
class Knobs:
    share: float = setting(0.1, "A share of something.", flag="--share-of", minimum=0, maximum=1, open_interval=True)
    count: int | None = setting(None, "How many.", minimum=1)
    mode: str = setting("fast", "How to run.", choices=("fast", "slow"))
    grouped: bool = setting(True, "Group them.", negatable=True)
    names: tuple[str, ...] = setting((), "Names; repeat the flag.", flag="--name")
    internal: int = 3  # no `setting`: not a flag


def test_declared_settings_are_described_in_field_order_with_plain_types():
    found = {d.name: d for d in described(Knobs)}
    assert list(found) == ["share", "count", "mode", "grouped", "names"]
    assert [found[n].type for n in found] == [float, int, str, bool, tuple]
    assert found["share"].flag == "--share-of" and found["count"].flag == "--count"
    with pytest.raises(TypeError, match="immutable"):
        setting([], "a list default would be shared between instances")


def test_flags_made_from_settings_parse_into_the_settings():
    @click.command()
    @with_flags(flags_of(Knobs))
    def command(**values):
        click.echo(repr(settings_from(Knobs, values)))

    runner = CliRunner()
    assert runner.invoke(command, []).output.strip() == repr(Knobs())
    given = ["--share-of", "0.5", "--count", "2", "--mode", "slow", "--no-grouped", "--name", "a", "--name", "b"]
    assert runner.invoke(command, given).output.strip() == repr(Knobs(0.5, 2, "slow", False, ("a", "b")))
    for bad in (["--share-of", "1"], ["--count", "0"], ["--mode", "medium"]):  # ranges and choices hold
        assert runner.invoke(command, bad).exit_code == 2
    assert "[default: fast]" in runner.invoke(command, ["--help"]).output


@dataclass(frozen=True)
class ShoutOptions:
    volume: int = setting(3, "How loud.")


class Shout:
    name, summary, Options = "shout", "louder", ShoutOptions


def test_a_registry_lists_finds_and_refuses():
    registry = Registry("voice", "--voice", group="tinydistill.test-voices")  # a group no package declares
    registry.register(Shout)
    assert registry.available() == ("shout",) and isinstance(registry.get("shout"), Shout)
    with pytest.raises(InputError, match="--voice must be one of shout, got 'whisper'"):
        registry.get("whisper")
    assert registry.typed_options("shout", {"volume": 5, "pitch": None}) == {"volume": 5}  # None: not typed
    with pytest.raises(InputError, match="--voice shout has no use for --pitch: drop it"):
        registry.typed_options("shout", {"volume": 5, "pitch": 2})
    registry.unregister("shout")
    assert registry.available() == ()
    with pytest.raises(InputError, match="the entry points of group tinydistill.test-voices are missing"):
        registry.get("shout")


def test_an_option_added_since_a_result_was_made_is_no_difference_while_off():
    """A finished run recorded before --balance-classes existed was made with it off: asking it off again is
    the same run; asking it on is not."""
    from data.outputs import differences

    made = {"recipe": {"method": "tinybert"}}
    assert differences(made, {"recipe": {"method": "tinybert", "balance_classes": False}}) == []
    assert differences(made, {"recipe": {"method": "tinybert", "balance_classes": True}}) == ["recipe.balance_classes"]
    assert differences({"recipe": {"method": "tinybert", "x": 1}}, {"recipe": {"method": "tinybert"}}) == ["recipe.x"]
