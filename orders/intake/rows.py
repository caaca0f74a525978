"""Row sources shared by the file adapters: CSV/TSV over a text stream, XLSX read-only, both
streaming (memory stays flat as the file grows), and grouping of adjacent rows into orders."""

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from .canonical import FieldError
from .files import FileUnusable

Row = tuple[int, list[str]]


def csv_rows(handle, *, delimiter: str = ",") -> Iterator[Row]:
    """(line number, cells) per row; a tab-delimited flat file uses no quoting (Amazon's reports)."""
    if delimiter == "\t":
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(handle, delimiter=delimiter)
    for cells in reader:
        yield reader.line_num, cells


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # a phone number or quantity Excel stored as a number
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def xlsx_rows(handle) -> Iterator[Row]:
    """The first worksheet's rows, read-only (streaming); formulas are read as their cached values."""
    from openpyxl import load_workbook  # heavy; only the XLSX path needs it

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise FileUnusable(f"not an XLSX workbook ({exc.__class__.__name__}).") from exc
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def normalize_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).lower()


def read_header(rows: Iterator[Row]) -> dict[str, int]:
    """The first non-empty row, as {lowercased column name: index}."""
    for _number, cells in rows:
        if any(c.strip() for c in cells):
            index: dict[str, int] = {}
            for i, cell in enumerate(cells):
                index.setdefault(normalize_header(cell), i)
            return index
    raise FileUnusable("the file has no header row.")


def require(index: dict[str, int], required: Iterable[str], template: str) -> None:
    missing = [c for c in required if c not in index]
    if missing:
        raise FileUnusable(f"missing column(s): {', '.join(missing)}. Expected {template}.")


def grouped(rows: Iterator[Row], index: dict[str, int], key: str) -> Iterator[list[tuple[int, dict]]]:
    """Adjacent rows with the same value in ``key`` form one order; blank rows are skipped."""
    group: list[tuple[int, dict]] = []
    current = None
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        row = {name: (cells[i] if i < len(cells) else "") for name, i in index.items()}
        value = " ".join(row.get(key, "").split())
        if group and value != current:
            yield group
            group = []
        current = value
        group.append((number, row))
    if group:
        yield group


def row_errors(errors: list[FieldError], row: int, exc) -> None:
    errors.extend(FieldError(e.field, e.message, row) for e in exc.errors)
