"""Thin views: parse, call one service or selector, render."""

import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.views import ObjectListView

from .. import selectors, services
from ..extensions import order_panels
from ..filtersets import InboundFilterSet, OrderFilterSet
from ..forms import CancelForm, HoldForm, OrderForm, OrderLineFormSet, ReleaseForm
from ..intake import address_cn
from ..intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder, OrderRejected
from ..models import InboundMessage, Order, OrderHold
from ..models.memo_tags import clean_message
from ..status import CANCELLABLE, HOLDABLE, HoldReason
from ..tables import HoldQueueTable, InboundTable, OrderListTable, hidden_columns
from .merge import merge_panel


class OrderListView(ObjectListView):
    permission_required = "orders.view_order"
    queryset = selectors.order_list()
    filterset_class = OrderFilterSet
    table_class = OrderListTable
    title = _("Orders")
    actions_template = "orders/_bulk_tags.html"  # the bulk tag action (orders/views/memo_tags.py)

    def get_table_kwargs(self):
        # The warehouse does not see customers' phone and e-mail (the export uses the same table).
        kwargs = super().get_table_kwargs()
        hidden = hidden_columns(self.request.user)
        if self.table_class is OrderListTable and not self.request.user.has_perm("orders.change_order"):
            hidden = (*hidden, "select")
        if hidden:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), *hidden)
        return kwargs


