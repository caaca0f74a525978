"""Pages of 买家留言 / 卖家备注 and manual tags: the seller memo and tag forms of the order page, the order
list's bulk tag action and the tag list with counts. Thin: parse, call one service, redirect."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..models import Order, SellerFlag
from ..models.memo_tags import MESSAGE_MAX


class SellerMemoForm(forms.Form):
    seller_memo = forms.CharField(label=_("Seller memo"), max_length=MESSAGE_MAX, required=False, widget=forms.Textarea)
    seller_flag = forms.ChoiceField(label=_("Flag"), choices=[("", _("No flag")), *SellerFlag.choices], required=False)


class TagsForm(forms.Form):
    add = forms.CharField(label=_("Add tags"), max_length=255, required=False)
    remove = forms.CharField(label=_("Remove tags"), max_length=255, required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("add", "").strip() or data.get("remove", "").strip()):
            raise forms.ValidationError(_("Name a tag to add or remove."))
        return data


class BulkTagsForm(TagsForm):
    orders = forms.ModelMultipleChoiceField(
        queryset=Order.objects.all(),
        error_messages={
            "required": _("Select the orders first."),
        },
    )


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


def _submit(request, form, write, success, *back, **back_kwargs):
    """Every form here: an invalid form's errors become messages; a valid one calls ``write`` (one service) with
    the cleaned data, and its TagError becomes the error message, else ``success`` (a text, or made from what
    ``write`` returned) the success message; then back to ``redirect(*back, **back_kwargs)``."""
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(*back, **back_kwargs)
    try:
        result = write(form.cleaned_data)
    except services.TagError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(*back, **back_kwargs)


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_memo_edit(request, number):
    order = get_object_or_404(Order, number=number)
    return _submit(
        request,
        SellerMemoForm(request.POST),
        lambda data: services.order_seller_memo_set(
            order=order, memo=data["seller_memo"], flag=data["seller_flag"], user=request.user
        ),
        gettext("Seller memo saved."),
        "orders:order_detail",
        number=number,
    )


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_tags_edit(request, number):
    order = get_object_or_404(Order, number=number)
    return _submit(
        request,
        TagsForm(request.POST),
        lambda data: services.order_tags_change(order=order, add=data["add"], remove=data["remove"], user=request.user),
        gettext("Tags saved."),
        "orders:order_detail",
        number=number,
    )


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def orders_tags_bulk(request):
    """The order list's bulk action: add and/or remove tags on the selected orders."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = "orders:order_list"
    form = BulkTagsForm(request.POST)
    return _submit(
        request,
        form,
        lambda data: services.orders_tags_change(
            order_ids=[o.pk for o in data["orders"]], add=data["add"], remove=data["remove"], user=request.user
        ),
        lambda changed: (
            gettext("Tags changed on %(changed)d of %(selected)d order(s).")
            % {"changed": changed, "selected": len(form.cleaned_data["orders"])}
        ),
        back,
    )


@login_required
@permission_required("orders.view_order", raise_exception=True)
def tag_list(request):
    return render(request, "orders/tag_list.html", {"tags": selectors.tag_counts()})
