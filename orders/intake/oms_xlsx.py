"""The OMS's own template as an Excel workbook (.xlsx): the same columns as the CSV template
(README "Importing orders") on the first worksheet, read streaming with openpyxl's read-only mode."""

from collections.abc import Iterator

from . import oms_csv
from .canonical import CanonicalOrder, OrderRejected
from .rows import xlsx_rows

BINARY = True


def read_orders(handle) -> Iterator[tuple[int, CanonicalOrder | OrderRejected]]:
    yield from oms_csv.read_rows(xlsx_rows(handle))
