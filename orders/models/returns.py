"""Returns and their lines, and the customer's delivery rating."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Location

from ..status import ReturnStatus
from .orders import Order, OrderLine


class ReturnReason(models.TextChoices):
    DAMAGED = "damaged", _("Arrived damaged")
    WRONG_ITEM = "wrong_item", _("Wrong item")
    NOT_AS_DESCRIBED = "not_as_described", _("Not as described")
    SIZE = "size", _("Wrong size or fit")
    CHANGED_MIND = "changed_mind", _("No longer wanted")
    LATE = "late", _("Arrived too late")
    OTHER = "other", _("Other")


class ReturnResolution(models.TextChoices):
    REFUND = "refund", _("Refund")
    EXCHANGE = "exchange", _("Exchange")


class ReturnRequest(models.Model):
    """A return of some lines of a delivered order: label, receipt (restock or write-off), refund or exchange."""

    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(max_length=12, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED)
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    note = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=40, help_text=_("back office, customer via tracking page, ..."))
    resolution = models.CharField(max_length=10, choices=ReturnResolution.choices, default=ReturnResolution.REFUND)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text=_("Where the parcel goes back to.")
    )
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    exchange_order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="exchange_for"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refund_amount__isnull=True) | Q(refund_amount__gte=0), name="return_refund_gte_0"
            )
        ]
        permissions = [("manage_return", "Can create, receive and settle returns")]

    def __str__(self) -> str:
        return self.number or f"RMA#{self.pk}"


class ReturnLine(models.Model):
    ret = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    sellable = models.PositiveIntegerField(default=0, help_text=_("Received fit to sell: back on hand."))
    damaged = models.PositiveIntegerField(default=0, help_text=_("Received damaged: written off."))

    class Meta:
        ordering = ["ret_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_gt_0"),
            models.UniqueConstraint(fields=["ret", "order_line"], name="returnline_ret_line_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line.sku} x{self.quantity}"


class DeliveryRating(models.Model):
    """The customer's rating of the delivery (1-5) with a comment; one per order."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=1000, blank=True)
    source = models.CharField(max_length=40, default="tracking page")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="deliveryrating_score_1_5")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.score}/5"
