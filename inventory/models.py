"""Products, locations, stock per location and the append-only movement ledger."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class HandlingClass(models.TextChoices):
    STANDARD = "standard", _("Standard")
    FRESH = "fresh", _("Fresh")
    FRAGILE = "fragile", _("Fragile")
    BULKY = "bulky", _("Bulky")


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    STORE = "store", _("Store")
    FACTORY = "factory", _("Factory")


class Location(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=LocationKind.choices, default=LocationKind.WAREHOUSE)
    country = models.CharField(max_length=2, default="CN")
    province = models.CharField(max_length=64, blank=True)
    city = models.CharField(max_length=64, blank=True)
    address = models.CharField(max_length=255, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    cold_chain = models.BooleanField(default=False, help_text=_("Can store and ship chilled goods."))
    handles_bulky = models.BooleanField(default=False, help_text=_("Can store and ship bulky goods."))
    daily_capacity = models.PositiveIntegerField(null=True, blank=True, help_text=_("Shipments per day."))
    cutoff_time = models.TimeField(
        null=True, blank=True, help_text=_("Orders routed after this time ship the next working day.")
    )
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Per weekday, e.g. {"mon": ["09:00", "18:00"], "sun": []}; missing days are closed.'),
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def can_handle(self, handling_class: str) -> bool:
        if handling_class == HandlingClass.FRESH:
            return self.cold_chain
        if handling_class == HandlingClass.BULKY:
            return self.handles_bulky
        return True

    WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def hours_on(self, weekday: int) -> tuple[str, str] | None:
        """Opening and closing time on a weekday (0 = Monday), or None when closed."""
        hours = (self.opening_hours or {}).get(self.WEEKDAYS[weekday])
        return (hours[0], hours[1]) if hours and len(hours) == 2 else None


class Bin(models.Model):
    """A storage place inside a location; pick lists walk bins in pick sequence."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="bins")
    code = models.CharField(max_length=32)
    zone = models.CharField(max_length=32, blank=True)
    pick_sequence = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location__code", "pick_sequence", "code"]
        constraints = [models.UniqueConstraint(fields=["location", "code"], name="bin_location_code_uniq")]

    def __str__(self) -> str:
        return f"{self.location.code}:{self.code}"


class Product(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    handling_class = models.CharField(max_length=16, choices=HandlingClass.choices, default=HandlingClass.STANDARD)
    weight_g = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    barcode = models.CharField(max_length=64, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Days from ordering to receiving; empty: the default.")
    )
    active = models.BooleanField(default=True)
    # 预售 (presale): orders for the product are promised, not routed, until this day (orders/presale.py); an
    # expected batch of ``presale_batch_qty`` arrives then. Empty: sold from stock.
    presale_ship_from = models.DateField(
        null=True, blank=True, help_text=_("Presale: orders are promised and routed from this day.")
    )
    presale_batch_qty = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The expected batch that arrives on the ship-from date.")
    )
    # The receipts counted toward that batch so far ({receipt key: quantity}, orders/services/presale.py
    # ``presale_receipt_unmark``): several receipts that together bring the batch end the presale as one does; a
    # receipt posted again (same reference at the same location) counts once. Emptied when the presale ends.
    presale_batch_received = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def presale_batch_received_qty(self) -> int:
        """Units of the expected presale batch received so far (several receipts may bring it)."""
        return sum(int(v) for v in (self.presale_batch_received or {}).values())


class StockQuerySet(models.QuerySet):
    def with_available(self):
        return self.annotate(available=F("on_hand") - F("reserved"))


