"""自动合单: orders of one buyer to one address on one channel, merged at review before routing.

The model is a *merge group* (docs/decisions, README "Automatic order merge"): each order keeps its number,
lines, totals and channel confirmation; routing (fulfillment/routing/group.py) treats the group as one
demand at one location, creates one shipment per order there and merges those shipments into one parcel
(fulfillment/merge.py). ``OrderMergeMember.active`` is unique per order, so an order is in at most one
live group whatever runs concurrently.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .channels import Channel
from .orders import Order, split_tags


class MergeSettings(models.Model):
    """The automatic merge rule: one row (pk 1), edited on the settings page (orders:merge_settings)."""

    enabled = models.BooleanField(
        _("automatic merge on"), default=False, help_text=_("Merge orders of one buyer to one address at review.")
    )
    window_minutes = models.PositiveIntegerField(
        _("merge window (minutes)"),
        default=30,
        help_text=_("Orders that arrived within this many minutes of each other may merge."),
    )
    wait_minutes = models.PositiveIntegerField(
        _("wait for a partner (minutes)"),
        default=0,
        help_text=_(
            "Window routing holds a new order up to this many minutes so that a second order of the buyer can "
            "still merge with it. 0: route at once (only orders already there at review merge)."
        ),
    )
    exclude_tags = models.CharField(
        _("never merge orders tagged"),
        max_length=255,
        blank=True,
        default="no-merge,presale",
        help_text=_("Comma-separated order tags, e.g. no-merge, presale."),
    )
    disabled_channels = models.ManyToManyField(
        Channel, blank=True, related_name="+", verbose_name=_("channels without automatic merge")
    )

    class Meta:
        verbose_name = _("merge settings")
        verbose_name_plural = _("merge settings")

    def __str__(self) -> str:
        return str(_("Merge settings"))

    @classmethod
    def current(cls) -> "MergeSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @property
    def exclude_tag_list(self) -> list[str]:
        return split_tags(",".join(t.strip().lower() for t in self.exclude_tags.split(",")))


class OrderMergeGroup(models.Model):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undo_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("merge_order", "Can undo automatic order merges")]

    def __str__(self) -> str:
        return self.number or f"MG#{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.undone_at is None


class OrderMergeMember(models.Model):
    group = models.ForeignKey(OrderMergeGroup, on_delete=models.CASCADE, related_name="members")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="merge_memberships")
    active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order_id"]
        constraints = [
            models.UniqueConstraint(fields=["order"], condition=Q(active=True), name="ordermerge_one_active_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.group_id}/{self.order_id}"
