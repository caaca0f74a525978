"""Base views: a list view takes a queryset, a FilterSet and a table (NetBox's shape).
App views are a few attributes. An htmx request that targets the table gets only the table."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin
from django_tables2.paginators import LazyPaginator

from .errors import DomainError
from .exports import SafeTableExport


class StaffPermissionMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Every back-office page checks a permission."""

    raise_exception = False

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            return render(self.request, "oms/forbidden.html", status=403)
        return super().handle_no_permission()


class ObjectListView(StaffPermissionMixin, ExportMixin, SingleTableMixin, FilterView):
    template_name = "oms/object_list.html"
    partial_template_name = "oms/_object_table.html"
    paginator_class = LazyPaginator
    table_pagination = {"per_page": 50}
    export_formats = ("csv", "xlsx")
    export_class = SafeTableExport
    title = ""
    actions_template = ""

    def get_queryset(self):
        return self.queryset.all()

    def get_export_filename(self, export_format):
        return f"{self.title.lower().replace(' ', '-') or 'export'}-{timezone.localdate():%Y%m%d}.{export_format}"

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.request.htmx.target == "object-table":
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["actions_template"] = self.actions_template
        return context


def run_action(request, action, *, success: str, redirect_to):
    """Run one service for a POST view; a domain error becomes a message, never a 500."""
    try:
        result = action()
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect(redirect_to), None
    messages.success(request, success)
    return redirect(redirect_to), result


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