class Stock(models.Model):
    """On hand and reserved for one product at one location."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stock")
    bin = models.CharField(max_length=32, blank=True, help_text=_("Pick face, e.g. A-01-03."))
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StockQuerySet.as_manager()

    class Meta:
        ordering = ["location__code", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["location", "product"], name="stock_location_product_uniq"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_gte_0"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_lte_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku}@{self.location.code}: {self.on_hand}/{self.reserved}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Adjustment")
    COUNT = "count", _("Cycle count")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    RESERVE = "reserve", _("Reservation")
    RELEASE = "release", _("Reservation released")
    SHIPMENT = "shipment", _("Shipment")
    RETURN_RESTOCK = "return_restock", _("Return restock")
    WRITE_OFF = "write_off", _("Damage write-off")


class ReasonCode(models.TextChoices):
    """Why stock changed; every ledger row has one (the kind says what happened)."""

    PURCHASE = "purchase", _("Purchase receipt")
    PRODUCTION = "production", _("From production")
    OPENING = "opening", _("Opening balance")
    FOUND = "found", _("Found")
    LOST = "lost", _("Lost")
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Expired")
    CORRECTION = "correction", _("Correction")
    COUNT = "count", _("Cycle count difference")
    TRANSFER = "transfer", _("Transfer between locations")
    ORDER = "order", _("Customer order")
    CANCELLATION = "cancellation", _("Cancellation or reroute")
    CUSTOMER_RETURN = "customer_return", _("Customer return")
    OTHER = "other", _("Other")


# The reason code a movement gets when the caller names none.
DEFAULT_REASON_CODE = {
    "receipt": ReasonCode.PURCHASE,
    "adjustment": ReasonCode.CORRECTION,
    "count": ReasonCode.COUNT,
    "transfer_out": ReasonCode.TRANSFER,
    "transfer_in": ReasonCode.TRANSFER,
    "reserve": ReasonCode.ORDER,
    "release": ReasonCode.CANCELLATION,
    "shipment": ReasonCode.ORDER,
    "return_restock": ReasonCode.CUSTOMER_RETURN,
    "write_off": ReasonCode.DAMAGED,
}


class StockMovement(models.Model):
    """Append-only ledger: the sum of the deltas is the stock row."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    reason_code = models.CharField(max_length=16, choices=ReasonCode.choices, blank=True)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["location", "product"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id}@{self.location_id} {self.on_hand_delta:+}/{self.reserved_delta:+}"

    def save(self, *args, **kwargs):
        if not self.reason_code:
            self.reason_code = DEFAULT_REASON_CODE.get(self.kind, ReasonCode.OTHER)
        super().save(*args, **kwargs)


class StockReceipt(models.Model):
    """A receipt with a reference, once per (location, product, reference): posted again (a double click, a
    re-uploaded sheet, a retried request) it adds nothing (``inventory.services.stock_receive``). The unique
    constraint is the guard two identical posts at once meet. Receipts without a reference have no row."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="receipts")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="receipts")
    reference = models.CharField(max_length=64)
    quantity = models.IntegerField()
    movement = models.OneToOneField(
        StockMovement, null=True, blank=True, on_delete=models.PROTECT, related_name="receipt_once"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "product", "reference"], name="stock_receipt_once_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.product_id}@{self.location_id} +{self.quantity}"


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("In transit")
    RECEIVED = "received", pgettext_lazy("transfer", "Received")


class Transfer(models.Model):
    """Stock on its way from one location to another: transfer_out at dispatch, transfer_in at receipt.

    While in transit the goods are in neither location's on hand; ``in_transit()`` shows them."""

    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_out")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="transfers_in")
    status = models.CharField(max_length=12, choices=TransferStatus.choices, default=TransferStatus.IN_TRANSIT)
    note = models.CharField(max_length=200, blank=True)
    dispatched_at = models.DateTimeField(auto_now_add=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_location=F("to_location")), name="transfer_distinct_locations")
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transfer_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["transfer_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "product"], name="transferline_transfer_product_uniq"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_quantity_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity}"


class StockRule(models.Model):
    """Per product and location: safety stock (kept back from channels) and when stock is low."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="stock_rules")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_rules")
    safety_stock = models.PositiveIntegerField(default=0, help_text=_("Never offered to channels."))
    low_stock_threshold = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Alert when available falls to this or below.")
    )
    min_days_of_cover = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Alert when available covers fewer days of forecast demand.")
    )

    class Meta:
        ordering = ["location__code", "product__sku"]
        constraints = [models.UniqueConstraint(fields=["location", "product"], name="stockrule_location_product_uniq")]
        permissions = [("view_replenishment", "Can see replenishment suggestions and low-stock alerts")]

    def __str__(self) -> str:
        return f"{self.product_id}@{self.location_id} safety {self.safety_stock}"
