"""Products, locations, stock per location and the append-only movement ledger."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


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
    cutoff_time = models.TimeField(null=True, blank=True)
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
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


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


class StockMovement(models.Model):
    """Append-only ledger: the sum of the deltas is the stock row."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="movements")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
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
