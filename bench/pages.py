"""A study's tables on a docs page: each between its `<!-- NAME:start -->` and `<!-- NAME:end -->` markers,
so a render replaces its own tables and leaves the page's prose as written."""

from __future__ import annotations

from pathlib import Path


def render_into_page(page: Path, marker: str, table: str) -> None:
    """`table` between the page's `marker` markers (a page without them is left as it is)."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    text = page.read_text()
    if start in text and end in text:
        head, rest = text.split(start, 1)
        page.write_text(head + start + "\n" + table + end + rest.split(end, 1)[1])
