"""README is the front door: it states the precision rule in the words the code uses for it (one rule, one
text), stays short, links every docs/ page, and its links (and those of the docs/ pages) lead to files."""

import re
from pathlib import Path

from data.hardware import PRECISION_HELP

ROOT = Path(__file__).parent.parent
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