class HoldQueueView(OrderListView):
    """One queue per hold reason (?hold_reason=...) with counts, and bulk release of the chosen reason."""

    title = _("Orders on hold")
    template_name = "orders/hold_queue.html"
    table_class = HoldQueueTable
    queryset = (
        selectors.order_list()
        .filter(on_hold=True)
        .prefetch_related(
            Prefetch("holds", queryset=OrderHold.objects.filter(released_at__isnull=True), to_attr="active_holds")
        )
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = selectors.hold_counts()
        reason = self.request.GET.get("hold_reason", "")
        context["reason"] = reason if reason in HoldReason.values else ""
        context["reason_label"] = HoldReason(reason).label if context["reason"] else ""
        context["tabs"] = [{"reason": r, "label": label, "count": counts.get(r, 0)} for r, label in HoldReason.choices]
        context["total_on_hold"] = sum(counts.values())
        context["can_release"] = self.request.user.has_perm("orders.hold_order")
        context["release_reasons"] = HoldReason.choices
        return context


class InboundListView(ObjectListView):
    permission_required = "orders.view_inboundmessage"
    queryset = selectors.inbound_list()
    filterset_class = InboundFilterSet
    table_class = InboundTable
    title = _("Intake monitor")


@login_required
@permission_required("orders.view_order", raise_exception=True)
def order_detail(request, number):
    order = get_object_or_404(Order.objects.select_related("channel", "customer"), number=number)
    context = {
        "order": order,
        "lines": order.lines.select_related("product"),
        "holds": order.holds.select_related("created_by", "released_by"),
        "timeline": selectors.order_timeline(order),
        "panels": order_panels(request, order),
        "merge": merge_panel(order, request.user),
        "can_hold": order.status in HOLDABLE and request.user.has_perm("orders.hold_order"),
        "can_release": order.on_hold and request.user.has_perm("orders.hold_order"),
        "can_cancel": order.status in CANCELLABLE and request.user.has_perm("orders.cancel_order"),
        "hold_form": HoldForm(),
        "release_form": ReleaseForm(),
        "cancel_form": CancelForm(),
    }
    return render(request, "orders/order_detail.html", context)


def _order_action(request, number, form_class, action, success):
    order = get_object_or_404(Order, number=number)
    form = form_class(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(request, f"{label}: {' '.join(errors)}")
        return redirect("orders:order_detail", number=number)
    try:
        action(order, form.cleaned_data)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("orders:order_detail", number=number)


@require_POST
@login_required
@permission_required("orders.hold_order", raise_exception=True)
def order_hold(request, number):
    return _order_action(
        request,
        number,
        HoldForm,
        lambda o, d: services.order_hold(order=o, reason=d["reason"], note=d["note"], user=request.user),
        gettext("Order put on hold."),
    )


@require_POST
@login_required
@permission_required("orders.hold_order", raise_exception=True)
def order_release(request, number):
    return _order_action(
        request,
        number,
        ReleaseForm,
        lambda o, d: services.order_release(order=o, reason=d["reason"] or None, note=d["note"], user=request.user),
        gettext("Hold released."),
    )


@require_POST
@login_required
@permission_required("orders.cancel_order", raise_exception=True)
def order_cancel(request, number, *, cancel):
    """``cancel`` is the workflow action (workflows.cancel.order_cancel), given by its URL (workflows/urls/):
    orders cannot import the layer above it."""
    return _order_action(
        request,
        number,
        CancelForm,
        lambda o, d: cancel(order=o, reason=d["reason"], user=request.user),
        gettext("Order cancelled."),
    )


def canonical_from_form(data: dict, lines: list[dict]) -> CanonicalOrder:
    return CanonicalOrder(
        external_id=data["external_id"] or f"BO-{uuid.uuid4().hex[:12].upper()}",
        ship_to=CanonicalAddress(
            name=data["ship_name"],
            phone=data["ship_phone"],
            email=data["ship_email"],
            country=data["ship_country"],
            province=data["ship_province"],
            city=data["ship_city"],
            district=data["ship_district"],
            address1=data["ship_address1"],
            address2=data["ship_address2"],
            postcode=data["ship_postcode"],
        ),
        lines=[
            CanonicalLine(
                sku=ln["sku"].strip(), quantity=ln["quantity"], unit_price=ln.get("unit_price") or Decimal("0")
            )
            for ln in lines
        ],
        customer_name=data["ship_name"],
        customer_email=data["ship_email"],
        customer_phone=data["ship_phone"],
        requested_service=data["requested_service"],
        promise_date=data["promise_date"],
        note=data["note"],
        buyer_message=clean_message(data.get("buyer_message")),
        seller_memo=clean_message(data.get("seller_memo")),
    )


def held_words(order: Order, data: CanonicalOrder) -> list[str]:
    """Why an order the form created is on hold, in the reader's language: its unknown SKUs and the
    address that does not resolve, with the closest divisions (the hold notes are stored in English)."""
    reasons = set(order.holds.filter(released_at__isnull=True).values_list("reason", flat=True))
    words = []
    if HoldReason.UNKNOWN_SKU in reasons:
        skus = sorted({line.sku for line in order.lines.all() if line.product_id is None})
        words.append(
            gettext("Order %(number)s is on hold: unknown SKU %(skus)s (map it to a product or correct the line).")
            % {"number": order.number, "skus": ", ".join(skus)}
        )
    if HoldReason.ADDRESS_INVALID in reasons:
        a = data.ship_to
        done = address_cn.complete(
            province=a.province,
            city=a.city,
            district=a.district,
            line=" ".join(v for v in (a.address1, a.address2) if v),
        )
        if done.problems:
            text = gettext(
                "Order %(number)s is on hold: the address is not in China's division list: %(problems)s."
            ) % {
                "number": order.number,
                "problems": "; ".join(str(p) for p in done.problems),
            }
            if done.suggestions:
                text += " " + gettext("Did you mean: %(suggestions)s?") % {"suggestions": " / ".join(done.suggestions)}
            words.append(text)
    return words


@login_required
@permission_required("orders.add_order", raise_exception=True)
def order_create(request):
    if request.method == "POST":
        form = OrderForm(request.POST)
        formset = OrderLineFormSet(request.POST, prefix="lines")
        if form.is_valid() and formset.is_valid():
            lines = [f for f in formset.cleaned_data if f and f.get("sku")]
            data = canonical_from_form(form.cleaned_data, lines)
            message = services.inbound_store(
                channel=form.cleaned_data["channel"], source="form", body=request.POST.urlencode()
            )
            try:
                result = services.order_create(
                    channel=form.cleaned_data["channel"], data=data, source="form", user=request.user, inbound=message
                )
            except OrderRejected as exc:
                for error in exc.errors:
                    form.add_error(None, f"{error.field}: {error.message}")
            else:
                if result.created:
                    messages.success(request, gettext("Order %(number)s created.") % {"number": result.order.number})
                    for warning in held_words(result.order, data):
                        messages.warning(request, warning)
                else:
                    messages.info(
                        request,
                        gettext("Order %(number)s already exists; nothing changed.") % {"number": result.order.number},
                    )
                return redirect("orders:order_detail", number=result.order.number)
        status = 400  # shown again with every problem named; nothing was created
    else:
        form = OrderForm()
        formset = OrderLineFormSet(prefix="lines")
        status = 200
    return render(request, "orders/order_form.html", {"form": form, "formset": formset}, status=status)


@login_required
@permission_required("orders.view_inboundmessage", raise_exception=True)
def inbound_detail(request, pk):
    message = get_object_or_404(InboundMessage.objects.select_related("channel"), pk=pk)
    return render(request, "orders/inbound_detail.html", {"message": message})
