"""Bin pages: a location's bins (with the products whose stock sits in each), create, edit,
deactivate/reactivate, and the product page where a product's bin at a location is assigned.
Thin: parse, call one service of inventory/bins.py, render. Permissions: inventory.view_bin to
look, add_bin / change_bin to write bins, change_stock to assign a product's bin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.views import run_action

from . import bins
from .forms import BinAssignForm, BinForm
from .models import Bin, Location, Product, Stock

SAVED = {
    "created": _("Bin %(code)s at %(location)s created."),
    "updated": _("Bin %(code)s at %(location)s updated."),
    "unchanged": _("Bin %(code)s at %(location)s unchanged."),
}


def _bin_error(form, exc: DomainError) -> None:
    column, sep, message = str(exc).partition(": ")
    if sep and column in form.fields:
        form.add_error(column, message)
    else:
        form.add_error(None, str(exc))


@login_required
@permission_required("inventory.view_bin", raise_exception=True)
def location_bins(request, code):
    location = get_object_or_404(Location, code=code)
    rows, loose = bins.location_bins(location)
    context = {
        "title": gettext("Bins at %(location)s") % {"location": location.code},
        "location": location,
        "rows": rows,
        "loose": sorted(loose.items()),
        "can_add": request.user.has_perm("inventory.add_bin"),
        "can_change": request.user.has_perm("inventory.change_bin"),
    }
    return render(request, "inventory/location_bins.html", context)


def _bin_form_page(request, location: Location, bin: Bin | None):  # noqa: A002
    initial = None
    if bin is not None:
        initial = {"code": bin.code, "zone": bin.zone, "pick_sequence": bin.pick_sequence, "active": bin.active}
    form = BinForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = bins.BinData(code=d["code"], zone=d["zone"], pick_sequence=d["pick_sequence"], active=d["active"])
        try:
            saved, outcome = bins.bin_save(location=location, data=data, bin=bin)
        except DomainError as exc:
            _bin_error(form, exc)
        else:
            messages.success(request, SAVED[outcome] % {"code": saved.code, "location": location.code})
            return redirect("inventory:location_bins", code=location.code)
    if bin:
        title = gettext("Edit bin %(code)s at %(location)s") % {"code": bin.code, "location": location.code}
    else:
        title = gettext("New bin at %(location)s") % {"location": location.code}
    context = {"form": form, "title": title, "location": location}
    return render(request, "inventory/bin_form.html", context, status=400 if request.method == "POST" else 200)


@login_required
@permission_required("inventory.add_bin", raise_exception=True)
def bin_create(request, code):
    return _bin_form_page(request, get_object_or_404(Location, code=code), None)


@login_required
@permission_required("inventory.change_bin", raise_exception=True)
def bin_edit(request, code, pk):
    location = get_object_or_404(Location, code=code)
    return _bin_form_page(request, location, get_object_or_404(Bin, pk=pk, location=location))


@require_POST
@login_required
@permission_required("inventory.change_bin", raise_exception=True)
def bin_set_active(request, code, pk):
    location = get_object_or_404(Location, code=code)
    bin = get_object_or_404(Bin, pk=pk, location=location)  # noqa: A001
    active = request.POST.get("active") == "1"
    done = _("Bin %(code)s at %(location)s reactivated.") if active else _("Bin %(code)s at %(location)s deactivated.")
    response, _result = run_action(
        request,
        lambda: bins.bin_set_active(bin=bin, active=active),
        success=done % {"code": bin.code, "location": location.code},
        redirect_to=reverse("inventory:location_bins", args=[location.code]),
    )
    return response


@login_required
@permission_required("inventory.view_product", raise_exception=True)
def product_detail(request, sku):
    product = get_object_or_404(Product, sku=sku)
    stock = list(Stock.objects.filter(product=product).select_related("location").order_by("location__code"))
    can_assign = request.user.has_perm("inventory.change_stock")
    form = None
    status = 200
    if can_assign:
        form = BinAssignForm(request.POST or None, initial={"location": request.GET.get("location")})
    if request.method == "POST":
        if not can_assign:
            return render(request, "oms/forbidden.html", status=403)
        if form.is_valid():
            d = form.cleaned_data
            try:
                row = bins.stock_bin_assign(location=d["location"], product=product, bin=d["bin"], user=request.user)
            except DomainError as exc:
                _bin_error(form, exc)
            else:
                values = {"sku": product.sku, "location": row.location.code, "bin": row.bin}
                if row.bin:
                    messages.success(request, gettext("%(sku)s at %(location)s: bin %(bin)s.") % values)
                else:
                    messages.success(request, gettext("%(sku)s at %(location)s: no bin.") % values)
                return redirect("inventory:product_detail", sku=product.sku)
        status = 400
    # Suggestions for the bin field: the active bins of the locations (the service checks the pair).
    suggestions = Bin.objects.filter(active=True, location__active=True).order_by("code").values_list("code", flat=True)
    context = {
        "title": f"{product.sku} {product.name}",
        "product": product,
        "stock": stock,
        "form": form,
        "bin_codes": list(suggestions.distinct()[:500]),
    }
    return render(request, "inventory/product_detail.html", context, status=status)
