"""Spreadsheet imports for every app: upload → dry run (each row's errors, nothing written) →
confirm → a background job that writes through the app's services in batches and records its
progress on an ``ImportJob`` row, which the job page polls → the rejected rows as a CSV with
their reasons.

The base package knows no app: each app registers its importers, in ``<app>/importers.py``
(found by ``autodiscover_modules("importers")`` from ``OmsConfig.ready``) or in its AppConfig::

    register_importer("products", ProductImporter())

An importer has ``label``, ``permission`` (``app.codename``), ``formats`` (``csv``, ``tsv``,
``xlsx``), optionally an ``options_form`` (a Django form class shown on the upload page; its
cleaned data is stored on the job as JSON-able ``options``), and two methods:

- ``preview(path, options) -> PreviewResult``: parse and validate, write nothing;
- ``run(path, job, progress) -> dict``: write in batches, calling ``progress(processed, counts)``
  as it goes; returns the final counts. ``Importer.rows`` (the file's raw rows) lets the page
  build the rejected-rows file; ``group_column`` keeps all rows of one rejected order together.
"""

import csv
import io
import itertools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings

from ..encoding import detect_encoding, has_undecodable, printable
from ..exports import escape_formula
from . import column_mapping, mapped_rows, words  # noqa: F401 (words: the job texts as known phrases)

PREVIEW_ROWS = 50  # rows shown on the preview page
PREVIEW_CHECK = 2000  # units (rows, orders) validated by a preview; the rest are checked when run
MAX_STORED_ERRORS = 10000
SAMPLE_BYTES = 256 * 1024


class FileUnusable(Exception):
    """The file as a whole cannot be used: empty, unreadable, wrong columns."""


@dataclass
class PreviewRow:
    number: int  # the file's row (the header is row 1)
    values: dict
    errors: list[dict] = field(default_factory=list)  # [{field, message}]
    outcome: str = ""  # what a real import would do: create, update, duplicate, hold...

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class PreviewResult:
    columns: list[str] = field(default_factory=list)
    rows: list[PreviewRow] = field(default_factory=list)  # the first PREVIEW_ROWS
    checked: int = 0  # units validated
    good: int = 0
    bad: int = 0
    total: int = 0  # data rows in the file (for the progress bar)
    complete: bool = True  # False: only the first PREVIEW_CHECK units were validated
    unit: str = "row"
    file_error: str = ""
    outcomes: dict = field(default_factory=dict)  # outcome -> count among good units

    def add(self, row: PreviewRow) -> None:
        self.checked += 1
        if row.ok:
            self.good += 1
            if row.outcome:
                self.outcomes[row.outcome] = self.outcomes.get(row.outcome, 0) + 1
        else:
            self.bad += 1
        if len(self.rows) < PREVIEW_ROWS:
            self.rows.append(row)

    def as_dict(self) -> dict:
        data = asdict(self)
        return data


def preview_from_dict(data: dict) -> PreviewResult:
    data = dict(data or {})
    rows = [PreviewRow(**r) for r in data.pop("rows", [])]
    known = set(PreviewResult.__dataclass_fields__)
    return PreviewResult(rows=rows, **{k: v for k, v in data.items() if k in known})


