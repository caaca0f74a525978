"""Thin views: parse, call one service or selector, render. Writes need inventory.change_stock
(transfers: add_transfer / change_transfer; rules: change_stockrule)."""

import os
import uuid
from pathlib import Path

import tablib
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.exports import escape_formula
from oms.views import ObjectListView, run_action

from . import replenishment, resources, selectors, services
from .filtersets import (
    LocationFilterSet,
    MovementFilterSet,
    ProductFilterSet,
    StockFilterSet,
    StockRuleFilterSet,
    TransferFilterSet,
)
from .forms import AdjustForm, CountForm, ImportForm, ReceiveForm, StockRuleForm, TransferForm, WriteOffForm
from .models import Location, Product, StockRule, Transfer
from .tables import LocationTable, MovementTable, ProductTable, StockRuleTable, StockTable, TransferTable


class StockListView(ObjectListView):
    permission_required = "inventory.view_stock"
    queryset = selectors.stock_list()
    filterset_class = StockFilterSet
    table_class = StockTable
    title = _("Stock")
    actions_template = "inventory/_stock_actions.html"


class ProductListView(ObjectListView):
    permission_required = "inventory.view_product"
    queryset = Product.objects.all()
    filterset_class = ProductFilterSet
    table_class = ProductTable
    title = _("Products")


class LocationListView(ObjectListView):
    permission_required = "inventory.view_location"
    queryset = Location.objects.all()
    filterset_class = LocationFilterSet
    table_class = LocationTable
    title = _("Locations")


class MovementListView(ObjectListView):
    permission_required = "inventory.view_stockmovement"
    queryset = selectors.movement_list()
    filterset_class = MovementFilterSet
    table_class = MovementTable
    title = _("Stock ledger")


class TransferListView(ObjectListView):
    permission_required = "inventory.view_transfer"
    queryset = selectors.transfer_list()
    filterset_class = TransferFilterSet
    table_class = TransferTable
    title = _("Transfers")
    actions_template = "inventory/_transfer_actions.html"


class StockRuleListView(ObjectListView):
    permission_required = "inventory.view_stockrule"
    queryset = StockRule.objects.select_related("location", "product")
    filterset_class = StockRuleFilterSet
    table_class = StockRuleTable
    title = _("Safety stock and alerts")
    actions_template = "inventory/_rule_actions.html"


# ---- one page per stock action: GET shows the form, POST runs the service ----------------------

ACTIONS = {
    "receive": (
        _("Receive stock"),
        ReceiveForm,
        lambda d, user, receive=services.stock_receive: receive(
            location=d["location"],
            product=d["sku"],
            quantity=d["quantity"],
            reference=d["reference"],
            bin=d["bin"],
            reason_code=d["reason_code"],
            reason=d["reason"],
            user=user,
        ),
        _("Received %(quantity)s × %(sku)s at %(location)s."),
    ),
    "adjust": (
        _("Adjust stock"),
        AdjustForm,
        lambda d, user: services.stock_adjust(
            location=d["location"],
            product=d["sku"],
            delta=d["delta"],
            reason=d["reason"],
            reason_code=d["reason_code"],
            reference=d["reference"],
            user=user,
        ),
        _("Adjusted %(sku)s at %(location)s by %(delta)s."),
    ),
    "count": (
        _("Cycle count"),
        CountForm,
        lambda d, user: services.stock_count(
            location=d["location"], product=d["sku"], counted=d["counted"], reference=d["reference"], user=user
        ),
        _("Counted %(counted)s × %(sku)s at %(location)s."),
    ),
    "write_off": (
        _("Write off damaged stock"),
        WriteOffForm,
        lambda d, user: services.stock_write_off(
            location=d["location"],
            product=d["sku"],
            quantity=d["quantity"],
            reason=d["reason"],
            reason_code=d["reason_code"],
            reference=d["reference"],
            user=user,
        ),
        _("Wrote off %(quantity)s × %(sku)s at %(location)s."),
    ),
}


def presale_still_expected(sku: str, batch) -> str:
    """A receipt short of the presale batch (``batch``: the receipt action's progress): how much is still
    expected; the product stays presale."""
    return gettext(
        "%(sku)s stays presale: %(received)s of its expected batch of %(batch)s received, %(left)s still expected."
    ) % {"sku": sku, "received": batch.received, "batch": batch.batch, "left": batch.still_expected}


