"""Reading and writing text-classification tables (TSV, CSV, JSON Lines) with pandas.

GLUE TSVs are read with quoting off (sentences contain bare `"` characters) and may start with a
UTF-8 byte-order mark; both survive a read/write round trip. A scan before reading checks that the
file is UTF-8 and finds ragged rows by line number, so a run can refuse bad bytes before doing any
work and skip ragged rows (as GLUE QQP needs) while saying which ones.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

import numpy as np
import pandas as pd

from .errors import InputError

BOM = b"\xef\xbb\xbf"
_SUFFIXES = {".tsv": "tsv", ".txt": "tsv", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class TableFormat:
    """How a table file is laid out. `raw` TSVs have no quoting at all (the GLUE convention)."""

    kind: str  # "tsv", "csv" or "jsonl"
    column_names: tuple[str, ...] | None = None  # for files without a header line

    @property
    def raw(self) -> bool:
        return self.kind == "tsv"

    @property
    def has_header(self) -> bool:
        return self.kind != "jsonl" and self.column_names is None


def format_for(path: str | Path, column_names: tuple[str, ...] | None = None) -> TableFormat:
    """The table format a file name implies (`.tsv`, `.csv`, `.jsonl`)."""
    kind = _SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(f"{path}: unknown table format {Path(path).suffix!r}; use a .tsv, .csv or .jsonl file")
    return TableFormat(kind, column_names)


@dataclass
class TableScan:
    """What one pass over the raw bytes found: rows, ragged lines, a byte-order mark."""

    rows: int = 0
    bom: bool = False
    ragged_lines: list[int] = field(default_factory=list)
    columns: tuple[str, ...] = ()


def scan_table(path: str | Path, fmt: TableFormat) -> TableScan:
    """Check UTF-8, count data rows and (for raw TSVs) find rows with the wrong number of fields."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    scan = TableScan()
    expected_fields = len(fmt.column_names) if fmt.column_names else None
    with open(path, "rb") as handle:
        for lineno, line in enumerate(handle, 1):
            if lineno == 1 and line.startswith(BOM):
                scan.bom, line = True, line[len(BOM) :]
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise InputError(
                    f"{path}, line {lineno}, byte {err.start + 1}: not UTF-8 text. "
                    "Re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
                ) from None
            text = text.rstrip("\r\n")
            if lineno == 1 and fmt.has_header:
                scan.columns = tuple(_split_header(text, fmt))
                expected_fields = len(scan.columns)
                continue
            if not text.strip():
                continue
            if fmt.raw and text.count("\t") + 1 != expected_fields:
                scan.ragged_lines.append(lineno)
                continue
            scan.rows += 1
    if fmt.column_names:
        scan.columns = fmt.column_names
    return scan


def _split_header(line: str, fmt: TableFormat) -> list[str]:
    if fmt.kind == "csv":
        return next(csv.reader([line]))
    return line.split("\t")


def read_chunks(
    path: str | Path, fmt: TableFormat, scan: TableScan, chunksize: int
) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    """Stream the table as string DataFrames of `chunksize` rows, skipping the scan's ragged rows.

    Each chunk comes with the line numbers of the ragged rows that only pandas could see while reading
    it (CSV rows with extra fields), so the reader learns them as it goes.
    """
    try:
        if fmt.kind == "jsonl":
            for chunk in pd.read_json(path, lines=True, dtype=False, chunksize=chunksize, encoding="utf-8-sig"):
                yield chunk, []
            return
        options = dict(dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=chunksize)
        if fmt.column_names:
            options.update(header=None, names=list(fmt.column_names))
        if fmt.raw:
            options.update(sep="\t", quoting=csv.QUOTE_NONE, skiprows=[line - 1 for line in scan.ragged_lines])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for chunk in pd.read_csv(path, on_bad_lines="warn", **options):
                skipped = _skipped_lines(caught)
                caught.clear()
                yield chunk, skipped
    except (ValueError, pd.errors.ParserError) as err:
        raise InputError(f"{path}: cannot read it as {fmt.kind.upper()}: {err}") from None


def _skipped_lines(caught: list[warnings.WarningMessage]) -> list[int]:
    return [int(n) for w in caught for n in re.findall(r"Skipping line (\d+)", str(w.message))]


@dataclass(frozen=True)
class Table:
    """A whole table, and the line numbers of the ragged rows left out of it."""

    frame: pd.DataFrame
    skipped_lines: tuple[int, ...]


def read_rows(path: str | Path, fmt: TableFormat | None = None) -> Table:
    """The whole table as one string DataFrame, with the ragged rows it skipped."""
    fmt = fmt or format_for(path)
    scan = scan_table(path, fmt)
    chunks, skipped = [], list(scan.ragged_lines)
    for chunk, lines in read_chunks(path, fmt, scan, chunksize=65536):
        chunks.append(chunk)
        skipped += lines
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(scan.columns))
    return Table(frame, tuple(sorted(skipped)))


def read_table(path: str | Path, fmt: TableFormat | None = None) -> pd.DataFrame:
    """The whole table as one string DataFrame (ragged rows skipped: `read_rows` says which)."""
    return read_rows(path, fmt).frame


def check_columns(path: str | Path, available: tuple[str, ...] | list[str], wanted: list[str], flag: str) -> None:
    """Refuse column names that the table does not have, listing the ones it does."""
    missing = [c for c in wanted if c not in available]
    if missing:
        raise InputError(
            f"{path}: no column {missing[0]!r}; its columns are "
            f"{', '.join(map(repr, available))}. Set {flag} to one of them"
        )


def check_texts_present(source, chunk: pd.DataFrame, text_columns, first_row: int) -> None:
    """A text that is missing (a JSON record without the key, or null) is an error, not an empty text.
    A chunk whose records all lack the key has no such column at all."""
    for column in text_columns:
        missing = chunk[column].isna().to_numpy() if column in chunk else np.ones(len(chunk), dtype=bool)
        if missing.any():
            line = first_row + int(missing.argmax()) + 1
            raise InputError(
                f"{source}, record {line}: no {column!r} (the key is missing or null); give every "
                "record its text (an empty string is fine), or drop the record"
            )


def write_rows(frame: pd.DataFrame, handle: IO[str], fmt: TableFormat, header: bool) -> None:
    """Write rows so that `read_chunks` with the same format reads them back unchanged."""
    if fmt.kind == "jsonl":
        if len(frame):
            text = frame.to_json(orient="records", lines=True, force_ascii=False)
            handle.write(text if text.endswith("\n") else text + "\n")
        return
    options = dict(index=False, header=header, lineterminator="\n")
    if fmt.raw:
        options.update(sep="\t", quoting=csv.QUOTE_NONE, escapechar=None)
    try:
        frame.to_csv(handle, **options)
    except csv.Error as err:
        raise InputError(
            f"a text holds a tab or line break, which a GLUE-style TSV cannot store ({err}); "
            "write a .csv or .jsonl output instead"
        ) from None


def header_line(columns: list[str] | tuple[str, ...], fmt: TableFormat) -> str:
    """The header line of a table with these columns, or '' for headerless formats."""
    if not fmt.has_header:
        return ""
    buffer = io.StringIO()
    write_rows(pd.DataFrame(columns=list(columns)), buffer, fmt, header=True)
    return buffer.getvalue()
