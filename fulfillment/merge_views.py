"""Pages for split and merge: the merge suggestions, merge/unmerge and split on the shipment page."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inventory.models import Location
from oms.errors import DomainError
from orders.status import ChangeReason

from . import merge, split
from .models import Shipment
from .status import ShipmentStatus

MERGE_PERM = "fulfillment.merge_shipment"


class ReasonForm(forms.Form):
    reason_code = forms.ChoiceField(choices=ChangeReason.choices, label=_("Reason code"))
    note = forms.CharField(max_length=200, required=False, label=_("Note"))


class SplitForm(ReasonForm):
    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(active=True),
        required=False,
        label=_("To location"),
        help_text=_("Empty: the same location."),
    )


def _errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


def shipment_merge_panel(request, shipment) -> str:
    """The merge/split card on the shipment page (registered in apps.py)."""
    user = request.user
    context = {
        "shipment": shipment,
        "lead": shipment.merged_into,
        "members": list(shipment.merged_members.exclude(status=ShipmentStatus.CANCELLED).select_related("order")),
        "partners": merge.merge_partners(shipment) if user.has_perm(MERGE_PERM) else [],
        "can_change": user.has_perm(MERGE_PERM)
        and shipment.status == ShipmentStatus.RESERVED
        and not shipment.picklist_id,
        "reason_form": ReasonForm(initial={"reason_code": ChangeReason.CONSOLIDATION}),
    }
    return render_to_string("fulfillment/merge_panel.html", context, request=request)


@login_required
@permission_required(MERGE_PERM, raise_exception=True)
def merge_suggestions(request):
    location = None
    if request.GET.get("location"):
        location = Location.objects.filter(code=request.GET["location"]).first()
    suggestions = merge.merge_suggestions(location)
    return render(
        request,
        "fulfillment/merge_suggestions.html",
        {
            "suggestions": suggestions,
            "location": location,
            "locations": Location.objects.filter(active=True).order_by("code"),
            "reason_form": ReasonForm(initial={"reason_code": ChangeReason.CONSOLIDATION}),
            "estimator": gettext("rated by logistics") if merge.has_parcel_cost_estimator() else gettext("weight only"),
        },
    )


@require_POST
@login_required
@permission_required(MERGE_PERM, raise_exception=True)
def merge_create(request):
    form = ReasonForm(request.POST)
    back = request.POST.get("next") or "fulfillment:merge_suggestions"
    if not form.is_valid():
        _errors(request, form)
        return redirect(back)
    try:
        ids = [int(pk) for pk in request.POST.getlist("shipment")]
        lead = merge.shipments_merge(
            shipment_ids=ids,
            user=request.user,
            reason_code=form.cleaned_data["reason_code"],
            note=form.cleaned_data["note"],
        )
    except (DomainError, ValueError) as exc:
        messages.error(request, str(exc) if isinstance(exc, DomainError) else gettext("Choose shipments to merge."))
        return redirect(back)
    messages.success(request, gettext("Merged: %(number)s leads the parcel.") % {"number": lead.number})
    return redirect("fulfillment:shipment_detail", number=lead.number)


@require_POST
@login_required
@permission_required(MERGE_PERM, raise_exception=True)
def merge_undo(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("fulfillment:shipment_detail", number=number)
    try:
        members = merge.shipment_unmerge(
            shipment=shipment,
            user=request.user,
            reason_code=form.cleaned_data["reason_code"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Unmerged: %(numbers)s.") % {"numbers": ", ".join(m.number for m in members)})
    return redirect("fulfillment:shipment_detail", number=number)


@login_required
@permission_required(MERGE_PERM, raise_exception=True)
def shipment_split(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("order", "location"), number=number)
    lines = list(shipment.lines.select_related("product"))
    form = SplitForm(request.POST or None, initial={"reason_code": ChangeReason.CAPACITY})
    if request.method == "POST":
        if form.is_valid():
            quantities = {}
            bad = False
            for line in lines:
                raw = request.POST.get(f"move_{line.pk}", "").strip()
                if raw:
                    try:
                        quantities[line.pk] = int(raw)
                    except ValueError:
                        bad = True
            if bad:
                messages.error(request, gettext("Quantities must be whole numbers."))
            else:
                try:
                    new = split.shipment_split(
                        shipment=shipment,
                        quantities=quantities,
                        location=form.cleaned_data["location"],
                        reason_code=form.cleaned_data["reason_code"],
                        note=form.cleaned_data["note"],
                        user=request.user,
                    )
                except DomainError as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, gettext("Split: %(number)s created.") % {"number": new.number})
                    return redirect("fulfillment:shipment_detail", number=new.number)
        else:
            _errors(request, form)
    return render(request, "fulfillment/merge_split.html", {"shipment": shipment, "lines": lines, "form": form})
