"""The new-order form's "paste an address": a pasted "name, phone, address" parsed on the server into
the form's fields (``orders.intake.paste_cn``), shown with what was understood, nothing saved. The
person checks the fields and creates the order with the form's own button (``views.order_create``)."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..forms import OrderForm, OrderLineFormSet
from ..intake.paste_cn import split_contact

PASTE_MAX = 1000  # characters: more is no address
# The form's fields a paste fills, with the labels the "understood" panel shows.
FILLS = (
    ("name", _("Recipient")),
    ("phone", _("Phone")),
    ("province", _("Province")),
    ("city", _("City")),
    ("district", _("District")),
    ("address1", _("Address")),
    ("postcode", _("Postcode")),
)


def _lines(post) -> list[dict]:
    """The line rows as typed so far (kept as they are: the order form checks them on create)."""
    try:
        total = min(int(post.get("lines-TOTAL_FORMS", "0")), 100)
    except ValueError:
        total = 0
    rows = []
    for i in range(total):
        row = {k: post.get(f"lines-{i}-{k}", "") for k in ("sku", "quantity", "unit_price")}
        if any(row.values()):
            rows.append(row)
    return rows


@login_required
@permission_required("orders.add_order", raise_exception=True)
def order_paste(request):
    """POST: fill the form from the pasted text and show it again (200), or with the text too long (400)."""
    if request.method != "POST":
        return redirect("orders:order_create")
    text = request.POST.get("paste", "")
    values = {name: request.POST.get(name, "") for name in OrderForm.base_fields}
    status, understood, problem = 200, None, ""
    if len(text) > PASTE_MAX:
        status, problem = (
            400,
            gettext("The pasted text is %(length)s characters long; an address has at most %(max)s.")
            % {"length": len(text), "max": PASTE_MAX},
        )
    elif text.strip():
        pasted = split_contact(text)
        understood = pasted
        for name, value in pasted.fields().items():
            if value:
                values[f"ship_{name}"] = value
        if pasted.address.province:
            values["ship_country"] = "CN"
    form = OrderForm(initial=values)
    formset = OrderLineFormSet(prefix="lines", initial=_lines(request.POST))
    context = {
        "form": form,
        "formset": formset,
        "paste": text,
        "paste_problem": problem,
        "understood": understood,
        "understood_rows": [(label, understood.fields()[name]) for name, label in FILLS] if understood else [],
    }
    return render(request, "orders/order_form.html", context, status=status)
