"""The back-office page of the stage rule table (orders/rules/stages.py) and the order's "change by stage"
page (address, lines, service level, cancel; each with a reason code)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oms.errors import DomainError

from .. import services
from ..change_forms import AddressChangeForm
from ..models import Order
from ..rules import stages as stage_rules
from ..status import ChangeAction, ChangeKind, ChangeReason, EventKind, Stage

PERM = "orders.change_stagerule"


@login_required
@permission_required(PERM, raise_exception=True)
def stage_rule_list(request):
    if request.method == "POST":
        try:
            with transaction.atomic():
                for stage in Stage:
                    for change in ChangeKind:
                        action = request.POST.get(f"{stage}__{change}")
                        if action:
                            stage_rules.rule_set(stage=stage, change=change, action=action, user=request.user)
        except ValueError as exc:
            messages.error(request, gettext("Not saved: %(error)s") % {"error": exc})
        else:
            messages.success(request, gettext("Change rules saved. They apply to the next change of any order."))
            return redirect("orders:stage_rule_list")
    table = stage_rules.rule_table()
    rows = [
        {
            "stage": stage,
            "cells": [
                {
                    "name": f"{stage}__{change}",
                    "value": table[(stage, change)],
                    "default": stage_rules.DEFAULTS[(stage, change)],
                    "choices": [(a, ChangeAction(a).label) for a in stage_rules.ACTIONS_FOR[change]],
                }
                for change in ChangeKind
            ],
        }
        for stage in Stage
    ]
    return render(request, "orders/stage_rule_list.html", {"rows": rows, "changes": list(ChangeKind)})


@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_change(request, number):
    order = get_object_or_404(Order, number=number)
    return _change_page(request, order)


def _change_page(request, order, *, address_form=None, status=200):
    return render(
        request,
        "orders/order_change.html",
        {
            "order": order,
            "stage": stage_rules.stage_of(order),
            "summary": services.stage_summary(order),
            "lines": order.lines.all(),
            "reasons": ChangeReason.choices,
            "address_form": address_form or AddressChangeForm(order=order),
        },
        status=status,
    )


def _change_address(request, order, change_address):
    """The address form: a bad address is shown again with its problems; a refused stage is a message."""
    form = AddressChangeForm(request.POST, order=order)
    if not form.is_valid():
        return _change_page(request, order, address_form=form, status=200)
    intercepts = order.events.filter(kind=EventKind.INTERCEPT).count()
    try:
        changes = change_address(
            order=order,
            address=form.address(),
            user=request.user,
            source="back office",
            reason=form.cleaned_data["note"].strip(),
            reason_code=form.cleaned_data["reason_code"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return _change_page(request, order, address_form=form, status=200)
    if changes:
        messages.success(request, gettext("Address changed: %(fields)s.") % {"fields": ", ".join(sorted(changes))})
    elif order.events.filter(kind=EventKind.INTERCEPT).count() > intercepts:
        messages.warning(
            request, gettext("Already shipped: the carrier is asked to redirect the parcel (intercept requested).")
        )
    else:
        messages.info(request, gettext("The address is the same: nothing changed."))
    return redirect("orders:order_detail", number=order.number)


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_change_apply(request, number, change, *, actions):
    """``actions`` holds the workflow actions (workflows.changes, workflows.cancel: ``order_change_address``,
    ``order_cancel_request``, ``order_change_service``, ``order_change_lines``), given by the URL
    (workflows/urls/): orders cannot import the layer above it."""
    order = get_object_or_404(Order, number=number)
    if change == ChangeKind.ADDRESS:
        return _change_address(request, order, actions.order_change_address)
    reason_code, note = request.POST.get("reason_code", ""), request.POST.get("note", "").strip()[:200]
    try:
        if change == ChangeKind.CANCEL:
            if not request.user.has_perm("orders.cancel_order"):
                raise DomainError(gettext("You may not cancel orders."))
            outcome, result = actions.order_cancel_request(
                order=order, reason_code=reason_code, note=note, user=request.user
            )
            if outcome == "partial":  # partly shipped: the rest cancelled, the shipped part intercepted/returned
                values = {
                    "cancelled": ", ".join(result["cancelled"]) or gettext("nothing"),
                    "shipped": ", ".join(result["shipped"]),
                }
                if result["outcome"] == "return":
                    text = gettext(
                        "Cancelled what had not shipped yet (%(cancelled)s). Shipped (%(shipped)s): "
                        "return request opened."
                    )
                else:
                    text = gettext(
                        "Cancelled what had not shipped yet (%(cancelled)s). Shipped (%(shipped)s): "
                        "intercept requested."
                    )
                text %= values
            else:
                text = {
                    "cancelled": gettext("Order cancelled."),
                    "intercept": gettext("Intercept requested."),
                    "return": gettext("Return request opened."),
                }[outcome]
        elif change == ChangeKind.SERVICE:
            actions.order_change_service(
                order=order,
                requested_service=request.POST.get("requested_service", ""),
                reason_code=reason_code,
                note=note,
                user=request.user,
            )
            text = gettext("Service level changed.")
        elif change == ChangeKind.LINES:
            quantities, add = {}, []
            for line in order.lines.all():
                raw = request.POST.get(f"qty_{line.pk}", "").strip()
                if raw and int(raw) != line.quantity:
                    quantities[line.pk] = int(raw)
            if request.POST.get("add_sku", "").strip():
                add.append((request.POST["add_sku"].strip(), int(request.POST.get("add_qty") or 0)))
            actions.order_change_lines(
                order=order, quantities=quantities, add=add, reason_code=reason_code, note=note, user=request.user
            )
            text = gettext("Lines changed.")
        else:
            raise DomainError(gettext("Unknown change."))
    except ValueError:
        messages.error(request, gettext("Quantities must be whole numbers."))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
        return redirect("orders:order_detail", number=number)
    return redirect("orders:order_change", number=number)
