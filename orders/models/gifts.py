"""赠品: gift rules. Intake adds a gift line (zero price, ``OrderLine.is_gift``) for each matching rule;
see orders/rules/gifts.py for how rules are matched and combined."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Product

from .channels import Channel


class GiftOutOfStock(models.TextChoices):
    SKIP = "skip", _("Skip the gift (note it on the timeline)")
    HOLD = "hold", _("Add the gift and hold the order (stock short)")


class GiftRule(models.Model):
    """Every filled-in condition must hold (empty = any); then ``gift_quantity`` of ``gift_product`` is
    added to the order as a gift line."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(
        _("priority"), default=0, db_index=True, help_text=_("Rules run in this order, lowest first.")
    )
    active = models.BooleanField(_("active"), default=True)
    # Conditions.
    channels = models.ManyToManyField(
        Channel, blank=True, related_name="+", verbose_name=_("channels"), help_text=_("Empty: every channel.")
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True, help_text=_("Empty: already running."))
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True, help_text=_("Empty: no end."))
    min_goods_total = models.DecimalField(
        _("minimum goods total"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The order's lines (price × quantity) add up to at least this."),
    )
    bought_skus = models.CharField(
        _("SKUs bought"), max_length=500, blank=True, help_text=_("Comma-separated; empty: any goods.")
    )
    min_quantity = models.PositiveIntegerField(
        _("minimum quantity"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Units of those SKUs together in the order."),
    )
    limit_per_customer = models.PositiveIntegerField(
        _("limit per customer"),
        validators=[MinValueValidator(1)],
        null=True,
        blank=True,
        help_text=_("At most this many orders of one customer get this gift; empty: no limit."),
    )
    # Action.
    gift_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("gift product")
    )
    gift_quantity = models.PositiveIntegerField(_("gift quantity"), default=1, validators=[MinValueValidator(1)])
    out_of_stock = models.CharField(
        _("when the gift is out of stock"), max_length=8, choices=GiftOutOfStock.choices, default=GiftOutOfStock.SKIP
    )
    stop_processing = models.BooleanField(
        _("stop here"), default=False, help_text=_("No later gift rule applies after this one matches.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("gift rule")
        constraints = [
            models.CheckConstraint(condition=Q(gift_quantity__gte=1), name="giftrule_gift_quantity_gte_1"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="giftrule_min_quantity_gte_1"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="giftrule_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("must be after the start")
        if self.min_goods_total is not None and self.min_goods_total < 0:
            errors["min_goods_total"] = _("must not be negative")
        if errors:
            raise ValidationError(errors)
