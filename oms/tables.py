"""Base table and columns shared by every list."""

import django_tables2 as tables
from django.utils.html import format_html


class BaseTable(tables.Table):
    class Meta:
        attrs = {"class": "table"}
        template_name = "oms/table.html"


class StatusColumn(tables.Column):
    """One colour per status, the same on every page (see app.css .st-*)."""

    def render(self, value, record, bound_column):
        display = getattr(record, f"get_{bound_column.accessor}_display", None)
        label = display() if callable(display) else value
        return format_html('<span class="badge st-{}">{}</span>', value, label)

    def value(self, value):
        return value
