"""Carriers, service levels, parcels (a shipment's label and tracking number) and tracking events."""

from django.db import models

from fulfillment.models import Shipment

from .status import ServiceKind, TrackingStatus


class Carrier(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    adapter = models.CharField(max_length=32, default="local", help_text="Carrier adapter: local, easypost, ...")
    tracking_url_template = models.CharField(max_length=255, blank=True, help_text="Use {tracking_number}.")
    webhook_secret = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServiceLevel(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="services")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ServiceKind.choices, default=ServiceKind.STANDARD)
    transit_days = models.PositiveSmallIntegerField(default=3)
    cold_chain = models.BooleanField(default=False)
    freight = models.BooleanField(default=False)
    max_weight_g = models.PositiveIntegerField(null=True, blank=True)
    base_rate = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    per_kg_rate = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__name", "transit_days"]
        constraints = [models.UniqueConstraint(fields=["carrier", "code"], name="service_carrier_code_uniq")]

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.name}"


class Parcel(models.Model):
    """A labelled parcel of a shipment: its service, tracking number and tracking state."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="parcels")
    service = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="parcels")
    tracking_number = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=24, choices=TrackingStatus.choices, default=TrackingStatus.INFO_RECEIVED)
    weight_g = models.PositiveIntegerField(default=0)
    expected_delivery = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def tracking_url(self) -> str:
        template = self.service.carrier.tracking_url_template
        return template.format(tracking_number=self.tracking_number) if template else ""


class TrackingEvent(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    description = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=24, help_text="easypost, form, poll, ...")
    dedupe_key = models.CharField(max_length=64)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parcel", "dedupe_key"], name="trackingevent_parcel_dedupe_uniq")
        ]
        permissions = [("record_tracking", "Can record tracking events by hand")]

    def __str__(self) -> str:
        return f"{self.parcel_id} {self.status} @ {self.occurred_at:%Y-%m-%d %H:%M}"
