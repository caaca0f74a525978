"""Warehouse floor pages of logistics: pack & ship from the pack station, the compared rates and the
service override on the shipment page, wave labels (PDF and ZPL), ZPL labels, end-of-day manifests,
the rate card upload. One POST view per action; domain and carrier errors become messages."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from fulfillment import packing
from fulfillment.forms import PackCompleteForm
from fulfillment.models import PickList, Shipment
from fulfillment.status import NOT_YET_SHIPPED, ShipmentStatus
from inventory.models import Location
from oms.encoding import detect_encoding
from oms.errors import DomainError
from oms.pdf import pdf_response
from orders.care.tracking_links import tracking_view_url_for_order

from . import carrier_labels, external_labels, manifests, rating, services
from .carriers.base import CarrierError
from .documents import label_pdf
from .forms import ShipExternalForm
from .models import Carrier, Manifest, Parcel, ServiceLevel
from .zpl import label_zpl


def _tracking_url(parcel: Parcel) -> str:
    return tracking_view_url_for_order(parcel.shipment.order.number)  # on the box: viewing only


def zpl_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="application/zpl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def carrier_label_response(label: carrier_labels.LabelFile) -> HttpResponse:
    """The carrier's own label file, shown inline (PDF, PNG) or downloaded (ZPL) for the printer."""
    response = HttpResponse(label.content, content_type=label.content_type)
    disposition = "inline" if label.format in ("PDF", "PNG") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{label.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---- pack & ship -----------------------------------------------------------------------------


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def pack_and_ship(request, number):
    """From the pack station: pack the fully scanned shipment, dispatch it, open its label."""
    shipment = get_object_or_404(Shipment, number=number)
    form = PackCompleteForm(request.POST)
    station = reverse("fulfillment:pack_shipment_station", args=[number])
    if not form.is_valid():
        messages.error(request, gettext("Enter the weight in kg (more than 0) and the package type."))
        return redirect(station)
    data = form.cleaned_data
    try:
        if shipment.status in NOT_YET_SHIPPED and shipment.status != "packed":
            packing.pack_complete(
                shipment=shipment,
                weight_g=int(data["weight_kg"] * 1000),
                package_type=data["package_type"],
                user=request.user,
            )
        parcel = services.shipment_dispatch(shipment=shipment, user=request.user)
    except (DomainError, CarrierError) as exc:
        messages.error(request, str(exc))
        return redirect(station)
    size = data["label_size"]
    if carrier_labels.parcel_purchase(parcel) is not None:  # a real carrier's label: its own file, as bought
        label = reverse("logistics:parcel_label", args=[parcel.pk])
    elif size == "zpl":
        label = reverse("logistics:parcel_label_zpl", args=[parcel.pk])
    else:
        label = reverse("logistics:parcel_label", args=[parcel.pk]) + ("?size=a6" if size == "a6" else "")
    messages.success(
        request,
        gettext("%(number)s packed and shipped with %(service)s: %(tracking)s.")
        % {"number": number, "service": parcel.service, "tracking": parcel.tracking_number},
    )
    return redirect(reverse("fulfillment:pack_station") + "?" + urlencode({"done": number, "label": label}))


# ---- ship with a label made elsewhere (logistics/external_labels.py) ---------------------------


def _may_ship_external(request, shipment) -> bool:
    return (
        request.user.has_perm("fulfillment.pack_shipment")
        and not shipment.parcels.filter(voided_at__isnull=True).exists()
    )


def pack_external_panel(request, shipment) -> str:
    """Registered with fulfillment.extensions: at the pack station once every item is scanned."""
    if not _may_ship_external(request, shipment) or shipment.status not in NOT_YET_SHIPPED:
        return ""
    pack = shipment.status != ShipmentStatus.PACKED
    initial = {"weight_kg": round(shipment.weight_g / 1000, 3) if shipment.weight_g else None}
    initial["package_type"] = shipment.package_type or "box-m"
    form = ShipExternalForm(pack=pack, initial=initial)
    return render_to_string(
        "logistics/_ship_external.html", {"shipment": shipment, "form": form, "pack": True}, request=request
    )


def shipment_external_panel(request, shipment) -> str:
    """Registered with fulfillment.extensions: on the shipment page of a packed shipment."""
    if shipment.status != ShipmentStatus.PACKED or not _may_ship_external(request, shipment):
        return ""
    return render_to_string(
        "logistics/_ship_external.html", {"shipment": shipment, "form": ShipExternalForm()}, request=request
    )


@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def ship_external(request, number):
    """GET: the form; POST: ship under the given number (no label). Bad input: the form again, 400, with the
    errors and what was typed."""
    shipment = get_object_or_404(Shipment.objects.select_related("order"), number=number)
    pack = shipment.status != ShipmentStatus.PACKED
    from_pack = request.POST.get("from") == "pack" if request.method == "POST" else request.GET.get("from") == "pack"
    form = ShipExternalForm(request.POST or None, pack=pack)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                parcel = external_labels.shipment_ship_external(
                    shipment=shipment,
                    carrier=data["carrier_obj"],
                    carrier_name=data["carrier_name"],
                    tracking_number=data["tracking_number"],
                    weight_g=int(data["weight_kg"] * 1000) if pack else None,
                    package_type=data.get("package_type", ""),
                    user=request.user,
                )
            except external_labels.ExternalLabelError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            except DomainError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("%(number)s shipped with %(carrier)s under %(tracking)s (label made elsewhere).")
                    % {"number": number, "carrier": parcel.carrier_display, "tracking": parcel.tracking_number},
                )
                if from_pack:
                    return redirect(reverse("fulfillment:pack_station") + "?" + urlencode({"done": number}))
                return redirect("fulfillment:shipment_detail", number=number)
    return render(
        request,
        "logistics/ship_external.html",
        {"shipment": shipment, "form": form, "pack": from_pack},
        status=status,
    )