def _stock_action(request, action, verbs):
    """``verbs``: the workflow action the URL gives the page (workflows/urls/inventory.py: the receipt that
    also releases presale orders), else inventory's own service."""
    title, form_class, run, success = ACTIONS[action]
    form = form_class(request.POST or None, initial=request.GET.dict() or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = run(form.cleaned_data, request.user, **verbs)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            d = form.cleaned_data
            values = {
                "quantity": d.get("quantity"),
                "counted": d.get("counted"),
                "delta": f"{d['delta']:+d}" if "delta" in d else "",
                "sku": d["sku"].sku,
                "location": d["location"].code,
            }
            already = getattr(result, "already_received", "")  # a receipt posted again: nothing added
            if already:
                messages.info(request, already)
                return redirect(request.path)
            messages.success(request, success % values)
            released = getattr(result, "presale_released", None)  # the receipt action (workflows/receipts.py)
            if released:
                messages.info(
                    request,
                    ngettext(
                        "%(count)s presale order waiting for %(sku)s was released to routing, first paid first.",
                        "%(count)s presale orders waiting for %(sku)s were released to routing, first paid first.",
                        len(released),
                    )
                    % {"count": len(released), "sku": values["sku"]},
                )
            if getattr(result, "presale_unmarked", False):
                messages.info(
                    request,
                    gettext("%(sku)s is no longer presale: its expected batch arrived in full.")
                    % {"sku": values["sku"]},
                )
            batch = getattr(result, "presale_batch", None)
            if batch is not None and batch.still_expected is not None:
                messages.info(request, presale_still_expected(values["sku"], batch))
            return redirect(request.path)
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/action_form.html", {"form": form, "title": title}, status=status)


def _action_view(action):
    @login_required
    @permission_required("inventory.change_stock", raise_exception=True)
    def view(request, **verbs):
        return _stock_action(request, action, verbs)

    view.__name__ = f"stock_{action}"
    return view


stock_receive = _action_view("receive")
stock_adjust = _action_view("adjust")
stock_count = _action_view("count")
stock_write_off = _action_view("write_off")


# ---- transfers --------------------------------------------------------------------------------


@login_required
@permission_required("inventory.add_transfer", raise_exception=True)
def transfer_create(request):
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            transfer = services.transfer_dispatch(
                from_location=d["from_location"],
                to_location=d["to_location"],
                lines=d["lines"],
                note=d["note"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                gettext("Transfer %(number)s dispatched: the goods are in transit.") % {"number": transfer.number},
            )
            return redirect("inventory:transfer_detail", number=transfer.number)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "inventory/action_form.html", {"form": form, "title": gettext("New transfer")}, status=status
    )


@login_required
@permission_required("inventory.view_transfer", raise_exception=True)
def transfer_detail(request, number):
    transfer = get_object_or_404(
        Transfer.objects.select_related("from_location", "to_location", "dispatched_by", "received_by"), number=number
    )
    context = {
        "transfer": transfer,
        "lines": transfer.lines.select_related("product"),
        "movements": selectors.movement_list().filter(reference=transfer.number).order_by("id"),
        "can_receive": transfer.status == "in_transit" and request.user.has_perm("inventory.change_transfer"),
    }
    return render(request, "inventory/transfer_detail.html", context)


@require_POST
@login_required
@permission_required("inventory.change_transfer", raise_exception=True)
def transfer_receive(request, number):
    transfer = get_object_or_404(Transfer, number=number)
    response, _result = run_action(
        request,
        lambda: services.transfer_receive(transfer=transfer, user=request.user),
        success=gettext("Transfer %(number)s received.") % {"number": number},
        redirect_to=reverse("inventory:transfer_detail", args=[number]),
    )
    return response


# ---- rules ------------------------------------------------------------------------------------


@login_required
@permission_required("inventory.change_stockrule", raise_exception=True)
def stock_rule_edit(request):
    form = StockRuleForm(request.POST or None, initial=request.GET.dict() or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.stock_rule_set(
                location=d["location"],
                product=d["sku"],
                safety_stock=d["safety_stock"],
                low_stock_threshold=d["low_stock_threshold"],
                min_days_of_cover=d["min_days_of_cover"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                gettext("Saved the rule for %(sku)s at %(location)s.")
                % {"sku": d["sku"].sku, "location": d["location"].code},
            )
            return redirect("inventory:rule_list")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": gettext("Safety stock and alert")}
    return render(request, "inventory/action_form.html", context, status=status)


# ---- spreadsheet import -----------------------------------------------------------------------


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "inventory-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored(token: str) -> Path:
    try:
        uuid.UUID(token.split(".", 1)[0])
    except ValueError:
        raise Http404("No such upload.")
    if not token.endswith((".csv", ".xlsx")) or "/" in token:
        raise Http404("No such upload.")
    path = _upload_dir() / token
    if not path.exists():
        raise Http404(gettext("The upload has expired; upload the file again."))
    return path


@login_required
@permission_required("inventory.change_stock", raise_exception=True)
def stock_import(request):
    """Upload → dry run with each row's errors → confirm (rows without errors go through services)."""
    context = {"title": gettext("Import stock"), "kinds": resources.RESOURCES}
    if request.method == "POST" and request.POST.get("token"):
        kind = request.POST.get("kind", "")
        path = _stored(request.POST["token"])
        dataset = resources.read_table(path.read_bytes(), path.name)
        result = resources.run_import(kind, dataset, user=request.user, dry_run=False)
        os.remove(path)
        if result.file_error:
            messages.error(request, result.file_error)
        else:
            messages.success(
                request,
                gettext("Imported %(accepted)s row(s); %(rejected)s rejected.")
                % {"accepted": result.accepted, "rejected": result.rejected},
            )
        context.update(form=ImportForm(initial={"kind": kind}), result=result)
        return render(request, "inventory/import.html", context)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = ".xlsx" if upload.name.lower().endswith(".xlsx") else ".csv"
        token = f"{uuid.uuid4()}{suffix}"
        content = upload.read()
        try:
            dataset = resources.read_table(content, token)
        except Exception as exc:  # noqa: BLE001 (an unreadable file is the user's error, not a 500)
            form.add_error("file", gettext("Cannot read the file: %(error)s") % {"error": exc})
        else:
            (_upload_dir() / token).write_bytes(content)
            result = resources.run_import(form.cleaned_data["kind"], dataset, user=request.user, dry_run=True)
            context.update(result=result, token=token if result.accepted and not result.file_error else "")
    context["form"] = form
    return render(request, "inventory/import.html", context)


@login_required
@permission_required("inventory.change_stock", raise_exception=True)
def import_template(request, kind):
    if kind not in resources.RESOURCES:
        raise Http404
    response = HttpResponse(resources.template_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response


# ---- replenishment and low stock ---------------------------------------------------------------

SUGGESTION_COLUMNS = [
    ("location", _("Location")),
    ("sku", "SKU"),
    ("name", _("Product")),
    ("available", _("Available")),
    ("in_transit", _("In transit")),
    ("mean_daily", _("Forecast/day")),
    ("sigma_daily", _("σ/day")),
    ("lead_time_days", _("Lead time")),
    ("reorder_point", _("Reorder point")),
    ("quantity", _("Suggested qty")),
    ("action", _("Action")),
    ("transfer_from", _("Transfer from")),
]


def _float(value, default, low, high):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, low), high)


@login_required
@permission_required("inventory.view_replenishment", raise_exception=True)
def replenishment_view(request):
    service_level = _float(request.GET.get("service_level"), replenishment.DEFAULT_SERVICE_LEVEL, 0.5, 0.999)
    cover_days = int(_float(request.GET.get("cover_days"), replenishment.DEFAULT_COVER_DAYS, 0, 365))
    only_needed = request.GET.get("all") != "1"
    rows = replenishment.suggestions(service_level=service_level, cover_days=cover_days, only_needed=only_needed)
    export = request.GET.get("_export")
    if export in ("csv", "xlsx"):
        data = tablib.Dataset(headers=[str(label) for _key, label in SUGGESTION_COLUMNS])
        for r in rows:
            data.append([escape_formula(getattr(r, key)) for key, _label in SUGGESTION_COLUMNS])
        content_type = (
            "text/csv; charset=utf-8"
            if export == "csv"
            else ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )
        response = HttpResponse(data.export(export), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="replenishment-{timezone.localdate():%Y%m%d}.{export}"'
        return response
    context = {
        "title": gettext("Replenishment"),
        "rows": rows,
        "service_level": service_level,
        "cover_days": cover_days,
        "only_needed": only_needed,
        "query": request.GET.urlencode(),
    }
    return render(request, "inventory/replenishment.html", context)


@login_required
@permission_required("inventory.view_stock", raise_exception=True)
def low_stock_view(request):
    return render(
        request, "inventory/low_stock.html", {"title": gettext("Low stock"), "alerts": selectors.low_stock_alerts()}
    )
