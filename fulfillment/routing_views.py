"""Routing pages: policies, dry run, replay, reroute, backorder retry and the ready-to-pick queue
(fulfillment/routing/ does the work; these views only read forms and show results)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inventory.models import Location
from oms.errors import DomainError
from orders.models import Channel, Order

from . import routing, selectors, tasks
from .models import Backorder, RoutingPolicy, RoutingPolicyStatus, RoutingReplay

ROUTE_PERM = "fulfillment.route_orders"
BEST_OTHER = "best"


class RoutingPolicyForm(forms.ModelForm):
    class Meta:
        model = RoutingPolicy
        fields = [
            "code", "name", "status", "is_default", "rank", "channels", "tags", "weight_distance", "weight_cost",
            "weight_split", "weight_load", "weight_balance", "ship_complete", "allow_split", "max_locations",
        ]  # fmt: skip
        widgets = {"channels": forms.CheckboxSelectMultiple}
        labels = {
            "code": _("Code"),
            "name": _("Name"),
            "status": _("Status"),
            "is_default": _("Default"),
            "rank": _("Rank"),
            "channels": _("Channels"),
            "tags": _("Tags"),
            "weight_distance": _("Distance weight"),
            "weight_cost": _("Cost weight"),
            "weight_split": _("Split weight"),
            "weight_load": _("Load weight"),
            "weight_balance": _("Balance weight"),
            "ship_complete": _("Ship complete"),
            "allow_split": _("Allow split"),
            "max_locations": _("Max locations"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channels"].queryset = Channel.objects.order_by("name")
        self.fields["max_locations"].widget.attrs.update(min=1, max=5)

    def clean_tags(self):
        tags = sorted({t.strip().lower() for t in self.cleaned_data["tags"].split(",") if t.strip()})
        return ", ".join(tags)

    def clean_max_locations(self):
        value = self.cleaned_data["max_locations"]
        if not 1 <= value <= 5:
            raise forms.ValidationError(gettext("A split may use 1 to 5 locations."))
        return value

    def clean(self):
        data = super().clean()
        for name in ("weight_distance", "weight_cost", "weight_split", "weight_load", "weight_balance"):
            value = data.get(name)
            if value is not None and value < 0:
                self.add_error(name, gettext("Weights cannot be negative."))
        if data.get("is_default") and data.get("status") == RoutingPolicyStatus.LIVE:
            others = RoutingPolicy.objects.filter(status=RoutingPolicyStatus.LIVE, is_default=True)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            other = others.first()
            if other is not None:
                self.add_error(
                    "is_default",
                    gettext("“%(name)s” is already the live default; retire it first.") % {"name": other.name},
                )
        return data


class DryRunForm(forms.Form):
    order = forms.CharField(max_length=20, label=_("Order number"))
    policy = forms.ModelChoiceField(
        queryset=RoutingPolicy.objects.exclude(status=RoutingPolicyStatus.RETIRED),
        required=False,
        empty_label=_("The order's own policy"),
        label=_("Policy"),
    )

    def clean_order(self):
        number = self.cleaned_data["order"].strip()
        order = Order.objects.filter(number__iexact=number).first()
        if order is None:
            raise forms.ValidationError(gettext("No order %(number)s.") % {"number": number})
        return order


class ReplayForm(forms.Form):
    policy = forms.ModelChoiceField(queryset=RoutingPolicy.objects.all(), label=_("Replay policy"))
    baseline = forms.ModelChoiceField(
        queryset=RoutingPolicy.objects.all(),
        required=False,
        empty_label=_("Each order's live policy"),
        label=_("Baseline"),
    )
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("Period start"))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label=_("Period end"))

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise forms.ValidationError(gettext("The period ends before it starts."))
        if start and end and (end - start).days > 92:
            raise forms.ValidationError(gettext("Replay at most 92 days at a time."))
        return data


class RerouteForm(forms.Form):
    location = forms.ChoiceField(label=_("To"))
    reason = forms.CharField(max_length=200, label=_("Why"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = [(BEST_OTHER, gettext("Best other location"))] + [
            (str(loc.pk), f"{loc.code} {loc.name}") for loc in Location.objects.filter(active=True).order_by("code")
        ]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(gettext("Give a reason for rerouting."))
        return reason


@login_required
@permission_required("fulfillment.view_routingpolicy", raise_exception=True)
def policy_list(request):
    policies = RoutingPolicy.objects.prefetch_related("channels").order_by("rank", "code")
    open_backorders = Backorder.objects.filter(resolved_at__isnull=True)
    context = {
        "policies": policies,
        "dry_run_form": DryRunForm(),
        "replay_form": ReplayForm(),
        "replays": RoutingReplay.objects.select_related("policy", "baseline")[:20],
        "backorders": open_backorders.select_related("order", "product").order_by("pk")[:50],
        "backorder_units": open_backorders.aggregate(n=Sum("quantity"))["n"] or 0,
        "builtin": routing.BUILTIN,
        "can_route": request.user.has_perm(ROUTE_PERM),
        "can_edit": request.user.has_perm("fulfillment.change_routingpolicy"),
    }
    return render(request, "fulfillment/routing_policy_list.html", context)


@login_required
def policy_edit(request, pk=None):
    needed = "fulfillment.change_routingpolicy" if pk else "fulfillment.add_routingpolicy"
    if not request.user.has_perm(needed):
        raise PermissionDenied
    policy = get_object_or_404(RoutingPolicy, pk=pk) if pk else None
    form = RoutingPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            if saved.created_by_id is None and request.user.is_authenticated:
                saved.created_by = request.user
            saved.save()
            form.save_m2m()
        routing.routing_cache_clear()
        messages.success(
            request,
            gettext("Policy “%(name)s” saved (%(status)s).")
            % {"name": saved.name, "status": saved.get_status_display()},
        )
        return redirect("fulfillment:routing_policy_list")
    return render(request, "fulfillment/routing_policy_form.html", {"form": form, "policy": policy})


@login_required
@permission_required(ROUTE_PERM, raise_exception=True)
def dry_run(request):
    """The decision table for one order under a policy (drafts too), computed now and written nowhere."""
    form = DryRunForm(request.GET or None)
    evaluation = None
    if request.GET and form.is_valid():
        try:
            evaluation = routing.order_dry_run(order=form.cleaned_data["order"], policy=form.cleaned_data["policy"])
        except DomainError as exc:
            messages.error(request, str(exc))
    order = form.cleaned_data.get("order") if form.is_bound and form.is_valid() else None
    plan = routing.plan_json(evaluation.best) if evaluation and evaluation.best else []
    context = {"form": form, "evaluation": evaluation, "order": order, "plan": plan}
    return render(request, "fulfillment/routing_dry_run.html", context)


@require_POST
@login_required
@permission_required(ROUTE_PERM, raise_exception=True)
def replay_create(request):
    form = ReplayForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("fulfillment:routing_policy_list")
    replay = RoutingReplay.objects.create(
        policy=form.cleaned_data["policy"],
        baseline=form.cleaned_data["baseline"],
        period_start=form.cleaned_data["period_start"],
        period_end=form.cleaned_data["period_end"],
        created_by=request.user,
    )
    transaction.on_commit(lambda: tasks.routing_replay.delay(replay.pk))
    messages.success(request, gettext("Replay of “%(name)s” queued.") % {"name": replay.policy.name})
    return redirect("fulfillment:routing_replay", pk=replay.pk)


@login_required
@permission_required("fulfillment.view_routingpolicy", raise_exception=True)
def replay_detail(request, pk):
    replay = get_object_or_404(RoutingReplay.objects.select_related("policy", "baseline", "created_by"), pk=pk)
    results = replay.results or {}
    rows = []
    labels = {
        "routed": gettext("Orders routed"),
        "unroutable": gettext("Orders nothing could ship"),
        "cost": gettext("Shipping cost"),
        "shipments": gettext("Shipments"),
        "split_orders": gettext("Orders split"),
        "distance_km": gettext("Distance (km)"),
        "late_risk": gettext("Orders at risk of being late"),
        "backordered": gettext("Units backordered"),
    }
    if results:
        for key, label in labels.items():
            rows.append((label, results["policy"].get(key), results["baseline"].get(key), results["delta"].get(key)))
    return render(request, "fulfillment/routing_replay.html", {"replay": replay, "rows": rows, "results": results})


@require_POST
@login_required
@permission_required(ROUTE_PERM, raise_exception=True)
def order_reroute(request, number):
    order = get_object_or_404(Order, number=number)
    form = RerouteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("orders:order_detail", number=number)
    choice = form.cleaned_data["location"]
    location = None if choice == BEST_OTHER else Location.objects.filter(pk=int(choice)).first()
    try:
        decision = routing.order_reroute(
            order=order, location=location, reason=form.cleaned_data["reason"], user=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, gettext("Order %(number)s rerouted: %(reason)s") % {"number": number, "reason": decision.reason}
        )
    return redirect("orders:order_detail", number=number)


@require_POST
@login_required
@permission_required("orders.change_order", raise_exception=True)
def order_route_now(request, number):
    """Route a confirmed order that routing never placed (a lost or failed task), in this request."""
    order = get_object_or_404(Order, number=number)
    try:
        decision = routing.order_route_now(order=order, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        if decision is None:
            messages.info(
                request, gettext("Order %(number)s is not waiting for routing; nothing changed.") % {"number": number}
            )
        else:
            messages.success(
                request, gettext("Order %(number)s routed: %(reason)s") % {"number": number, "reason": decision.reason}
            )
    return redirect("orders:order_detail", number=number)


@require_POST
@login_required
@permission_required(ROUTE_PERM, raise_exception=True)
def backorders_retry(request):
    transaction.on_commit(tasks.backorders_retry.delay)
    messages.success(request, gettext("Open backorders are being routed again; refresh in a moment."))
    return redirect("fulfillment:routing_policy_list")


@login_required
@permission_required("fulfillment.view_shipment", raise_exception=True)
def pick_queue(request):
    """The shipments ready to pick at a location in the order pick lists and waves take them."""
    locations = list(Location.objects.filter(active=True).order_by("code"))
    location = None
    if request.GET.get("location"):
        location = next((loc for loc in locations if str(loc.pk) == request.GET["location"]), None)
    location = location or (locations[0] if locations else None)
    queue = list(selectors.ready_queue(location)[:200]) if location else []
    counts = selectors.ready_counts_by_location()
    return render(
        request,
        "fulfillment/routing_pick_queue.html",
        {"locations": [(loc, counts.get(loc.pk, 0)) for loc in locations], "location": location, "queue": queue},
    )
