from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.pdf import pdf_response
from oms.views import ObjectListView

from . import extensions, selectors, services, waves
from .documents import picklist_pdf
from .filtersets import PickListFilterSet, ShipmentFilterSet
from .forms import PackForm, PickListCreateForm
from .models import PickList, Shipment
from .status import ShipmentStatus
from .tables import PickListTable, ShipmentTable


class ShipmentListView(ObjectListView):
    permission_required = "fulfillment.view_shipment"
    queryset = selectors.shipment_list()
    filterset_class = ShipmentFilterSet
    table_class = ShipmentTable
    title = _("Shipments")


class PickListListView(ObjectListView):
    permission_required = "fulfillment.view_picklist"
    queryset = selectors.picklist_list()
    filterset_class = PickListFilterSet
    table_class = PickListTable
    title = _("Pick lists")
    actions_template = "fulfillment/_picklist_actions.html"


@login_required
@permission_required("fulfillment.view_shipment", raise_exception=True)
def shipment_detail(request, number):
    shipment = get_object_or_404(Shipment.objects.select_related("order", "location", "picklist"), number=number)
    user = request.user
    context = {
        "shipment": shipment,
        "lines": shipment.lines.select_related("product"),
        "parcels": shipment.parcels.select_related("service__carrier"),
        "can_pack": shipment.status in (ShipmentStatus.RESERVED, ShipmentStatus.PICKING)
        and user.has_perm("fulfillment.pack_shipment"),
        "can_dispatch": shipment.status == ShipmentStatus.PACKED and user.has_perm("fulfillment.pack_shipment"),
        "pack_form": PackForm(),
        "can_single_picklist": shipment.status == ShipmentStatus.RESERVED
        and not shipment.picklist_id
        and user.has_perm("fulfillment.print_picklist"),
        "panels": extensions.shipment_panels(request, shipment),
    }
    return render(request, "fulfillment/shipment_detail.html", context)


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def shipment_pack(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    form = PackForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Enter the weight in kg, more than 0."))
        return redirect("fulfillment:shipment_detail", number=number)
    try:
        services.shipment_pack(
            shipment=shipment, weight_g=int(form.cleaned_data["weight_kg"] * 1000), user=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Shipment %(number)s packed.") % {"number": number})
    return redirect("fulfillment:shipment_detail", number=number)


@login_required
@permission_required("fulfillment.print_picklist", raise_exception=True)
def picklist_create(request):
    form = PickListCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            picklist = services.picklist_create(
                location=form.cleaned_data["location"], limit=form.cleaned_data["limit"], user=request.user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Pick list %(number)s with %(count)s shipment(s).")
                % {"number": picklist.number, "count": picklist.shipments.count()},
            )
            return redirect("fulfillment:picklist_detail", pk=picklist.pk)
    counts = selectors.ready_counts_by_location()
    ready = [(location, counts.get(location.pk, 0)) for location in form.fields["location"].queryset]
    return render(request, "fulfillment/picklist_create.html", {"form": form, "ready": ready})


@login_required
@permission_required("fulfillment.view_picklist", raise_exception=True)
def picklist_detail(request, pk):
    picklist = get_object_or_404(PickList.objects.select_related("location", "created_by"), pk=pk)
    shipments = picklist.shipments.select_related("order").prefetch_related("lines__product", "parcels")
    packing_notes: dict[str, list] = {}  # note -> the shipments whose order carries it
    for shipment in shipments:
        if shipment.order.packing_notes:
            packing_notes.setdefault(shipment.order.packing_notes, []).append(shipment)
    return render(
        request,
        "fulfillment/picklist_detail.html",
        {
            "picklist": picklist,
            "shipments": shipments,
            "summary": waves.wave_summary(picklist),
            "packing_notes": list(packing_notes.items()),
        },
    )


@login_required
@permission_required("fulfillment.view_picklist", raise_exception=True)
def picklist_pdf_view(request, pk):
    picklist = get_object_or_404(PickList.objects.select_related("location"), pk=pk)
    picklist = waves.picklist_printed(picklist=picklist, user=request.user)  # counts reprints
    return pdf_response(picklist_pdf(picklist), f"{picklist.number}.pdf")
