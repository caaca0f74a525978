"""Shipments per source location, pick lists and routing decisions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Location, Product
from orders.models import Channel, Order, OrderLine

from .status import PackMismatchKind, PickListKind, PickListStatus, ReplayStatus, ShipmentStatus


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
    def members_of(self, lead):
        """The live shipments merged into ``lead`` (they travel in its parcel), in a stable order."""
        return self.filter(merged_into=lead).exclude(status=ShipmentStatus.CANCELLED).order_by("order_id", "pk")

    def ready_to_pick(self):
        # A merged member is picked with its lead (fulfillment/merge.py), never on its own.
        return self.filter(
            status=ShipmentStatus.RESERVED, picklist__isnull=True, order__on_hold=False, merged_into__isnull=True
        )


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
    # Merge (fulfillment/merge.py): shipments of other orders of the same customer to the same address
    # at the same location travel as one parcel with this "lead" shipment; undone before picking.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_members"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    # Cancelled while on a pick list (fulfillment/changes.py): the list it was taken off, shown there as removed.
    removed_from_picklist = models.ForeignKey(
        PickList, null=True, blank=True, on_delete=models.SET_NULL, related_name="removed_shipments"
    )
    # Cancelled after shipping: an intercept was asked of the carrier (logistics/voids.py opens the case).
    intercept_requested_at = models.DateTimeField(null=True, blank=True)

    objects = ShipmentQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["location", "status"]), models.Index(fields=["status", "created_at"])]
        permissions = [
            ("pack_shipment", "Can pack and ship shipments"),
            ("merge_shipment", "Can split, merge and unmerge shipments"),
        ]

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


class RoutingPolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    RETIRED = "retired", _("Retired")


class RoutingPolicy(models.Model):
    """How routing weighs its candidates. Live policies route; drafts can only be dry-run and replayed.

    An order uses the live policy of lowest ``rank`` that names its channel or one of its tags, else the
    live default policy, else the built-in weights (fulfillment/routing/).
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=8, choices=RoutingPolicyStatus.choices, default=RoutingPolicyStatus.DRAFT)
    is_default = models.BooleanField(default=False, help_text=_("Used by orders no other live policy claims."))
    rank = models.PositiveSmallIntegerField(default=100, help_text=_("Lower wins when several policies match."))
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    tags = models.CharField(max_length=255, blank=True, help_text=_("Comma-separated order tags, e.g. fresh, vip."))
    weight_distance = models.DecimalField(
        max_digits=8, decimal_places=3, default=1, help_text=_("Score points per 100 km to the destination.")
    )
    weight_cost = models.DecimalField(
        max_digits=8, decimal_places=3, default=1, help_text=_("Score points per currency unit of shipping cost.")
    )
    weight_split = models.DecimalField(
        max_digits=8, decimal_places=3, default=10, help_text=_("Score points per extra shipment when split.")
    )
    weight_load = models.DecimalField(
        max_digits=8, decimal_places=3, default=0.1, help_text=_("Score points per percent of today's capacity used.")
    )
    weight_balance = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        default=0,
        help_text=_(
            "Score points per percent of a location's available stock the order takes (keeps scarce stock "
            "for orders only that location can serve). 0: off."
        ),
    )
    ship_complete = models.BooleanField(
        default=False,
        help_text=_("Wait until the whole order can ship; else ship what is available, backorder the rest."),
    )
    allow_split = models.BooleanField(default=True)
    max_locations = models.PositiveSmallIntegerField(default=3, help_text=_("Most locations one order may split over."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank", "code"]
        permissions = [("route_orders", "Can reroute orders and replay routing policies")]

    def __str__(self) -> str:
        return self.name


class RoutingDecision(models.Model):
    """Why an order went where it went: every candidate with its score and verdict."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="routing_decisions")
    policy = models.CharField(max_length=40, default="nearest")
    policy_ref = models.ForeignKey(RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, default="auto", help_text="auto, reroute, split, backorder")
    chosen = models.ForeignKey(Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    candidates = models.JSONField(default=list)
    # The winning plan: [{location_id, location, lines: [{order_line, product, quantity}], cost, distance_km}]
    plan = models.JSONField(default=list, blank=True)
    score = models.DecimalField(max_digits=14, decimal_places=3, null=True, blank=True)
    totals = models.JSONField(
        default=dict, blank=True, help_text="cost, distance_km, shipments, backordered, late_risk"
    )
    reason = models.CharField(max_length=255)
    note = models.CharField(max_length=255, blank=True, help_text="Why staff rerouted.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.order_id} -> {self.chosen_id}: {self.reason}"


class Backorder(models.Model):
    """Units of an order line no location could ship when the policy ships what is available."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="backorders")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="backorders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Where it went."
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["resolved_at", "product"])]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.product_id} x{self.quantity}"


class RoutingReplay(models.Model):
    """A draft policy replayed over a past period next to the live policy. Reserves nothing."""

    policy = models.ForeignKey(RoutingPolicy, on_delete=models.CASCADE, related_name="replays")
    baseline = models.ForeignKey(
        RoutingPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="None: live."
    )
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=8, choices=ReplayStatus.choices, default=ReplayStatus.QUEUED)
    orders = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.policy} {self.period_start}..{self.period_end}"


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
