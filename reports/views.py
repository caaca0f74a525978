"""Report pages: the dashboard, the KPI catalogue, one KPI with filters and exports, saved
reports with e-mail schedules, and the 14-day forecast. Thin: parse, call, render."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oms.db_router import reports_db
from oms.errors import DomainError
from oms.pdf import pdf_response
from orders.models import Channel

from . import cache as report_cache
from . import charts, exports, facts, services
from .forecast import HORIZON, location_forecasts, peak_outlook
from .kpis import REGISTRY, Filters, catalogue
from .kpis.base import FilterForm
from .models import WEEKDAYS, Frequency, ReportSchedule, SavedReport
from .selectors import dashboard_figures

PERMISSION = "reports.view_reports"


def reports_permission(view):
    """Every report page needs reports.view_reports (roles manager and admin)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm(PERMISSION):
            return render(request, "oms/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


@login_required
def dashboard(request):
    """The landing page of every role (``/`` redirects here), so it needs only a login."""
    figures, computed_at = report_cache.cached("dashboard", {}, dashboard_figures, fresh=_fresh(request))
    return render(
        request,
        "reports/dashboard.html",
        {"f": figures, "computed_at": computed_at, "can_see_reports": request.user.has_perm(PERMISSION)},
    )


def _fresh(request) -> bool:
    return request.GET.get("fresh") == "1"


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _export(request, items, *, name: str):
    """CSV, XLSX or PDF of the items when ?format= asks for it, else None."""
    fmt = request.GET.get("format", "")
    stem = f"{slugify(name) or 'report'}-{timezone.localdate():%Y%m%d}"
    if fmt == "csv":
        return _download(exports.to_csv(items), f"{stem}.csv", "text/csv; charset=utf-8")
    if fmt == "xlsx":
        return _download(
            exports.to_xlsx(items),
            f"{stem}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if fmt == "pdf":
        return pdf_response(exports.to_pdf(items, title=name), f"{stem}.pdf", inline=False)
    return None


def _section(kpi, result, filters):
    return {
        "kpi": kpi,
        "result": result,
        "filters": filters,
        "chart": charts.chart(result.chart, result.series, result.chart_title) if result.available else "",
    }


def _query_without_format(request) -> str:
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("fresh", None)
    return query.urlencode()


def _query_fresh(request) -> str:
    """The page's query string asking to recompute now."""
    query = request.GET.copy()
    query.pop("format", None)
    query["fresh"] = "1"
    return query.urlencode()


@reports_permission
def catalogue_view(request):
    filters, form = Filters.from_data(request.GET)
    return render(
        request,
        "reports/catalogue.html",
        {"groups": catalogue(), "query": _query_without_format(request), "filters": filters},
    )


@reports_permission
def kpi_view(request, slug: str):
    kpi = REGISTRY.get(slug)
    if kpi is None:
        raise Http404("No such KPI.")
    filters, form = Filters.from_data(request.GET)
    result, computed_at = report_cache.kpi_result(kpi, filters, fresh=_fresh(request))
    response = _export(request, [(kpi, result, filters)], name=kpi.title)
    if response is not None:
        return response
    return render(
        request,
        "reports/kpi.html",
        {
            "kpi": kpi,
            "section": _section(kpi, result, filters),
            "form": form,
            "filters": filters,
            "query": _query_without_format(request),
            "computed_at": computed_at,
            "facts_at": facts.refreshed_at(kpi.db) if kpi.uses_facts else None,
            "fresh_query": _query_fresh(request),
            "drilldown": kpi.drilldown(filters) if not kpi.waiting_for else "",
        },
    )


DRILL_ORDERING = {
    "orders": ("created_at", "pk"),
    "shipments": ("packed_at", "pk"),
    "returns": ("created_at", "pk"),
}
DRILL_RELATED = {"orders": ("channel",), "shipments": ("order", "location"), "returns": ("order",)}


@reports_permission
def drilldown_view(request, slug: str, part: str):
    """Exactly the rows behind a figure the other apps' lists cannot filter to (see Kpi.drill)."""
    kpi = REGISTRY.get(slug)
    if kpi is None:
        raise Http404("No such KPI.")
    filters, form = Filters.from_data(request.GET)
    found = kpi.drill(part, filters, request.GET)
    if found is None:
        raise Http404("This figure has no list of its own.")
    count = found.queryset.count()
    pages = max(1, -(-count // DRILL_PAGE_SIZE))
    try:
        page = min(max(1, int(request.GET.get("page") or 1)), pages)
    except ValueError:
        page = 1
    start = (page - 1) * DRILL_PAGE_SIZE
    rows = list(
        found.queryset.select_related(*DRILL_RELATED[found.kind]).order_by(*DRILL_ORDERING[found.kind])[
            start : start + DRILL_PAGE_SIZE
        ]
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reports/drilldown.html",
        {
            "kpi": kpi,
            "list": found,
            "rows": rows,
            "count": count,
            "page": page,
            "pages": pages,
            "first": start + 1 if count else 0,
            "last": start + len(rows),
            "filters": filters,
            "query": query.urlencode(),
            "back_url": reverse("reports:kpi", kwargs={"slug": kpi.slug}) + "?" + urlencode(filters.query()),
        },
    )


DRILL_PAGE_SIZE = 100


# ---- saved reports and schedules -------------------------------------------------------------


@reports_permission
def saved_list(request):
    reports = list(SavedReport.objects.select_related("owner").prefetch_related("schedules"))
    for report in reports:  # the filters as the page says them (a relative period with today's days)
        report.filters_described = Filters.from_data(report.filters)[0].describe()
    return render(request, "reports/saved_list.html", {"reports": reports, "registry": REGISTRY})


@reports_permission
@require_POST
def saved_create(request):
    filters, form = Filters.from_data(request.POST)
    kpis = request.POST.getlist("kpis")
    try:
        report = services.saved_report_create(
            name=request.POST.get("name", ""), kpis=kpis, filters=filters.to_json(), owner=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        if kpis and kpis[0] in REGISTRY:
            return redirect("reports:kpi", slug=kpis[0])
        return redirect("reports:saved_list")
    messages.success(request, gettext("Saved “%(name)s”.") % {"name": report.name})
    return redirect("reports:saved_detail", pk=report.pk)


@reports_permission
def saved_detail(request, pk: int):
    report = get_object_or_404(SavedReport, pk=pk)
    items = services.run_saved_report(report)
    response = _export(request, items, name=report.name)
    if response is not None:
        return response
    return render(
        request,
        "reports/saved_detail.html",
        {
            "report": report,
            "sections": [_section(*item) for item in items],
            "filters": items[0][2] if items else Filters.from_data(report.filters)[0],
            "schedules": report.schedules.all(),
            "frequencies": Frequency.choices,
            "weekdays": WEEKDAYS,
            "can_delete": request.user.is_superuser or report.owner_id == request.user.pk,
        },
    )


@reports_permission
@require_POST
def saved_delete(request, pk: int):
    report = get_object_or_404(SavedReport, pk=pk)
    if not (request.user.is_superuser or report.owner_id == request.user.pk):
        messages.error(request, gettext("Only its owner or an admin can delete a saved report."))
        return redirect("reports:saved_detail", pk=pk)
    report.delete()
    messages.success(request, gettext("Deleted “%(name)s”.") % {"name": report.name})
    return redirect("reports:saved_list")


@reports_permission
@require_POST
def schedule_create(request, pk: int):
    report = get_object_or_404(SavedReport, pk=pk)
    try:
        services.schedule_create(
            report=report,
            frequency=request.POST.get("frequency", ""),
            recipients=request.POST.get("recipients", ""),
            weekday=int(request.POST.get("weekday") or 0),
            hour=int(request.POST.get("hour") or 7),
            user=request.user,
        )
    except (DomainError, ValueError) as exc:
        messages.error(
            request, str(exc) if isinstance(exc, DomainError) else gettext("The hour and weekday must be numbers.")
        )
    else:
        messages.success(request, gettext("Schedule added."))
    return redirect("reports:saved_detail", pk=pk)


@reports_permission
@require_POST
def schedule_delete(request, pk: int):
    schedule = get_object_or_404(ReportSchedule, pk=pk)
    report_pk = schedule.report_id
    schedule.delete()
    messages.success(request, gettext("Schedule removed."))
    return redirect("reports:saved_detail", pk=report_pk)


# ---- forecast --------------------------------------------------------------------------------


@reports_permission
def forecast_view(request):
    form = FilterForm(request.GET or None)
    location_id = channel_id = None
    if request.GET and form.is_valid():
        location_id = form.cleaned_data["location"].pk if form.cleaned_data.get("location") else None
        channel_id = form.cleaned_data["channel"].pk if form.cleaned_data.get("channel") else None
    forecasts = location_forecasts(location_id=location_id, channel_id=channel_id)
    days = [d for d, _ in forecasts[0].forecast] if forecasts else []
    rows = []
    for i, day in enumerate(days):
        values = [fc.forecast[i][1] for fc in forecasts]
        cells = [
            (v, bool(fc.location.daily_capacity and v > fc.location.daily_capacity))
            for v, fc in zip(values, forecasts, strict=True)
        ]
        event = forecasts[0].events.get(day)
        rows.append({"day": day, "cells": cells, "total": round(sum(values), 1), "event": event})
    for fc in forecasts:
        fc.chart = charts.bar_chart(
            [(date_format(d, "D m-d") + (" ★" if d in fc.events else ""), v) for d, v in fc.forecast],
            gettext("%(location)s: forecast per day") % {"location": fc.location.code},
        )
        fc.history_chart = charts.line_chart(
            [(d.strftime("%m-%d"), v) for d, v in fc.history],
            gettext("%(location)s: last 8 weeks") % {"location": fc.location.code},
        )
    return render(
        request,
        "reports/forecast.html",
        {
            "form": form,
            "forecasts": forecasts,
            "rows": rows,
            "horizon": HORIZON,
            "outlook": peak_outlook(location_id=location_id, channel_id=channel_id),
            "channels": Channel.objects.using(reports_db()).all(),
        },
    )
