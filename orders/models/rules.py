"""Classification rules, review (risk) settings and stage rule overrides."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import HandlingClass

from ..status import ChangeAction, ChangeKind, HoldReason, Stage
from .channels import Channel


class ServiceKindRequirement(models.TextChoices):
    """The service kinds a rule may require; the same values as logistics.status.ServiceKind (orders sits
    below logistics and cannot import it; tests/orders/test_classification.py holds the two together)."""

    EXPRESS = "express", _("Express")
    STANDARD = "standard", _("Standard")
    ECONOMY = "economy", _("Economy")
    COLD_CHAIN = "cold_chain", _("Cold chain")
    FREIGHT = "freight", _("Freight")


class Capability(models.TextChoices):
    """What a location must be able to do for the order (inventory.Location.cold_chain / handles_bulky)."""

    COLD_CHAIN = "cold_chain", _("Cold chain")
    BULKY = "bulky", _("Bulky goods")


class ClassificationRule(models.Model):
    """One ordered rule: every filled-in condition must hold (empty = any); then its actions apply.

    Conditions and actions are typed fields, validated by ``clean`` and the back-office form; lists
    (handling classes, countries, provinces, tags, capabilities) are comma-separated.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, db_index=True, help_text=_("Rules run in this order."))
    active = models.BooleanField(default=True)
    # Conditions.
    handling_classes = models.CharField(
        max_length=100, blank=True, help_text=_("Any line's product has one of these handling classes.")
    )
    min_weight_g = models.PositiveIntegerField(null=True, blank=True)
    max_weight_g = models.PositiveIntegerField(null=True, blank=True)
    min_volume_cm3 = models.PositiveIntegerField(null=True, blank=True)
    max_volume_cm3 = models.PositiveIntegerField(null=True, blank=True)
    min_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    countries = models.CharField(max_length=200, blank=True, help_text=_("Ship-to ISO codes, e.g. CN, HK."))
    provinces = models.CharField(max_length=500, blank=True, help_text=_("Ship-to provinces."))
    requested_service = models.CharField(max_length=32, blank=True, help_text=_("The channel's requested service."))
    promise_within_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("The promise date is at most this many days from today.")
    )
    customer_is_business = models.BooleanField(null=True, blank=True, help_text=_("Empty: any customer."))
    has_tag = models.CharField(
        max_length=32, blank=True, help_text=_("Set by an earlier rule or by a person (manual tag).")
    )
    # 买家留言 / 卖家备注 (orders/models/memo_tags.py): case-insensitive "contains"; several words: any of them.
    seller_memo_contains = models.CharField(
        _("seller memo contains"), max_length=100, blank=True, help_text=_("Any of these words, e.g. 加急, urgent")
    )
    buyer_message_contains = models.CharField(
        _("buyer message contains"), max_length=100, blank=True, help_text=_("Any of these words, e.g. 发票, 礼物")
    )
    buyer_message_present = models.BooleanField(
        _("buyer message present"), null=True, blank=True, help_text=_("Empty: any order.")
    )
    # Actions.
    set_priority = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("1 is most urgent."))
    add_tags = models.CharField(max_length=100, blank=True, help_text=_("e.g. fresh, fragile, bulky, gift"))
    require_service_kind = models.CharField(
        max_length=16, blank=True, choices=ServiceKindRequirement.choices, help_text=_("Carrier choice must use it.")
    )
    require_capabilities = models.CharField(
        max_length=100, blank=True, help_text=_("Locations must have them: cold_chain, bulky.")
    )
    packing_note = models.CharField(max_length=200, blank=True)
    hold_reason = models.CharField(max_length=20, blank=True, choices=HoldReason.choices)
    hold_note = models.CharField(max_length=200, blank=True)
    stop_processing = models.BooleanField(default=False, help_text=_("No later rule runs after this one matches."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(set_priority__isnull=True) | (Q(set_priority__gte=1) & Q(set_priority__lte=9)),
                name="classificationrule_priority_1_9",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        for low, high in (
            ("min_weight_g", "max_weight_g"),
            ("min_volume_cm3", "max_volume_cm3"),
            ("min_value", "max_value"),
        ):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                errors[high] = _("must not be less than the minimum")
        bad = [c for c in split_list(self.handling_classes) if c not in HandlingClass.values]
        if bad:
            errors["handling_classes"] = _("unknown handling class: %s") % ", ".join(bad)
        bad = [c for c in split_list(self.require_capabilities) if c not in Capability.values]
        if bad:
            errors["require_capabilities"] = _("unknown capability: %s") % ", ".join(bad)
        if self.hold_note and not self.hold_reason:
            errors["hold_reason"] = _("a hold note needs a hold reason")
        if errors:
            raise ValidationError(errors)


def split_list(text: str) -> list[str]:
    """A comma-separated setting (also the full-width comma) as a list of trimmed values."""
    return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]


class RiskSettings(models.Model):
    """The thresholds of the review holds (orders/rules/review.py); one row (pk 1), edited in the admin."""

    high_value_new_customer = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=20000,
        help_text=_("An order at or above this from a customer with no delivered order: fraud review. Empty: off."),
    )
    check_country_mismatch = models.BooleanField(
        default=True, help_text=_("Billing and shipping countries differ: fraud review.")
    )
    cod_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=3000,
        help_text=_("Cash on delivery above this: payment hold. Empty: off."),
    )
    hold_buyer_message = models.BooleanField(
        _("hold orders with a buyer message"),
        default=False,
        help_text=_("A new order whose buyer left a message waits for a person (the message is in the hold note)."),
    )

    class Meta:
        verbose_name_plural = "risk settings"
        permissions = [("override_credit", "Can override a credit hold (release with a reason)")]

    def __str__(self) -> str:
        return "Risk settings"

    @classmethod
    def current(cls) -> "RiskSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class StageRule(models.Model):
    """A back-office override of one cell of the stage rule table; cells without a row use the default."""

    stage = models.CharField(max_length=16, choices=Stage.choices)
    change = models.CharField(max_length=16, choices=ChangeKind.choices)
    action = models.CharField(max_length=16, choices=ChangeAction.choices)
    note = models.CharField(max_length=200, blank=True, help_text=_("Why the rule differs from the default."))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stage", "change"]
        constraints = [models.UniqueConstraint(fields=["stage", "change"], name="stagerule_stage_change_uniq")]
        permissions = [("approve_change", "Can approve order changes that need approval")]

    def __str__(self) -> str:
        return f"{self.stage}/{self.change}: {self.action}"
