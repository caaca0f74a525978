"""Orders and their lines, holds and the timeline (order events)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Product

from ..status import CANCELLABLE, EventKind, HoldReason, OrderStatus
from .channels import Channel
from .customers import Customer
from .memo_tags import MESSAGE_MAX, SellerFlag


class PaymentMethod(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    COD = "cod", _("Cash on delivery")


def split_tags(stored: str) -> list[str]:
    return [t for t in (stored or "").split(",") if t]


def join_tags(tags) -> str:
    """The stored form: sorted, unique, with a comma on both ends (",bulky,fresh,"); empty for none."""
    unique = sorted({t.strip().lower() for t in tags if t and t.strip()})
    return f",{','.join(unique)}," if unique else ""


class OrderQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=[OrderStatus.DELIVERED, OrderStatus.CANCELLED])

    def on_hold(self):
        return self.filter(on_hold=True)

    def awaiting_allocation(self):
        return self.filter(status=OrderStatus.CONFIRMED, on_hold=False).exclude(
            presale_until__isnull=False, presale_released_at__isnull=True
        )

    def presale_waiting(self):
        """Presale orders not yet released to routing (orders/presale.py)."""
        return self.filter(presale_until__isnull=False, presale_released_at__isnull=True)

    def tagged(self, tag: str):
        return self.filter(tags__contains=f",{tag.strip().lower()},")


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=64)
    # The channel's own name for the order, as its customers quote it (Shopify "#1001").
    channel_order_name = models.CharField(max_length=64, blank=True, db_index=True)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED)
    on_hold = models.BooleanField(default=False, db_index=True)
    priority = models.PositiveSmallIntegerField(default=5)
    # Ship-to address, split into fields.
    ship_name = models.CharField(max_length=120, blank=True)
    ship_phone = models.CharField(max_length=32, blank=True)
    ship_email = models.EmailField(blank=True)
    ship_country = models.CharField(max_length=2, blank=True)
    ship_province = models.CharField(max_length=64, blank=True)
    ship_city = models.CharField(max_length=64, blank=True)
    ship_district = models.CharField(max_length=64, blank=True)
    ship_address1 = models.CharField(max_length=255, blank=True)
    ship_address2 = models.CharField(max_length=255, blank=True)
    ship_postcode = models.CharField(max_length=16, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    requested_service = models.CharField(max_length=32, blank=True)
    promise_date = models.DateField(null=True, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    # The order note as the API, files and the form send it (for platform orders: the channel's reference,
    # "Shopify #1001"); the buyer's and the seller's own texts have their fields below (orders/models/memo_tags.py).
    # 预售 (orders/presale.py): promised, not routed, until this day; released to routing (by payment time)
    # at ``presale_released_at``. Not a hold: nobody releases it, it releases itself.
    presale_until = models.DateField(null=True, blank=True, db_index=True)
    presale_released_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    buyer_message = models.CharField(_("buyer message"), max_length=MESSAGE_MAX, blank=True)
    seller_memo = models.CharField(_("seller memo"), max_length=MESSAGE_MAX, blank=True)
    seller_flag = models.CharField(_("flag"), max_length=8, blank=True, choices=SellerFlag.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Classification (orders/rules/classification.py). Tags and capabilities are stored delimited, ",fresh,gift,",
    # so one ``tags__contains=",fresh,"`` finds a tag on SQLite and PostgreSQL alike (see tag_list).
    tags = models.CharField(max_length=255, blank=True, db_index=True)
    # People's tag choices, kept apart so classification keeps them (orders/models/memo_tags.py).
    manual_tags = models.CharField(max_length=255, blank=True)
    removed_tags = models.CharField(max_length=255, blank=True)
    required_capabilities = models.CharField(max_length=100, blank=True, help_text=_("cold_chain, bulky"))
    required_service_kind = models.CharField(max_length=16, blank=True, help_text=_("A hard constraint for rating."))
    # What the packer must do (the matching rules' packing notes, joined); shown at the pack station.
    packing_notes = models.TextField(blank=True)
    # Review holds (orders/rules/review.py).
    billing_country = models.CharField(max_length=2, blank=True)
    payment_method = models.CharField(max_length=8, choices=PaymentMethod.choices, default=PaymentMethod.PREPAID)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="order_channel_external_uniq"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
        ]
        indexes = [models.Index(fields=["status", "on_hold"])]
        permissions = [
            ("hold_order", "Can hold and release orders"),
            ("cancel_order", "Can cancel orders"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    @property
    def ship_address_lines(self) -> list[str]:
        """The address as people of the destination write it: largest unit first in East Asia."""
        if self.ship_country in ("CN", "TW", "HK", "MO", "JP", "KR"):
            region = " ".join(dict.fromkeys(p for p in (self.ship_province, self.ship_city, self.ship_district) if p))
            parts = [region, self.ship_address1, self.ship_address2]
        else:
            parts = [self.ship_address1, self.ship_address2, self.ship_district, self.ship_city, self.ship_province]
        lines = [p for p in parts if p]
        tail = " ".join(p for p in [self.ship_postcode, self.ship_country] if p)
        if tail:
            lines.append(tail)
        return lines

    @property
    def presale_waiting(self) -> bool:
        return self.presale_until is not None and self.presale_released_at is None

    def is_cancellable(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def gift_lines(self):
        """赠品: the order's gift lines with their rules (the order page's gift panel)."""
        return self.lines.filter(is_gift=True).select_related("gift_rule", "product").order_by("line_no")

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    @property
    def manual_tag_list(self) -> list[str]:
        return split_tags(self.manual_tags)

    @property
    def removed_tag_list(self) -> list[str]:
        return split_tags(self.removed_tags)

    @property
    def capability_list(self) -> list[str]:
        return split_tags(self.required_capabilities)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField(max_length=64, help_text=_("The SKU as the channel sent it."))
    name = models.CharField(max_length=200, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # 赠品: a gift line, added by a gift rule (orders/rules/gifts.py) at zero price or sent by the channel as one.
    is_gift = models.BooleanField(default=False)
    gift_rule = models.ForeignKey(
        "orders.GiftRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="lines"
    )

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_order_lineno_uniq"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class OrderHold(models.Model):
    """A typed reason that stops an order; released, it returns the order to where it was."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=20, choices=HoldReason.choices)
    # The whole note, however long (a routing note lists every location's reasons); a system note also keeps
    # its template and parameters (``words``, as OrderEvent does) to be shown in the reader's language.
    note = models.TextField(blank=True)
    words = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(released_at__isnull=True),
                name="orderhold_one_active_per_reason",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({'active' if self.is_active else 'released'})"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class OrderEvent(models.Model):
    """One row for every change: the order's timeline."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    # The message's English template and parameters ({"m": ..., "p": ...}, oms/wording.py): pages show the
    # message in the reader's language; empty for rows written as plain text.
    words = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}: {self.message}"
