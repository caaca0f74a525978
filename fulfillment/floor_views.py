"""Warehouse floor pages: waves and the pack station (keyboard-wedge scanner: typed code + Enter).

One POST view per action; domain errors become messages (or the red banner at the pack station).
The final "pack & print label" POST lives in logistics (it dispatches), see logistics.dispatch_views.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from orders.models import OrderEvent

from . import extensions, packing, waves
from .forms import PackCompleteForm, PackScanForm, WaveForm
from .merge import merged_weight_g
from .models import PackMismatch, Shipment
from .status import ShipmentStatus

# ---- waves -----------------------------------------------------------------------------------


@login_required
@permission_required("fulfillment.print_picklist", raise_exception=True)
def wave_create(request):
    form = WaveForm(request.POST or request.GET or None)
    plan = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            picklist = waves.wave_create(
                location=data["location"],
                user=request.user,
                carrier=data["carrier"].strip(),
                zone=data["zone"].strip().upper(),
                cutoff_by=data["cutoff_by"],
                priority_max=data["priority_max"],
                max_orders=data["max_orders"],
                max_lines=data["max_lines"],
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Wave %(number)s: %(shipments)s shipment(s), %(lines)s line(s).")
                % {"number": picklist.number, "shipments": picklist.shipments.count(), "lines": picklist.line_count},
            )
            return redirect("fulfillment:picklist_detail", pk=picklist.pk)
    location = None
    if form.is_bound and "location" in form.data:
        location = form.fields["location"].queryset.filter(pk=form.data.get("location")).first()
    if location is not None:
        limits = {"max_orders": 50, "max_lines": 200}
        for key in limits:
            try:
                limits[key] = max(1, int(form.data.get(key) or limits[key]))
            except ValueError:
                pass
        plan = waves.wave_plan(location, **limits)
    return render(request, "fulfillment/wave_create.html", {"form": form, "plan": plan, "location": location})


@require_POST
@login_required
@permission_required("fulfillment.print_picklist", raise_exception=True)
def shipment_picklist(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("location"), number=number)
    try:
        picklist = waves.picklist_for_shipment(shipment=shipment, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("fulfillment:shipment_detail", number=number)
    messages.success(
        request, gettext("Pick list %(picklist)s for %(number)s.") % {"picklist": picklist.number, "number": number}
    )
    return redirect("fulfillment:picklist_detail", pk=picklist.pk)


# ---- pack station ----------------------------------------------------------------------------


def _station_context(request, shipment, *, result=None, error=""):
    items = packing.expected_items(shipment) if shipment else []
    parcel = packing.parcel_shipments(shipment) if shipment else []
    complete = bool(items) and all(r["done"] for r in items)
    form = (
        PackCompleteForm(initial={"weight_kg": _weight_kg(shipment), "package_type": shipment.package_type or "box-m"})
        if shipment
        else None
    )
    return {
        "shipment": shipment,
        "items": items,
        "complete": complete,
        "result": result,
        "error": error,
        "complete_form": form,
        "pack_panels": extensions.pack_panels(request, shipment) if complete else [],
        "scanned": sum(r["scanned"] for r in items),
        "expected": sum(r["quantity"] for r in items),
        "mismatches": PackMismatch.objects.filter(shipment__in=parcel).select_related("product", "shipment")[:5]
        if shipment
        else [],
        # A merged parcel: the members packed with the lead, and every order's packing notes (classification).
        "members": parcel[1:],
        "packing_notes": [(s.order.number, s.order.packing_notes) for s in parcel if s.order.packing_notes],
        # 买家留言 / 卖家备注 of every order in the parcel, for the packer.
        "order_memos": [
            (s.order.number, s.order.buyer_message, s.order.seller_memo)
            for s in parcel
            if s.order.buyer_message or s.order.seller_memo
        ],
        "label_url": request.GET.get("label", ""),
        "done": request.GET.get("done", ""),
    }


def _weight_kg(shipment):
    if shipment is None:
        return None
    grams = shipment.weight_g or merged_weight_g(shipment)  # the lead's goods plus any members'

    return round(grams / 1000, 3) if grams else None


def _render_station(request, context, status=200):
    template = "fulfillment/_pack_station.html" if getattr(request, "htmx", False) else "fulfillment/pack_station.html"
    return render(request, template, context, status=status)


@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_station(request):
    """Scan a shipment number to start (GET ?code=SH...)."""
    code = request.GET.get("code", "").strip()
    if code:
        try:
            shipment = packing.pack_find(code)
        except DomainError as exc:
            return _render_station(request, _station_context(request, None, error=str(exc)), status=200)
        url = reverse("fulfillment:pack_shipment_station", args=[shipment.number])
        if getattr(request, "htmx", False):
            response = render(request, "fulfillment/_pack_station.html", _station_context(request, shipment))
            response["HX-Push-Url"] = url
            return response
        return redirect(url)
    return _render_station(request, _station_context(request, None))


@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_shipment_station(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("order", "location"), number=number)
    error = ""
    try:
        packing.pack_find(shipment.number)
    except DomainError as exc:
        error = str(exc)
        if shipment.merged_into_id:  # a member is packed in its lead's parcel: no scanning here
            return _render_station(request, _station_context(request, None, error=error))
        if shipment.status == ShipmentStatus.PACKED:  # packed, not labelled: why (a carrier refused), and retry
            error = _label_failure(shipment) or f"{shipment.number} is packed but has no label yet: Pack & print label."
    return _render_station(request, _station_context(request, shipment, error=error))


def _label_failure(shipment) -> str:
    """The last label purchase that failed for this shipment, as written on the order's timeline (logistics)."""
    event = (
        OrderEvent.objects.filter(order_id=shipment.order_id, data__label="failed", data__shipment=shipment.number)
        .order_by("-pk")
        .first()
    )
    return event.message if event else ""


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_scan(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("order", "location"), number=number)
    form = PackScanForm(request.POST)
    code = form.data.get("code", "").strip()
    # Scanning another shipment's number switches to it.
    other = Shipment.objects.filter(number__iexact=code).exclude(pk=shipment.pk).first() if code else None
    if other is not None and other.merged_into_id:
        # A member of a merged parcel: its items are scanned under the lead.
        lead = Shipment.objects.values_list("number", flat=True).get(pk=other.merged_into_id)
        error = (
            gettext("Shipment %(number)s is packed in this parcel: scan its items.") % {"number": other.number}
            if other.merged_into_id == shipment.pk
            else gettext("Shipment %(number)s travels with %(lead)s: scan %(lead)s instead.")
            % {"number": other.number, "lead": lead}
        )
        if not getattr(request, "htmx", False):
            messages.error(request, error)
            return redirect("fulfillment:pack_shipment_station", number=number)
        return _render_station(request, _station_context(request, shipment, error=error))
    if other is not None:
        if getattr(request, "htmx", False):
            response = render(request, "fulfillment/_pack_station.html", _station_context(request, other))
            response["HX-Push-Url"] = reverse("fulfillment:pack_shipment_station", args=[other.number])
            return response
        return redirect("fulfillment:pack_shipment_station", number=other.number)
    result, error = None, ""
    try:
        result = packing.pack_scan(shipment=shipment, code=code, user=request.user)
    except DomainError as exc:
        error = str(exc)
    shipment.refresh_from_db()
    if not getattr(request, "htmx", False):
        if error or (result and not result.ok):
            messages.error(request, error or result.message)
        elif result:
            messages.success(request, result.message)
        return redirect("fulfillment:pack_shipment_station", number=number)
    return _render_station(request, _station_context(request, shipment, result=result, error=error))


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_reset(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    packing.pack_reset(shipment=shipment, user=request.user)
    messages.info(request, gettext("Scanning of %(number)s starts again.") % {"number": number})
    return redirect("fulfillment:pack_shipment_station", number=number)


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_short(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    try:
        rows = packing.pack_report_short(shipment=shipment, user=request.user, note=request.POST.get("note", "")[:100])
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("fulfillment:pack_shipment_station", number=number)
    messages.warning(
        request,
        gettext("%(number)s reported short (%(count)s product(s)); it stays unpacked for a supervisor.")
        % {"number": number, "count": len(rows)},
    )
    return redirect("fulfillment:pack_station")