class Importer(ABC):
    """A base with the shared parts; subclasses set the attributes and write preview/run."""

    label = ""
    permission = ""
    formats: tuple[str, ...] = ("csv", "xlsx")
    columns: tuple[str, ...] = ()  # for the template download and the help text
    required: tuple[str, ...] = ()
    help = ""
    options_form = None
    group_column = ""  # rows with the same value here (adjacent) are one unit: rejected together
    delimiter = ","
    position = 100  # order on the upload form

    @abstractmethod
    def preview(self, path: Path, options: dict) -> PreviewResult:
        """Each concrete subclass implements this."""

    @abstractmethod
    def run(self, path: Path, job, progress: Callable[[int, dict], None]) -> dict:
        """Each concrete subclass implements this."""

    def rows(self, path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
        return read_rows(path, delimiter=self.delimiter)

    # ---- the column mapping (oms/imports/column_mapping.py) ----

    def fields(self) -> list[column_mapping.Field]:
        """What the importer reads, for the mapping step; by default its columns with the common synonyms."""
        return column_mapping.fields_from_columns(self.columns, self.required)

    def propose_mapping(self, path: Path) -> dict:
        header, rows = self.rows(path)
        samples = [cells for _number, cells in itertools.islice(rows, column_mapping.SAMPLE_ROWS)]
        return column_mapping.propose(header, self.fields(), samples)

    def template_csv(self) -> str:
        return ",".join(self.columns) + "\n"


_REGISTRY: dict[str, Importer] = {}


def register_importer(name: str, importer: Importer) -> None:
    if name in _REGISTRY and _REGISTRY[name] is not importer:
        raise ValueError(f"An importer named {name!r} is already registered.")
    _REGISTRY[name] = importer


def importers() -> dict[str, Importer]:
    return dict(_REGISTRY)


def get_importer(name: str) -> Importer | None:
    return _REGISTRY.get(name)


def importers_for(user) -> dict[str, Importer]:
    allowed = [(name, imp) for name, imp in _REGISTRY.items() if user.has_perm(imp.permission)]
    return dict(sorted(allowed, key=lambda item: item[1].position))


# ---- reading files ----------------------------------------------------------------------------


def file_format(path: Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    return {"txt": "tsv"}.get(suffix, suffix)


def check_not_empty(path: Path) -> None:
    if not path.exists():
        raise FileUnusable("The uploaded file is gone; upload it again.")
    with path.open("rb") as handle:
        sample = handle.read(4096)
    if not sample.strip(b" \r\n\t\xef\xbb\xbf"):
        raise FileUnusable("The file is empty.")


def open_text(path: Path):
    """The file as text in its detected encoding (oms/encoding.py); an undecodable byte is read as a
    lone surrogate, which ``read_rows`` shows as U+FFFD and ``has_undecodable`` finds."""
    return open(path, encoding=detect_encoding(path), errors="surrogateescape", newline="")  # noqa: SIM115


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _raw_rows(path: Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    check_not_empty(path)
    if file_format(path) == "xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - BadZipFile, KeyError, InvalidFileException...
            raise FileUnusable(f"Not an XLSX workbook ({exc.__class__.__name__}).") from exc
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # a sheet's declared size may be wrong: read every row there is
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, Cells.checked([_cell(v) for v in values])
        finally:
            workbook.close()
        return
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)  # a long cell is its row's error (Cells.problem), not the file's
    with open_text(path) as handle:
        if delimiter == "\t":
            reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        else:
            reader = csv.reader(handle, delimiter=delimiter)
        try:
            for cells in reader:
                yield reader.line_num, Cells.checked(cells)
        except csv.Error as exc:
            raise FileUnusable(f"The file cannot be read as CSV: {exc}") from exc


# The CSV reader reads cells up to this size; IMPORT_MAX_CELL_CHARS decides which of them a row may have.
CSV_FIELD_LIMIT = 64 * 1024 * 1024


class Cells(list):
    """A row's cells made safe to show and store, with ``problem``: why the row cannot be imported as
    it is (a cell past IMPORT_MAX_CELL_CHARS, a NUL, bytes the file's encoding could not read), or ""."""

    problem = ""

    @classmethod
    def checked(cls, cells) -> "Cells":
        limit = int(getattr(settings, "IMPORT_MAX_CELL_CHARS", 32767))
        problems = []
        for i, cell in enumerate(cells, start=1):
            if len(cell) > limit:
                problems.append(f"column {i}: the cell is {len(cell)} characters long; at most {limit}.")
            elif "\x00" in cell:
                problems.append(f"column {i}: the cell contains a NUL character.")
            elif has_undecodable(cell):
                problems.append(
                    f"column {i}: bytes that are not valid in the file's encoding (save the file as UTF-8)."
                )
        row = cls(printable(c[:limit]).replace("\x00", "") for c in cells)
        row.problem = " ".join(problems)
        return row


def normalize_header(cell: str) -> str:
    return " ".join(str(cell).replace("\ufeff", "").split()).lower()


def read_rows(path: Path, *, delimiter: str = ",") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (as written) and an iterator over the non-blank data rows, streaming."""
    rows = _raw_rows(Path(path), delimiter)
    for _number, cells in rows:
        if any(str(c).strip() for c in cells):
            header = list(cells)
            break
    else:
        raise FileUnusable("The file has no header row.")

    def data():
        for number, cells in rows:
            if any(c.strip() for c in cells):
                yield number, cells

    return header, data()


def read_dicts(path: Path, *, required=(), columns=(), delimiter=",") -> Iterator[tuple[int, dict]]:
    """(row number, {lowercased column: value}) per data row; missing required columns are a file error."""
    header, rows = read_rows(path, delimiter=delimiter)
    names = [normalize_header(h) for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise FileUnusable(
            f"Missing column(s): {', '.join(missing)}. Expected the columns: {', '.join(columns or required)}."
        )
    for number, cells in rows:
        yield number, {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names) if name}


def job_mapping(importer: Importer, header: list[str], options: dict) -> dict:
    """The mapping confirmed on the job (``options["column_mapping"]``), else the proposal for this
    header (a caller that skipped the mapping step); a mapping that cannot be used is a file error."""
    fields = importer.fields()
    mapping = (options or {}).get(column_mapping.OPTION_KEY) or column_mapping.propose(header, fields)
    if not mapped_rows.header_matches(mapping, header):
        raise FileUnusable("The file's columns are not the ones that were mapped; upload the file again.")
    problems = column_mapping.check(mapping, fields)
    if problems:
        raise FileUnusable(" ".join(problems))
    return mapping


def read_mapped(importer: Importer, path: Path, options: dict) -> Iterator[tuple[int, dict, list[dict]]]:
    """(row number, {field: value}, conversion errors) per data row under the job's column mapping:
    units converted to the stored ones, choice synonyms resolved (oms/imports/column_mapping.py)."""
    header, rows = importer.rows(Path(path))
    mapping = job_mapping(importer, header, options)
    problems: dict[int, str] = {}

    def noted():
        for number, cells in rows:
            if getattr(cells, "problem", ""):
                problems[number] = cells.problem
            yield number, cells

    for number, values, errors in mapped_rows.MappedRows(mapping, importer.fields())(noted()):
        problem = problems.pop(number, "")
        yield number, values, [*errors, {"field": "", "message": problem}] if problem else errors


def count_data_rows(path: Path) -> int:
    """Data rows in a file, cheaply: physical lines minus the header (CSV), the sheet size (XLSX)."""
    path = Path(path)
    if file_format(path) == "xlsx":
        return max(_xlsx_rows_declared(path) - 1, 0)
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _xlsx_rows_declared(path: Path) -> int:
    """The first worksheet's rows, counted as <row> elements in its XML while it is decompressed
    (flat memory, no cell parsed; a sheet's declared dimension may be wrong or missing)."""

    from openpyxl import load_workbook

    pattern = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
    try:
        workbook = load_workbook(path, read_only=True)
        try:
            sheet = workbook.worksheets[0]
            count, tail = 0, b""
            with workbook._archive.open(sheet._worksheet_path) as source:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    data = tail + chunk
                    count += len(pattern.findall(data))
                    tail = data[-64:]
                    count -= len(pattern.findall(tail))  # counted again with the next chunk
            count += len(pattern.findall(tail))
        finally:
            workbook.close()
    except Exception:  # noqa: BLE001 - an unreadable workbook is reported by the reader
        return 0
    return count


# ---- row errors -------------------------------------------------------------------------------


def add_error(job, row: int | None, field_name: str | None, message: str) -> None:
    """Record one row error on the job (in memory; saved with the progress and at the end)."""
    if len(job.errors) < MAX_STORED_ERRORS:
        job.errors.append({"row": row, "field": field_name or "", "message": str(message)})


# ---- the rejected rows ------------------------------------------------------------------------


def rejected_rows_csv(job, importer: Importer) -> Iterator[str]:
    """The file's rejected rows, as written, plus a ``reason`` column; every cell escaped."""
    reasons: dict[int, list[str]] = {}
    for error in job.errors:
        if error.get("row") is None:
            continue
        text = f"{error['field']}: {error['message']}" if error.get("field") else error["message"]
        reasons.setdefault(int(error["row"]), []).append(text)
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return value

    yield "\ufeff"  # Excel opens UTF-8 with a BOM correctly
    header, rows = importer.rows(Path(job.file.path))
    writer.writerow([escape_formula(h) for h in header] + ["reason"])
    yield flush()
    key_index = None
    if importer.group_column:
        names = [normalize_header(h) for h in header]
        taken = column_mapping.mapped((job.options or {}).get(column_mapping.OPTION_KEY) or {})
        if importer.group_column in taken:  # the column the person mapped to it (e.g. 订单号)
            key_index = taken[importer.group_column]["index"]
        elif importer.group_column in names:
            key_index = names.index(importer.group_column)

    def emit(group):
        bad = [n for n, _ in group if n in reasons]
        if not bad:
            return
        for number, cells in group:
            reason = "; ".join(reasons.get(number, [])) or f"rejected with row {bad[0]}: " + "; ".join(reasons[bad[0]])
            padded = cells + [""] * (len(header) - len(cells))
            writer.writerow([escape_formula(c) for c in padded] + [escape_formula(reason)])

    group: list = []
    current = object()
    for number, cells in rows:
        key = cells[key_index].strip() if key_index is not None and key_index < len(cells) else number
        if group and key != current:
            emit(group)
            group = []
        current = key
        group.append((number, cells))
        if buffer.tell() > 1 << 16:
            yield flush()
    if group:
        emit(group)
    yield flush()
