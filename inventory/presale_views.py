"""预售 on the product page: mark or unmark a product presale (inventory.services.product_presale_set)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oms.errors import DomainError

from . import services
from .forms import PresaleForm
from .models import Product


@login_required
@permission_required("inventory.change_product", raise_exception=True)
@require_POST
def product_presale(request, sku):
    product = get_object_or_404(Product, sku=sku)
    form = PresaleForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("inventory:product_detail", sku=product.sku)
    d = form.cleaned_data
    try:
        product = services.product_presale_set(
            product=product, ship_from=d["ship_from"], batch_qty=d["batch_qty"], user=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("inventory:product_detail", sku=product.sku)
    if product.presale_ship_from:
        text = gettext("%(sku)s is presale: orders ship from %(day)s.") % {
            "sku": product.sku,
            "day": product.presale_ship_from.isoformat(),
        }
    else:
        text = gettext("%(sku)s is no longer presale.") % {"sku": product.sku}
    messages.success(request, text)
    return redirect("inventory:product_detail", sku=product.sku)