# ---- rates and override on the shipment page ----------------------------------------------


class OverrideForm(forms.Form):
    service = forms.ModelChoiceField(
        queryset=ServiceLevel.objects.filter(active=True, carrier__active=True).select_related("carrier"),
        label=_("Service"),
    )
    reason = forms.CharField(max_length=255, label=_("Reason"))


def shipment_rates_panel(request, shipment) -> str:
    """Registered with fulfillment.extensions: the compared rates (stored at dispatch, live before)."""
    parcel = shipment.parcels.first()
    if parcel is not None:
        quotes, reason, live = parcel.quotes, parcel.choice_reason, False
    elif shipment.status in NOT_YET_SHIPPED:
        try:
            result = rating.choose_service(shipment)
        except DomainError:
            return ""
        quotes, reason, live = result.quotes_json(), result.reason, True
    else:
        return ""
    can_override = live and request.user.has_perm("logistics.override_service") and shipment.status in NOT_YET_SHIPPED
    return render_to_string(
        "logistics/_shipment_rates.html",
        {
            "shipment": shipment,
            "quotes": quotes,
            "reason": reason,
            "live": live,
            "override_form": OverrideForm() if can_override else None,
        },
        request=request,
    )


@require_POST
@login_required
@permission_required("logistics.override_service", raise_exception=True)
def service_override(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a service and give a reason."))
    else:
        try:
            rating.service_override_set(
                shipment=shipment,
                service=form.cleaned_data["service"],
                reason=form.cleaned_data["reason"],
                user=request.user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("%(number)s will ship with %(service)s.")
                % {"number": number, "service": form.cleaned_data["service"]},
            )
    return redirect("fulfillment:shipment_detail", number=number)


# ---- labels ----------------------------------------------------------------------------------


@login_required
@permission_required("logistics.view_parcel", raise_exception=True)
def parcel_label_zpl(request, pk):
    parcel = get_object_or_404(Parcel.objects.select_related("shipment__order"), pk=pk)
    if parcel.external_label:
        messages.info(
            request,
            gettext("The label of %(tracking)s was made outside the OMS: there is no ZPL.")
            % {"tracking": parcel.tracking_number},
        )
        return redirect("fulfillment:shipment_detail", number=parcel.shipment.number)
    if carrier_labels.parcel_purchase(parcel) is not None:  # the carrier's own file, in the format it was bought
        return redirect("logistics:parcel_label", pk=parcel.pk)
    size = "a6" if request.GET.get("size") == "a6" else "4x6"
    return zpl_response(
        label_zpl([parcel], tracking_url_for=_tracking_url, size=size), f"label-{parcel.tracking_number}-{size}.zpl"
    )


@login_required
@permission_required("logistics.view_parcel", raise_exception=True)
def wave_labels(request, pk):
    """Every label of a wave in one PDF (or one ZPL file), in the wave's shipment order."""
    picklist = get_object_or_404(PickList, pk=pk)
    parcels = list(
        Parcel.objects.filter(shipment__picklist=picklist, voided_at__isnull=True, external_label=False).order_by(
            "shipment_id", "id"
        )
    )
    if not parcels:
        messages.error(
            request, gettext("No labels yet on wave %(wave)s: ship its shipments first.") % {"wave": picklist}
        )
        return redirect("fulfillment:picklist_detail", pk=pk)
    size = "a6" if request.GET.get("size") == "a6" else "4x6"
    zpl = request.GET.get("format") == "zpl"
    try:  # real carriers' labels are their own files, in the wave's order
        files = carrier_labels.carrier_label_files(parcels)
    except CarrierError as exc:
        messages.error(request, str(exc))
        return redirect("fulfillment:picklist_detail", pk=pk)
    wrong = [p.tracking_number for p in parcels if p.pk in files and files[p.pk].format != ("ZPL" if zpl else "PDF")]
    if wrong:
        messages.error(
            request,
            gettext("The carrier's labels of %(parcels)s are not %(format)s: print them from their shipments.")
            % {"parcels": ", ".join(wrong[:5]), "format": "ZPL" if zpl else "PDF"},
        )
        return redirect("fulfillment:picklist_detail", pk=pk)
    if zpl:
        parts = [
            files[p.pk].content.decode("utf-8", "replace")
            if p.pk in files
            else label_zpl([p], tracking_url_for=_tracking_url, size=size)
            for p in parcels
        ]
        return zpl_response("\n".join(parts), f"labels-{picklist}.zpl")
    own = [p for p in parcels if p.pk not in files]
    own_pdf = label_pdf(own, tracking_url_for=_tracking_url, size=size) if own else b""
    if not files:
        return pdf_response(own_pdf, f"labels-{picklist}-{size}.pdf")
    return pdf_response(carrier_labels.pdf_join(parcels, files, own_pdf), f"labels-{picklist}-{size}.pdf")


# ---- manifests ------------------------------------------------------------------------------


@login_required
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_list(request):
    return render(
        request,
        "logistics/manifests.html",
        {
            "open": manifests.open_counts(),
            "today": timezone.localdate(),
            "manifests": Manifest.objects.select_related("carrier", "location").order_by("-id")[:50],
            "can_close": request.user.has_perm("logistics.close_manifest"),
        },
    )


@require_POST
@login_required
@permission_required("logistics.close_manifest", raise_exception=True)
def manifest_close(request):
    carrier = get_object_or_404(Carrier, pk=request.POST.get("carrier") or 0)
    location = get_object_or_404(Location, pk=request.POST.get("location") or 0)
    try:
        manifest = manifests.manifest_close(carrier=carrier, location=location, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            gettext("Manifest %(manifest)s closed with %(count)s parcel(s).")
            % {"manifest": manifest, "count": manifest.parcels.count()},
        )
    return redirect("logistics:manifest_list")


@login_required
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_pdf(request, pk):
    manifest = get_object_or_404(Manifest.objects.select_related("carrier", "location"), pk=pk)
    return pdf_response(manifests.manifest_pdf(manifest), f"{manifest}.pdf")


@login_required
@permission_required("logistics.view_manifest", raise_exception=True)
def manifest_csv(request, pk):
    manifest = get_object_or_404(Manifest.objects.select_related("carrier", "location"), pk=pk)
    response = HttpResponse(manifests.manifest_csv(manifest), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{manifest}.csv"'
    return response


# ---- rate cards ------------------------------------------------------------------------------


class RateCardUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text=format_html("CSV: <code>{}</code>", ",".join(rating.RATE_CARD_COLUMNS))
    )
    dry_run = forms.BooleanField(required=False, initial=True, label=_("Check only (dry run)"))


@login_required
@permission_required("logistics.add_ratecardrow", raise_exception=True)
def ratecard_import(request):
    form = RateCardUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["file"].read()
        try:  # the one encoding detector (oms/encoding.py): never a guess that garbles the names
            result = rating.rate_card_import(raw.decode(detect_encoding(raw)), dry_run=form.cleaned_data["dry_run"])
        except UnicodeDecodeError:
            messages.error(
                request, gettext("The file has bytes that are not valid UTF-8: save it as UTF-8 and upload it again.")
            )
        else:
            if result.errors:
                messages.error(
                    request,
                    gettext("%(count)s row(s) with errors: nothing was imported.") % {"count": len(result.errors)},
                )
            elif form.cleaned_data["dry_run"]:
                messages.info(
                    request,
                    gettext("%(count)s row(s) are fine. Untick “check only” to import them.") % {"count": result.rows},
                )
            else:
                messages.success(
                    request,
                    gettext("Imported %(created)s new and %(updated)s changed row(s).")
                    % {"created": result.created, "updated": result.updated},
                )
    services_with_cards = ServiceLevel.objects.filter(rate_rows__isnull=False).distinct().select_related("carrier")
    return render(
        request,
        "logistics/ratecard_import.html",
        {
            "form": form,
            "result": result,
            "services": services_with_cards,
            "columns": ",".join(rating.RATE_CARD_COLUMNS),
        },
    )
