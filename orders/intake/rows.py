"""Row sources shared by the file adapters: CSV/TSV over a text stream, XLSX read-only, both
streaming (memory stays flat as the file grows), and grouping of adjacent rows into orders."""

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from operator import itemgetter

from django.conf import settings

from oms.encoding import has_undecodable

from .canonical import FieldError, OrderRejected
from .files import FileUnusable

Row = tuple[int, list[str]]
# A cell longer than this rejects its row; the CSV reader itself reads cells up to CSV_FIELD_LIMIT
# (beyond that the row cannot be read at all and is rejected as a whole).
CSV_FIELD_LIMIT = 64 * 1024 * 1024
ERRORS = "\x00errors"  # the key of a grouped row's own errors (no column is named so)


def max_cell() -> int:
    return int(getattr(settings, "IMPORT_MAX_CELL_CHARS", 32767))


class BadRow(list):
    """A row the CSV reader could not read (an unterminated quote, a cell beyond the reader's
    limit): no cells, only the reason."""

    def __init__(self, message: str):
        super().__init__()
        self.message = message


def csv_rows(handle, *, delimiter: str = ",") -> Iterator[Row]:
    """(line number, cells) per row; a tab-delimited flat file uses no quoting (Amazon's reports).
    A row the reader cannot read is yielded as a BadRow and the reader goes on with the next line."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    if delimiter == "\t":
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:  # strict: a stray or unclosed quote is this row's error, not a silently merged cell
        reader = csv.reader(handle, delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            hint = (
                " (a quote is not closed: the lines after it were read as part of this row)"
                if ("unexpected end of data" in str(exc))
                else ""
            )
            yield start, BadRow(f"the row cannot be read: {exc}{hint}.")
            continue
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
        sheet.reset_dimensions()  # a sheet's declared size may be wrong: read every row there is
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def normalize_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).lower()


def read_header(rows: Iterator[Row]) -> dict[str, int]:
    """The first non-empty row, as {lowercased column name: index}."""
    for _number, cells in rows:
        if isinstance(cells, BadRow):
            raise FileUnusable(f"the header row {cells.message.removeprefix('the row ')}")
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


def cell_problem(value: str, limit: int) -> str:
    """Why a cell cannot be used as given: too long, a NUL, bytes the file's encoding cannot read."""
    if len(value) > limit:
        return f"the cell is {len(value)} characters long; at most {limit}."
    if "\x00" in value:
        return "the cell contains a NUL character."
    if has_undecodable(value):
        return "the cell contains bytes that are not valid UTF-8 (save the file as UTF-8); the row is left out."
    return ""


def grouped(rows: Iterator[Row], index: dict[str, int], key: str) -> Iterator[list[tuple[int, dict]]]:
    """Adjacent rows with the same value in ``key`` form one order; blank rows are skipped.

    A cell that cannot be used (see cell_problem) is blanked and its row carries the error under
    ERRORS, so ``group_rejection`` rejects that row's order; a row the reader could not read is a
    group of its own.
    """
    group: list[tuple[int, dict]] = []
    current = None
    limit = max_cell()
    names, positions = tuple(index), tuple(index.values())
    # The used cells of a row in one C call (itemgetter of one position returns the cell, not a tuple).
    take = itemgetter(*positions) if len(positions) > 1 else (lambda cells: tuple(cells[i] for i in positions))
    width = max(positions, default=-1) + 1
    for number, cells in rows:
        if isinstance(cells, BadRow):
            if group:
                yield group
                group, current = [], None
            yield [(number, {ERRORS: [FieldError("row", cells.message, number)]})]
            continue
        if not "".join(cells).strip():  # every cell blank (or white space)
            continue
        values = take(cells) if len(cells) >= width else tuple(cells[i] if i < len(cells) else "" for i in positions)
        row = dict(zip(names, values, strict=True))
        joined = "".join(values)
        if len(joined) > limit or "\x00" in joined or (not joined.isascii() and has_undecodable(joined)):
            # Some cell cannot be used as given (nearly never): find which, cell by cell.
            for name, value in list(row.items()):
                problem = cell_problem(value, limit) if value else ""
                if problem:
                    row.setdefault(ERRORS, []).append(FieldError(name, problem, number))
                    row[name] = ""
        value = " ".join(row.get(key, "").split())
        if group and value != current:
            yield group
            group = []
        current = value
        group.append((number, row))
    if group:
        yield group


def group_rejection(group: list[tuple[int, dict]]) -> OrderRejected | None:
    """The rejection of an order one of whose rows had a cell that cannot be used, else None."""
    errors = [e for _number, row in group for e in row.get(ERRORS, ())]
    return OrderRejected(errors) if errors else None


def row_errors(errors: list[FieldError], row: int, exc) -> None:
    errors.extend(FieldError(e.field, e.message, row) for e in exc.errors)
