"""Finance pages: the invoice queue (发票) with bulk issue and export, the order page's invoice actions, the
finance review queue (财审) and its floors."""

from decimal import Decimal, InvalidOperation

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.tables import BaseTable, StatusColumn
from oms.views import ObjectListView

from .. import services
from ..intake.canonical import OrderRejected
from ..intake.invoice import INVOICE_INPUTS, parse_invoice
from ..models import Channel, FinanceSettings, InvoiceKind, InvoiceRequest, Order, OrderHold, PriceFloor
from ..rules.finance import current_floors
from ..status import InvoiceState

# ---- the invoice queue ------------------------------------------------------------------------------------


class InvoiceFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=InvoiceState.choices, label=_("State"))
    kind = django_filters.ChoiceFilter(choices=InvoiceKind.choices, label=_("Kind"))
    channel = django_filters.ModelChoiceFilter(
        field_name="order__channel", queryset=Channel.objects.all(), label=_("Channel")
    )
    requested_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    requested_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    q = django_filters.CharFilter(method="search", label=_("Search"))

    class Meta:
        model = InvoiceRequest
        fields = ["state", "kind", "channel", "requested_after", "requested_before", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return (
            queryset.filter(order__number=value)
            | queryset.filter(title__icontains=value)
            | queryset.filter(tax_id=value.upper())
        )


class InvoiceTable(BaseTable):
    """The columns a finance team keys into the tax system (开票系统), in its order."""

    select = tables.CheckBoxColumn(
        accessor="pk",
        exclude_from_export=True,
        orderable=False,
        attrs={"input": {"name": "requests", "form": "bulk-issue"}, "th__input": {"data-select-all": "requests"}},
    )
    number_input = tables.TemplateColumn(
        '{% if record.state == "requested" %}<input name="number_{{ record.pk }}" form="bulk-issue" maxlength="32" '
        'size="12" aria-label="{{ record.order.number }}">{% endif %}',
        verbose_name=_("Invoice number to issue"),
        exclude_from_export=True,
        orderable=False,
    )
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name=_("Order")
    )
    channel = tables.Column(accessor="order__channel__name", verbose_name=_("Channel"))
    state = StatusColumn(verbose_name=_("State"))
    kind = tables.Column(verbose_name=_("Kind"))
    title_type = tables.Column(verbose_name=_("Title type"))
    title = tables.Column(verbose_name=_("Title"), attrs={"td": {"class": "wrap"}})
    tax_id = tables.Column(verbose_name=_("Tax id"))
    amount = tables.Column(verbose_name=_("Amount"), attrs={"td": {"class": "num"}})
    currency = tables.Column(accessor="order__currency", verbose_name=_("Currency"))
    email = tables.Column(verbose_name=_("E-mail"))
    buyer_address = tables.Column(verbose_name=_("Buyer's address"), attrs={"td": {"class": "wrap"}})
    buyer_phone = tables.Column(verbose_name=_("Buyer's phone"))
    bank_name = tables.Column(verbose_name=_("Bank"))
    bank_account = tables.Column(verbose_name=_("Bank account"))
    invoice_number = tables.Column(verbose_name=_("Invoice number"))
    issued_on = tables.DateColumn(format="Y-m-d", verbose_name=_("Issued on"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Requested"))

    class Meta(BaseTable.Meta):
        model = InvoiceRequest
        fields = []
        sequence = (
            "select",
            "order",
            "state",
            "kind",
            "title_type",
            "title",
            "tax_id",
            "amount",
            "currency",
            "number_input",
            "email",
            "buyer_address",
            "buyer_phone",
            "bank_name",
            "bank_account",
            "invoice_number",
            "issued_on",
            "channel",
            "created_at",
        )

    def value_issued_on(self, value):
        return value.isoformat() if value else ""

    def value_created_at(self, value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


class InvoiceQueueView(ObjectListView):
    permission_required = "orders.view_invoicerequest"
    queryset = InvoiceRequest.objects.select_related("order", "order__channel").order_by("-id")
    filterset_class = InvoiceFilterSet
    table_class = InvoiceTable
    title = _("Invoices")
    template_name = "orders/invoice_queue.html"

    def get_export_filename(self, export_format):
        return super().get_export_filename(export_format).replace(str(self.title).lower(), "invoices")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_issue"] = self.request.user.has_perm("orders.change_invoicerequest")
        return context


@require_POST
@login_required
@permission_required("orders.change_invoicerequest", raise_exception=True)
def invoices_bulk_issue(request):
    """Issue the selected requests, each with the number typed on its row; one that cannot be issued is named and
    left as it was."""
    ids = [int(v) for v in request.POST.getlist("requests") if v.isdigit()]
    back = request.POST.get("back") or ""
    back = back if back.startswith("?") else ""
    if not ids:
        messages.error(request, gettext("Select at least one invoice request."))
        return redirect(reverse("orders:invoice_queue") + back)
    issued_on = parse_date(request.POST.get("issued_on") or "") if request.POST.get("issued_on") else None
    if request.POST.get("issued_on") and issued_on is None:
        messages.error(request, gettext("The issue date is not a date (YYYY-MM-DD)."))
        return redirect(reverse("orders:invoice_queue") + back)
    items = [(pk, request.POST.get(f"number_{pk}", "")) for pk in ids]
    done, errors = services.invoices_issue(items=items, issued_on=issued_on, user=request.user)
    for error in errors:
        messages.error(request, error)
    if done:
        numbers = ", ".join(r.order.number for r in done)
        messages.success(
            request, gettext("Issued %(count)d invoice(s): %(orders)s.") % {"count": len(done), "orders": numbers}
        )
    return redirect(reverse("orders:invoice_queue") + back)


# ---- the order page's invoice actions ---------------------------------------------------------------------


def _invoice_field_label(field: str) -> str:
    """``invoice.tax_id`` (intake's name of a problem's field) as the form's label (税号)."""
    name = field.partition(".")[2] or field
    try:
        return str(InvoiceRequest._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a name the model has not: shown as it is
        return name


@require_POST
@login_required
@permission_required("orders.add_invoicerequest", raise_exception=True)
def order_invoice_request(request, number):
    order = get_object_or_404(Order, number=number)
    raw = {name: request.POST.get(name, "") for name in INVOICE_INPUTS}
    try:
        invoice = parse_invoice(raw)
        if invoice is None:
            raise DomainError(gettext("Fill in the invoice title."))
        services.invoice_request(order=order, invoice=invoice, source="form", user=request.user)
    except OrderRejected as exc:
        for error in exc.errors:
            messages.error(request, f"{_invoice_field_label(error.field)}: {error.message}")
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Invoice requested."))
    return redirect("orders:order_detail", number=number)


@require_POST
@login_required
@permission_required("orders.change_invoicerequest", raise_exception=True)
def invoice_issue(request, pk):
    invoice = get_object_or_404(InvoiceRequest.objects.select_related("order"), pk=pk)
    issued_on = parse_date(request.POST.get("issued_on") or "") if request.POST.get("issued_on") else None
    try:
        if request.POST.get("issued_on") and issued_on is None:
            raise DomainError(gettext("The issue date is not a date (YYYY-MM-DD)."))
        services.invoice_issue(
            request=invoice, number=request.POST.get("number", ""), issued_on=issued_on, user=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Invoice issued."))
    return redirect("orders:order_detail", number=invoice.order.number)


@require_POST
@login_required
@permission_required("orders.change_invoicerequest", raise_exception=True)
def invoice_reject(request, pk):
    invoice = get_object_or_404(InvoiceRequest.objects.select_related("order"), pk=pk)
    try:
        services.invoice_reject(request=invoice, reason=request.POST.get("reason", ""), user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Invoice request rejected."))
    return redirect("orders:order_detail", number=invoice.order.number)


# ---- the finance review queue (财审) ----------------------------------------------------------------------


def finance_held_orders():
    active = OrderHold.objects.filter(released_at__isnull=True, reason__in=services.FINANCE_HOLDS)
    return (
        Order.objects.filter(Exists(active.filter(order=OuterRef("pk"))))
        .select_related("channel")
        .prefetch_related(
            Prefetch("holds", queryset=active, to_attr="finance_holds"),
            "lines__product",
        )
        .order_by("pk")
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
def finance_review_queue(request):
    paginator = Paginator(finance_held_orders(), 50)
    page = paginator.get_page(request.GET.get("page"))
    floors = current_floors()
    rows = []
    for order in page:
        lines = []
        for line in order.lines.all():
            floor = floors.floor_for(line.product)
            below = bool(line.unit_price) and floor is not None and line.unit_price < floor.amount
            lines.append({"line": line, "floor": floor, "below": below})
        total = sum((ln.unit_price * ln.quantity for ln in order.lines.all()), Decimal("0"))
        rows.append({"order": order, "lines": lines, "lines_total": total, "holds": order.finance_holds})
    context = {
        "rows": rows,
        "page": page,
        "count": paginator.count,
        "can_approve": request.user.has_perm("orders.finance_review"),
        "can_reject": request.user.has_perm("orders.finance_review") and request.user.has_perm("orders.cancel_order"),
    }
    return render(request, "orders/finance_review.html", context)


@require_POST
@login_required
@permission_required("orders.finance_review", raise_exception=True)
def finance_approve(request, number):
    order = get_object_or_404(Order, number=number)
    try:
        services.finance_approve(order=order, note=request.POST.get("note", ""), user=request.user)
    except DomainError as exc:
        messages.error(request, f"{number}: {exc}")
    else:
        messages.success(request, gettext("%(order)s approved and released.") % {"order": number})
    return redirect("orders:finance_review")


@require_POST
@login_required
@permission_required(("orders.finance_review", "orders.cancel_order"), raise_exception=True)
def finance_reject(request, number, *, reject):
    """``reject`` is the workflow action (workflows.cancel.order_finance_reject), given by its URL (workflows/urls/)."""
    order = get_object_or_404(Order, number=number)
    try:
        reject(order=order, reason=request.POST.get("reason", ""), user=request.user)
    except DomainError as exc:
        messages.error(request, f"{number}: {exc}")
    else:
        messages.success(request, gettext("%(order)s rejected and cancelled.") % {"order": number})
    return redirect("orders:finance_review")


# ---- the floors -------------------------------------------------------------------------------------------


def _percent(text: str, label: str) -> Decimal | None:
    text = (text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(
            gettext("%(label)s: '%(value)s' is not a number.") % {"label": label, "value": text[:20]}
        ) from None
    if not value.is_finite() or not 0 <= value <= 100:
        raise DomainError(gettext("%(label)s: a share is 0 to 100 %%.") % {"label": label})
    return (value / 100).quantize(Decimal("0.0001"))


def _amount(text: str) -> Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(gettext("Floor price: '%(value)s' is not an amount.") % {"value": text[:20]}) from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e10"):
        raise DomainError(gettext("Floor price: '%(value)s' is not an amount.") % {"value": text[:20]})
    return value.quantize(Decimal("0.01"))


@login_required
@permission_required("orders.change_financesettings", raise_exception=True)
def finance_settings(request):
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "global":
                share = _percent(request.POST.get("floor_share"), gettext("Floor"))
                services.finance_settings_set(floor_share=share)
                messages.success(request, gettext("Global floor saved."))
            elif action == "floor":
                services.price_floor_set(
                    sku=request.POST.get("sku", ""),
                    floor_price=_amount(request.POST.get("floor_price")),
                    floor_share=_percent(request.POST.get("floor_share"), gettext("Floor")),
                )
                messages.success(request, gettext("Floor saved."))
            elif action == "delete" and (request.POST.get("floor") or "").isdigit():
                services.price_floor_delete(floor_id=int(request.POST["floor"]))
                messages.success(request, gettext("Floor deleted."))
            else:
                messages.error(request, gettext("Nothing to do."))
        except DomainError as exc:
            messages.error(request, str(exc))
        return redirect("orders:finance_settings")
    settings = FinanceSettings.current()
    share = settings.floor_share
    context = {
        "global_share": f"{(share * 100).normalize():f}" if share is not None else "",
        "floors": PriceFloor.objects.select_related("product"),
    }
    return render(request, "orders/finance_settings.html", context)
