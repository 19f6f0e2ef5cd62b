"""README is the front door: it states the precision rule in the words the code uses for it (one rule, one
text), stays short, links every docs/ page, and its links (and those of the docs/ pages) lead to files."""

import re
from pathlib import Path

from data.hardware import PRECISION_HELP
from tests.conftest import ROOT, copy_glue_rows, run_cli

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def relative_links(page: Path) -> list[Path]:
    """The files that the page's markdown links `](target)` name, other than web addresses and anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", page.read_text())
    return [page.parent / t.split("#")[0] for t in targets if not t.startswith(("http://", "https://", "#"))]


def test_readme_states_the_precision_rule_of_the_code():
    readme = " ".join(README.read_text().split())
    assert PRECISION_HELP in readme and readme.count(PRECISION_HELP) == 1


def test_readme_is_short_links_every_docs_page_and_every_link_leads_to_a_file():
    assert len(README.read_text().splitlines()) <= 300
    for page in [README, *DOCS]:
        missing = [str(path) for path in relative_links(page) if not path.exists()]
        assert not missing, f"{page.name} links to files that do not exist: {missing}"
    linked = {path.resolve() for path in relative_links(README)}
    assert DOCS and not [page.name for page in DOCS if page.resolve() not in linked]


def test_the_architecture_pages_walk_throughs_run(tmp_path):
    """The 'add a method' and 'add a source' examples are real code: run as written, they register a
    method and a source that the command line then offers and runs."""
    import click

    from augment import sources
    from cli import main
    from distill import methods

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "architecture.md").read_text(), re.S)
    assert len(blocks) == 2
    try:
        for block in blocks:
            exec(compile(block, "docs/architecture.md", "exec"), {})
        command = main.commands["distill"]
        assert "logits_kd" in command.get_params(click.Context(command))[0].type.choices
        data = copy_glue_rows(tmp_path / "glue" / "MRPC", "MRPC", {"train.tsv": 6, "dev.tsv": 4})
        out = tmp_path / "reversed.tsv"
        result = run_cli("augment", "--quiet", "--data-dir", data.parent, "--source", "reverse", "--n", 2, "--out", out)
        assert result.exit_code == 0, result.output
        lines = out.read_text(encoding="utf-8-sig").splitlines()
        assert len(lines) > 7 and lines[2].split("\t")[3] == " ".join(lines[1].split("\t")[3].split()[::-1])
    finally:
        methods.REGISTRY.unregister("logits_kd")
        sources.REGISTRY.unregister("reverse")
