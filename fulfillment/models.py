"""Shipments per source location, pick lists and routing decisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from inventory.models import Location, Product
from orders.models import Order, OrderLine

from .status import PackMismatchKind, PickListKind, PickListStatus, ShipmentStatus


class PickList(models.Model):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="picklists")
    status = models.CharField(max_length=8, choices=PickListStatus.choices, default=PickListStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    printed_count = models.PositiveIntegerField(default=0)
    # Waves (see fulfillment/waves.py): what the wave was cut by, and its size.
    kind = models.CharField(max_length=8, choices=PickListKind.choices, default=PickListKind.WAVE)
    carrier_code = models.CharField(max_length=32, blank=True, help_text="Planned carrier of every shipment.")
    zone = models.CharField(max_length=32, blank=True, help_text="Pick zone of every line, when cut by zone.")
    criteria = models.JSONField(default=dict, blank=True, help_text="The criteria and limits the wave was cut by.")
    line_count = models.PositiveIntegerField(default=0)
    last_printed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("print_picklist", "Can create and print pick lists")]

    def __str__(self) -> str:
        return self.number or f"PL#{self.pk}"


class ShipmentQuerySet(models.QuerySet):
    def ready_to_pick(self):
        return self.filter(status=ShipmentStatus.RESERVED, picklist__isnull=True, order__on_hold=False)


class Shipment(models.Model):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.RESERVED)
    picklist = models.ForeignKey(PickList, null=True, blank=True, on_delete=models.SET_NULL, related_name="shipments")
    weight_g = models.PositiveIntegerField(null=True, blank=True)
    package_type = models.CharField(max_length=24, blank=True)
    # "carrier/service" planned at wave time by the registered service planner (logistics.rating);
    # the final choice is made again at dispatch.
    planned_service = models.CharField(max_length=70, blank=True)
    planned_cutoff = models.TimeField(null=True, blank=True)
    # Pack station progress: {product_id: units scanned}.
    pack_progress = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["location", "status"]), models.Index(fields=["status", "created_at"])]
        permissions = [("pack_shipment", "Can pack and ship shipments")]

    def __str__(self) -> str:
        return self.number or f"SH#{self.pk}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_gt_0")]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"


class RoutingDecision(models.Model):
    """Why an order went where it went: every candidate with its score and verdict."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="routing_decisions")
    policy = models.CharField(max_length=40, default="nearest")
    chosen = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    candidates = models.JSONField(default=list)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.chosen_id}: {self.reason}"


class PackMismatch(models.Model):
    """A scan at the pack station that did not match the shipment: the raw data of pick accuracy."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="pack_mismatches")
    kind = models.CharField(max_length=8, choices=PackMismatchKind.choices)
    scanned_code = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expected = models.CharField(max_length=255, blank=True, help_text="What the shipment expected instead.")
    quantity = models.PositiveIntegerField(default=1)
    picklist = models.ForeignKey(PickList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.shipment_id} {self.kind} {self.scanned_code}"
