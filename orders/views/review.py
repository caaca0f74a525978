"""The hold queue's bulk release and the classification rules pages (orders/rules/classification.py)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from inventory.models import HandlingClass
from oms.errors import DomainError

from .. import services
from ..models import Capability, ClassificationRule, Order, RiskSettings, join_tags, split_list
from ..status import HoldReason

RULES_PERM = "orders.change_classificationrule"


class BulkReleaseForm(forms.Form):
    reason = forms.ChoiceField(choices=HoldReason.choices, label=_("Hold"))
    note = forms.CharField(max_length=255, label=_("Why"))
    orders = forms.ModelMultipleChoiceField(
        queryset=Order.objects.all(), label=_("Orders"), error_messages={"required": _("Select at least one order.")}
    )


@require_POST
@login_required
@permission_required("orders.hold_order", raise_exception=True)
def hold_bulk_release(request):
    """Release the chosen reason's hold on each selected order through ``order_release`` (who and why are
    recorded there); an order that cannot be released is reported and left as it was."""
    form = BulkReleaseForm(request.POST)
    back = reverse("orders:hold_queue")
    if request.POST.get("reason") in HoldReason.values:
        back += f"?hold_reason={request.POST['reason']}"
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else field
            messages.error(request, f"{label}: {' '.join(errors)}")
        return redirect(back)
    reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
    released = []
    for order in form.cleaned_data["orders"].order_by("pk"):
        try:
            services.order_release(order=order, reason=reason, note=note, user=request.user)
        except DomainError as exc:
            messages.error(request, f"{order.number}: {exc}")
        else:
            released.append(order.number)
    if released:
        label = HoldReason(reason).label
        messages.success(
            request,
            gettext("Released %(hold)s on %(count)s order(s): %(numbers)s.")
            % {"hold": label, "count": len(released), "numbers": ", ".join(released)},
        )
    return redirect(back)


# ---- classification rules ------------------------------------------------------------------------


class ClassificationRuleForm(forms.ModelForm):
    handling_classes = forms.MultipleChoiceField(
        choices=HandlingClass.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Handling classes"),
        help_text=_("Any line's product has one of these; none ticked: any."),
    )
    require_capabilities = forms.MultipleChoiceField(
        choices=Capability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Location must have"),
        help_text=_("Routing skips locations without them."),
    )

    class Meta:
        model = ClassificationRule
        fields = [
            "name",
            "active",
            "handling_classes",
            "min_weight_g",
            "max_weight_g",
            "min_volume_cm3",
            "max_volume_cm3",
            "min_value",
            "max_value",
            "channels",
            "countries",
            "provinces",
            "requested_service",
            "promise_within_days",
            "customer_is_business",
            "has_tag",
            "seller_memo_contains",
            "buyer_message_contains",
            "buyer_message_present",
            "set_priority",
            "add_tags",
            "require_service_kind",
            "require_capabilities",
            "packing_note",
            "hold_reason",
            "hold_note",
            "stop_processing",
        ]
        widgets = {
            "channels": forms.CheckboxSelectMultiple,
            "customer_is_business": forms.Select(
                choices=[("", _("Any")), ("true", _("Business")), ("false", _("Consumer"))]
            ),
            "buyer_message_present": forms.Select(
                choices=[("", _("Any")), ("true", _("With a buyer message")), ("false", _("Without a buyer message"))]
            ),
        }
        labels = {
            "name": _("Name"),
            "active": _("Active"),
            "min_weight_g": _("Min weight (g)"),
            "max_weight_g": _("Max weight (g)"),
            "min_volume_cm3": _("Min volume (cm³)"),
            "max_volume_cm3": _("Max volume (cm³)"),
            "min_value": _("Min value"),
            "max_value": _("Max value"),
            "channels": _("Channels"),
            "countries": _("Countries"),
            "provinces": _("Provinces"),
            "requested_service": _("Requested service"),
            "promise_within_days": _("Promised within (days)"),
            "customer_is_business": _("Business customer"),
            "has_tag": _("Has tag"),
            "set_priority": _("Set priority"),
            "add_tags": _("Add tags"),
            "require_service_kind": _("Service kind"),
            "packing_note": _("Packing note"),
            "hold_reason": _("Hold reason"),
            "hold_note": _("Hold note"),
            "stop_processing": _("Stop"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["handling_classes"] = split_list(self.instance.handling_classes)
            self.initial["require_capabilities"] = split_list(self.instance.require_capabilities)
        self.fields["set_priority"].widget.attrs.update(min=1, max=9)

    def clean_handling_classes(self):
        return join_tags(self.cleaned_data["handling_classes"]).strip(",").replace(",", ", ")

    def clean_require_capabilities(self):
        return join_tags(self.cleaned_data["require_capabilities"]).strip(",").replace(",", ", ")

    def clean_add_tags(self):
        return join_tags(split_list(self.cleaned_data["add_tags"])).strip(",").replace(",", ", ")

    def clean_set_priority(self):
        value = self.cleaned_data["set_priority"]
        if value is not None and not 1 <= value <= 9:
            raise forms.ValidationError(_("Priority is 1 (most urgent) to 9."))
        return value


class RiskSettingsForm(forms.ModelForm):
    class Meta:
        model = RiskSettings
        fields = ["high_value_new_customer", "check_country_mismatch", "cod_limit", "hold_buyer_message"]
        labels = {
            "high_value_new_customer": _("High value from a new customer"),
            "check_country_mismatch": _("Billing and shipping countries differ"),
            "cod_limit": _("Cash on delivery limit"),
        }


@login_required
@permission_required(RULES_PERM, raise_exception=True)
def rule_list(request):
    risk = RiskSettings.current()
    if request.method == "POST":
        risk_form = RiskSettingsForm(request.POST, instance=risk)
        if risk_form.is_valid():
            risk_form.save()
            messages.success(request, gettext("Review settings saved."))
            return redirect("orders:rule_list")
    else:
        risk_form = RiskSettingsForm(instance=risk)
    rules = ClassificationRule.objects.prefetch_related("channels").order_by("position", "pk")
    return render(request, "orders/rule_list.html", {"rules": rules, "risk_form": risk_form})


@login_required
@permission_required(RULES_PERM, raise_exception=True)
def rule_edit(request, pk=None):
    rule = get_object_or_404(ClassificationRule, pk=pk) if pk else None
    form = ClassificationRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save(commit=False)
            if rule is None:
                last = ClassificationRule.objects.order_by("-position").values_list("position", flat=True).first()
                saved.position = (last or 0) + 10
            saved.save()
            form.save_m2m()
        messages.success(
            request,
            gettext("Rule “%(name)s” saved. It applies to new orders and reclassified ones.") % {"name": saved.name},
        )
        return redirect("orders:rule_list")
    return render(request, "orders/rule_form.html", {"form": form, "rule": rule})


@require_POST
@login_required
@permission_required(RULES_PERM, raise_exception=True)
def rule_delete(request, pk):
    rule = get_object_or_404(ClassificationRule, pk=pk)
    name = rule.name
    rule.delete()
    messages.success(request, gettext("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("orders:rule_list")


@require_POST
@login_required
@permission_required(RULES_PERM, raise_exception=True)
def rule_move(request, pk, direction):
    """Swap the rule with its neighbour above or below (positions renumbered 10, 20, ... first)."""
    with transaction.atomic():
        rules = list(ClassificationRule.objects.select_for_update().order_by("position", "pk"))
        index = next((i for i, r in enumerate(rules) if r.pk == pk), None)
        if index is None:
            messages.error(request, gettext("No such rule."))
            return redirect("orders:rule_list")
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(rules):
            rules[index], rules[other] = rules[other], rules[index]
        for position, rule in enumerate(rules, start=1):
            if rule.position != position * 10:
                # updated_at too: the rule changed (intake's cached rules notice it by this).
                moved = ClassificationRule.objects.filter(pk=rule.pk)
                moved.update(position=position * 10, updated_at=timezone.now())
    return redirect("orders:rule_list")


@require_POST
@login_required
@permission_required("orders.hold_order", raise_exception=True)
def order_reclassify(request, number):
    order = get_object_or_404(Order, number=number)
    try:
        order = services.order_reclassify(order=order, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, gettext("Reclassified: tags %(tags)s.") % {"tags": ", ".join(order.tag_list) or gettext("none")}
        )
    return redirect("orders:order_detail", number=number)
