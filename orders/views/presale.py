"""预售 pages: the presale queue (orders waiting, by release day, with counts; products and listings marked
presale; marking a listing) and releasing one order early from its page. Thin: parse, call one service."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from inventory.models import Product
from oms.errors import DomainError

from .. import selectors, services
from ..forms import ListingPresaleForm, PresaleReleaseForm
from ..models import Order

QUEUE_ROWS = 200


@login_required
@permission_required("orders.view_order", raise_exception=True)
def presale_queue(request, form=None, status=200):
    raw_day = request.GET.get("day", "")
    try:
        day = parse_date(raw_day) if raw_day else None
    except ValueError:
        day = None
    days = selectors.presale_days()
    orders = selectors.presale_waiting_orders(day)
    context = {
        "title": gettext("Presale"),
        "days": days,
        "day": day,
        "bad_day": bool(raw_day) and day is None,
        "total_orders": sum(d["orders"] for d in days),
        "total_units": sum(d["units"] for d in days),
        "orders": orders[:QUEUE_ROWS],
        "more": orders.count() > QUEUE_ROWS,
        "products": selectors.presale_products(),
        "listings": selectors.presale_listings(),
        "receipts": selectors.presale_receipt_releases(),
        "can_mark": request.user.has_perm("orders.change_channel"),
        "form": form or ListingPresaleForm(),
    }
    return render(request, "orders/presale_queue.html", context, status=status)


@require_POST
@login_required
@permission_required("orders.change_channel", raise_exception=True)
def listing_presale(request):
    form = ListingPresaleForm(request.POST)
    if not form.is_valid():
        request.method = "GET"
        return presale_queue(request, form=form, status=400)
    d = form.cleaned_data
    try:
        listing = services.listing_presale_set(
            channel=d["channel"], external_sku=d["external_sku"], ship_from=d["ship_from"], user=request.user
        )
    except DomainError as exc:
        form.add_error("external_sku", str(exc))
        request.method = "GET"
        return presale_queue(request, form=form, status=400)
    values = {"sku": listing.external_sku, "channel": listing.channel.name}
    if listing.presale_ship_from:
        values["day"] = listing.presale_ship_from.isoformat()
        messages.success(request, gettext("%(sku)s on %(channel)s is presale: orders ship from %(day)s.") % values)
    else:
        messages.success(request, gettext("%(sku)s on %(channel)s is no longer presale.") % values)
    return redirect("orders:presale_queue")


@require_POST
@login_required
@permission_required("orders.hold_order", raise_exception=True)
def order_presale_release(request, number):
    order = get_object_or_404(Order, number=number)
    form = PresaleReleaseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.order_presale_release(order=order, note=note, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Presale released: the order is routed now."))
    return redirect("orders:order_detail", number=number)


@require_POST
@login_required
@permission_required("orders.change_channel", raise_exception=True)
def presale_batch_arrived(request, sku):
    product = get_object_or_404(Product, sku=sku)
    try:
        moved = services.presale_batch_arrived(product=product, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        values = {"sku": product.sku, "count": len(moved)}
        messages.success(
            request,
            gettext("Batch of %(sku)s arrived: %(count)s presale order(s) are routed now, first paid first.") % values,
        )
    return redirect("orders:presale_queue")
