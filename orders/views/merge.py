"""自动合单 pages and API: the order page's merge panel data, the undo button (POST) and the API's undo.

The undo is a workflow action (workflows.merge.order_merge_undo: it unmerges shipments in fulfillment too);
orders cannot import the layer above it, so the action is given to these views by their URL
(workflows/urls/orders.py, workflows/urls/api.py)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms import changelog
from oms.api import api_view, error, json_input
from oms.errors import DomainError

from .. import selectors, services
from ..models import MergeSettings, Order, OrderMergeGroup


class MergeUndoForm(forms.Form):
    note = forms.CharField(label=_("Why"), max_length=200, required=False)


def merge_group_json(order: Order) -> dict | None:
    """The order's merge group for the order's JSON (the live one, else the last undone one), or None."""
    group = selectors.merge_group_latest(order)
    if group is None:
        return None
    return {
        "number": group.number,
        "active": group.undone_at is None,
        "orders": [o.number for o in selectors.merge_group_orders(group)],
        "created_at": group.created_at.isoformat(),
        "undone_at": group.undone_at.isoformat() if group.undone_at else None,
        "undo_note": group.undo_note,
    }


def merge_panel(order: Order, user) -> dict:
    """What the order page's merge panel shows (orders/_merge_panel.html)."""
    group = selectors.merge_group_latest(order)
    if group is None:
        return {}
    orders = selectors.merge_group_orders(group)
    return {
        "group": group,
        "partners": [o for o in orders if o.pk != order.pk],
        "can_undo": group.undone_at is None and user.has_perm("orders.merge_order"),
        "form": MergeUndoForm(),
    }


@require_POST
@login_required
@permission_required("orders.merge_order", raise_exception=True)
def order_merge_undo(request, number, *, undo):
    """``undo`` is workflows.merge.order_merge_undo, given by the URL."""
    order = get_object_or_404(Order, number=number)
    form = MergeUndoForm(request.POST)
    group = selectors.merge_group_of(order)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    elif group is None:
        messages.error(request, gettext("Order %(order)s is not in a merge group.") % {"order": number})
    else:
        try:
            undo(group=group, user=request.user, note=form.cleaned_data["note"])
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Merge group %(group)s undone.") % {"group": group.number})
    return redirect("orders:order_detail", number=number)


@api_view(methods={"POST": "orders.merge_order"})
def api_order_merge_undo(request, number, *, undo):
    order = Order.objects.filter(number=number).first()
    if order is None:
        return error(f"No order {number}.", 404)
    body = json_input(request, "MergeUndoIn") if request.body else {}  # its schema: orders/views/api.py
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > 200:
        return error("note must be a string of at most 200 characters.", 400, [{"field": "note", "message": "text"}])
    group = selectors.merge_group_of(order)
    if group is None:
        return error(f"Order {number} is not in a merge group.", 409)
    try:
        undo(group=group, user=request.user, note=note)
    except DomainError as exc:
        return error(str(exc), 409)
    group.refresh_from_db()
    return JsonResponse({"order": order.number, "merge_group": merge_group_json(order)})


class MergeSettingsForm(forms.ModelForm):
    class Meta:
        model = MergeSettings
        fields = ["enabled", "window_minutes", "wait_minutes", "exclude_tags", "disabled_channels"]
        widgets = {"disabled_channels": forms.CheckboxSelectMultiple}

    def clean_window_minutes(self):
        value = self.cleaned_data["window_minutes"]
        if not 1 <= value <= 1440:
            raise forms.ValidationError(_("Between 1 and 1440 minutes."))
        return value

    def clean(self):
        data = super().clean()
        window, wait = data.get("window_minutes"), data.get("wait_minutes")
        if window is not None and wait is not None and wait > window:
            self.add_error("wait_minutes", _("At most the merge window."))
        return data


@login_required
@permission_required("orders.change_mergesettings", raise_exception=True)
def merge_settings(request):
    current = MergeSettings.current()
    instance = current if MergeSettings.objects.filter(pk=1).exists() else None
    form = MergeSettingsForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.merge_settings_set(**form.cleaned_data, user=request.user)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Automatic merge settings saved."))
            return redirect("orders:merge_settings")
    groups = OrderMergeGroup.objects.select_related("channel").prefetch_related("members__order")[:20]
    changes = changelog.history(current) if instance is not None else []
    return render(request, "orders/merge_settings.html", {"form": form, "groups": groups, "changes": changes})
