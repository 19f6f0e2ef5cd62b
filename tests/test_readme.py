"""README states the precision rule in the words the code uses for it (one rule, one text)."""

from pathlib import Path

from data.hardware import PRECISION_HELP


def test_readme_states_the_precision_rule_of_the_code():
    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    assert PRECISION_HELP in readme and readme.count(PRECISION_HELP) == 1
