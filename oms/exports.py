"""Exports that are safe to open in a spreadsheet: no cell is ever executed as a formula."""

from django_tables2.export import TableExport

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Text that starts like a formula gets a leading quote (OWASP's CSV-injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeTableExport(TableExport):
    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        headers = dataset.headers
        rows = [tuple(escape_formula(v) for v in row) for row in dataset]
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        return dataset
