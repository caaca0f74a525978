"""CSV, XLSX and PDF of KPI results. Cells that look like formulas are escaped (oms.exports)."""

import csv
import io
from decimal import Decimal

import tablib
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext

from oms.exports import escape_formula
from oms.pdf import render_pdf

from . import charts


def _cell(value):
    if isinstance(value, Decimal):
        return value
    if isinstance(value, Promise):  # a lazy translation: the text in the current language
        value = str(value)
    return escape_formula(value if value is not None else "")


def to_csv(items) -> bytes:
    """One CSV: per KPI its title, the filters, the headline and each table under its title."""
    out = io.StringIO()
    writer = csv.writer(out)
    for kpi, result, filters in items:
        writer.writerow([_cell(kpi.title)])
        writer.writerow([gettext("Filters"), _cell(filters.describe())])
        writer.writerow([gettext("Formula"), _cell(kpi.formula)])
        writer.writerow([gettext("Value"), _cell(result.display if result.available else result.note)])
        for fact in result.facts:
            writer.writerow([_cell(fact.label), _cell(fact.value)])
        for table in result.tables:
            writer.writerow([])
            writer.writerow([_cell(table.title)])
            headers, rows = table.as_lists()
            writer.writerow([_cell(h) for h in headers])
            for row in rows:
                writer.writerow([_cell(v) for v in row])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(items) -> bytes:
    """One sheet per table (and a summary sheet per KPI)."""
    book = tablib.Databook()
    used = set()

    def title(text):
        base = "".join(ch for ch in str(text) if ch not in "[]:*?/\\")[:28] or "Sheet"
        name, i = base, 2
        while name in used:
            name = f"{base[:25]} {i}"
            i += 1
        used.add(name)
        return name

    for kpi, result, filters in items:
        summary = tablib.Dataset(headers=["", ""], title=title(kpi.title))
        summary.append(["KPI", _cell(kpi.title)])
        summary.append([gettext("Filters"), _cell(filters.describe())])
        summary.append([gettext("Formula"), _cell(kpi.formula)])
        summary.append([gettext("Value"), _cell(result.display if result.available else result.note)])
        for fact in result.facts:
            summary.append([_cell(fact.label), _cell(fact.value)])
        book.add_sheet(summary)
        for table in result.tables:
            headers, rows = table.as_lists()
            sheet = tablib.Dataset(headers=[str(h) for h in headers], title=title(f"{kpi.slug} {table.title}"))
            for row in rows:
                sheet.append([_cell(v) for v in row])
            book.add_sheet(sheet)
    return book.export("xlsx")


def pdf_context(items, *, title: str) -> dict:
    return {
        "title": title,
        "generated": timezone.localtime(),
        "items": [
            {"kpi": k, "result": r, "filters": f, "chart": charts.chart(r.chart, r.series, r.chart_title)}
            for k, r, f in items
        ],
    }


def to_pdf(items, *, title: str) -> bytes:
    return render_pdf("reports/pdf/report.html", pdf_context(items, title=title))
