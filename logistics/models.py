"""Carriers, service levels, parcels (a shipment's label and tracking number) and tracking events."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q

from fulfillment.models import Shipment
from inventory.models import Location
from oms.vault import EncryptedTextField

from .status import STATUS_ZH, ServiceKind, TrackingStatus


class Carrier(models.Model):
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    adapter = models.CharField(max_length=32, default="local", help_text="Carrier adapter: local, easypost, ...")
    tracking_url_template = models.CharField(max_length=255, blank=True, help_text="Use {tracking_number}.")
    webhook_secret = models.CharField(max_length=200, blank=True)
    api_key = EncryptedTextField(
        blank=True, help_text="Carrier API key (EasyPost: or EASYPOST_API_KEY); stored encrypted."
    )
    tracking_format = models.CharField(
        max_length=16, blank=True, help_text="Tracking number format: s10, sf, zto, yto, usps, ups, easypost, ..."
    )
    pickup_cutoff = models.TimeField(null=True, blank=True, help_text="Last pickup of the day at our locations.")
    active = models.BooleanField(default=True)
    # Connecting a real carrier (logistics/carrier_labels.py; README "Connecting carriers"). Never shown back.
    api_base_url = models.CharField(
        max_length=255, blank=True, help_text="The carrier API's base URL; empty: the vendor's production URL."
    )
    account_id = models.CharField(max_length=64, blank=True, help_text="Kdniao: the EBusinessID (用户ID).")
    shipper_code = models.CharField(
        max_length=16, blank=True, help_text="Kdniao: the express company's code (ShipperCode), e.g. ZTO, YTO, SF."
    )
    account_options = models.JSONField(
        default=dict,
        blank=True,
        help_text="Kdniao: extra e-order fields of the account, e.g. CustomerName, CustomerPwd, MonthCode, PayType.",
    )
    label_format = models.CharField(
        max_length=8, default="PDF", help_text="The carrier's label file: PDF or ZPL (EasyPost also PNG)."
    )
    live_rates = models.BooleanField(default=False, help_text="Rate shopping asks the carrier's API for its rates.")
    privacy_waybill = models.BooleanField(
        default=False, help_text="隐私面单: the label shows the recipient's name and phone masked (王*, 138****0000)."
    )

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
    # Rating (logistics/rating.py): coverage, size limits, capabilities, cut-off, surcharges.
    external_code = models.CharField(
        max_length=64, blank=True, help_text="The carrier API's own service name, e.g. EasyPost 'USPS:Priority'."
    )
    coverage_countries = models.CharField(
        max_length=200, blank=True, help_text="ISO codes, comma-separated; empty: every country."
    )
    coverage_provinces = models.CharField(
        max_length=500, blank=True, help_text="Destination provinces served, comma-separated; empty: all."
    )
    max_length_mm = models.PositiveIntegerField(null=True, blank=True, help_text="Longest side.")
    max_sum_mm = models.PositiveIntegerField(null=True, blank=True, help_text="Length + width + height.")
    signature = models.BooleanField(default=False, help_text="Can collect a signature on delivery.")
    insurance = models.BooleanField(default=False, help_text="Can insure the declared value.")
    cutoff_time = models.TimeField(null=True, blank=True, help_text="Pickup cut-off; empty: the carrier's.")
    fuel_surcharge_pct = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    remote_surcharge = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="Added for remote-area destinations."
    )
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
    # What rating decided (logistics/rating.py) and what the carrier returned.
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    zone = models.CharField(max_length=16, blank=True)
    quotes = models.JSONField(default=list, blank=True, help_text="Every compared service with price or why excluded.")
    choice_reason = models.CharField(max_length=255, blank=True)
    carrier_reference = models.CharField(max_length=64, blank=True)
    label_url = models.URLField(max_length=500, blank=True)
    manifest = models.ForeignKey("Manifest", null=True, blank=True, on_delete=models.SET_NULL, related_name="parcels")
    voided_at = models.DateTimeField(null=True, blank=True)
    # Shipped under a number from a label made elsewhere (a carrier portal, a marketplace): no OMS label.
    external_label = models.BooleanField(default=False, help_text="The label was made outside the OMS.")
    carrier_name = models.CharField(
        max_length=100, blank=True, help_text="The carrier's name when it is not one of ours ('other')."
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def carrier_display(self) -> str:
        return self.carrier_name or self.service.carrier.name

    @property
    def tracking_url(self) -> str:
        template = self.service.carrier.tracking_url_template
        return template.format(tracking_number=self.tracking_number) if template else ""


class LabelPurchase(models.Model):
    """A label bought from (or an e-waybill issued by) a real carrier for a shipment, recorded the moment the
    carrier answered and before the shipment is written: a failed write or a retry reuses it instead of buying
    again. ``parcel`` is set when the shipment shipped with it; the carrier's own label file is kept here."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="label_purchases")
    service = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="+")
    parcel = models.OneToOneField(
        Parcel, null=True, blank=True, on_delete=models.SET_NULL, related_name="label_purchase"
    )
    tracking_number = models.CharField(max_length=40)
    carrier_reference = models.CharField(max_length=64, blank=True)
    label_format = models.CharField(max_length=8, blank=True)
    label_url = models.CharField(max_length=500, blank=True)
    label_file = models.BinaryField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True, help_text="What the carrier said beyond the number (大头笔 ...).")
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    void_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.tracking_number} ({self.shipment_id})"


class TrackingEvent(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    description = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=120, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=24, help_text="easypost, form, poll, ...")
    dedupe_key = models.CharField(max_length=64)
    carrier_status = models.CharField(
        max_length=64,
        blank=True,
        help_text="The provider's own code: failure/refused, Exception/Exception_003, kdniao/404.",
    )
    code_known = models.BooleanField(
        default=True, help_text="False: the provider's code is not in our table; kept and flagged, not guessed."
    )
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parcel", "dedupe_key"], name="trackingevent_parcel_dedupe_uniq")
        ]
        indexes = [  # the few scans with an unknown code, counted on the parcel list
            models.Index(fields=["parcel"], condition=Q(code_known=False), name="trackingevent_code_unknown_idx")
        ]
        permissions = [("record_tracking", "Can record tracking events by hand")]

    def __str__(self) -> str:
        return f"{self.parcel_id} {self.status} @ {self.occurred_at:%Y-%m-%d %H:%M}"

    @property
    def status_zh(self) -> str:
        return STATUS_ZH.get(self.status, self.get_status_display())

    @property
    def status_en(self) -> str:
        """The customer's words (an unknown carrier code is just "an update from the carrier" to them)."""
        return "Update from the carrier" if self.status == TrackingStatus.UNKNOWN else self.get_status_display()


class RateCardRow(models.Model):
    """One price of a service's rate card: to a zone, up to a weight; above the last band, extra per kg."""

    service = models.ForeignKey(ServiceLevel, on_delete=models.CASCADE, related_name="rate_rows")
    zone = models.CharField(max_length=16)
    max_weight_g = models.PositiveIntegerField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    extra_per_kg = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    transit_days = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["service_id", "zone", "max_weight_g"]
        constraints = [
            models.UniqueConstraint(fields=["service", "zone", "max_weight_g"], name="ratecardrow_band_uniq"),
            models.CheckConstraint(condition=Q(price__gte=0), name="ratecardrow_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.zone} <= {self.max_weight_g} g: {self.price}"


class ServiceOverride(models.Model):
    """A person chose the service for a shipment before dispatch, with a reason."""

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="service_override")
    service = models.ForeignKey(ServiceLevel, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("override_service", "Can override the carrier service of a shipment")]

    def __str__(self) -> str:
        return f"{self.shipment_id} -> {self.service_id}"


class Manifest(models.Model):
    """End-of-day handover of one carrier's parcels at one location."""

    number = models.CharField(max_length=24, unique=True, null=True, blank=True)
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="manifests")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("close_manifest", "Can close and print carrier manifests")]

    def __str__(self) -> str:
        return self.number or f"MF#{self.pk}"


# ---- tracking sources, polling and expected delivery (logistics/polling.py, logistics/eta.py) ------------


class TrackingProvider(models.TextChoices):
    EASYPOST = "easypost", "EasyPost"
    AFTERSHIP = "aftership", "AfterShip"
    KDNIAO = "kdniao", "Kdniao 快递鸟"
    ADAPTER = "adapter", "The carrier adapter's own track()"


class TrackingMode(models.TextChoices):
    PUSH = "push", "Push (webhook)"
    POLL = "poll", "Poll (we ask)"


class TrackingSource(models.Model):
    """Where a carrier's scans come from: a push provider, or a provider we poll."""

    carrier = models.ForeignKey(Carrier, on_delete=models.CASCADE, related_name="tracking_sources")
    provider = models.CharField(max_length=16, choices=TrackingProvider.choices)
    mode = models.CharField(max_length=8, choices=TrackingMode.choices, default=TrackingMode.PUSH)
    carrier_code = models.CharField(
        max_length=32, blank=True, help_text="The provider's code for the carrier (Kdniao ShipperCode, AfterShip slug)."
    )
    poll_every_minutes = models.PositiveIntegerField(default=240)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["carrier__name", "provider"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "provider"], name="trackingsource_carrier_provider_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} via {self.get_provider_display()} ({self.mode})"


class ParcelWatch(models.Model):
    """Per parcel: the first promised date, how the current expected date was made, and polling state."""

    parcel = models.OneToOneField(Parcel, on_delete=models.CASCADE, related_name="watch")
    promised_delivery = models.DateField(null=True, blank=True, help_text="The first expected date we gave.")
    eta_basis = models.CharField(max_length=24, blank=True, help_text="carrier, lane, service, out_for_delivery, ...")
    eta_detail = models.CharField(max_length=200, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True)
    poll_failures = models.PositiveSmallIntegerField(default=0)
    poll_error = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"watch {self.parcel_id}"


# ---- exception cases, their actions and the knowledge base (logistics/cases/) -------------------------

from django.conf import settings as _settings  # noqa: E402
from django.db.models import Q as _Q  # noqa: E402

from .cases.types import (  # noqa: E402
    OPEN_CASE_STATUSES,
    ActionKind,
    CaseStatus,
    CaseType,
    ClaimStatus,
    RootCause,
    Severity,
)


class ExceptionCase(models.Model):
    """One problem with one order that a person has to settle; detected once per order and type."""

    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="exception_cases")
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    parcel = models.ForeignKey(Parcel, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    carrier = models.ForeignKey(Carrier, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases")
    location = models.ForeignKey(
        "inventory.Location", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    type = models.CharField(max_length=24, choices=CaseType.choices)
    severity = models.CharField(max_length=12, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True)
    summary = models.CharField(max_length=255)
    facts = models.JSONField(default=dict, blank=True, help_text="What the detection saw.")
    detected_by = models.CharField(max_length=40, default="rule")
    owner = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(db_index=True)
    due_at = models.DateTimeField(db_index=True)
    customer_notified_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    root_cause = models.CharField(max_length=16, choices=RootCause.choices, blank=True)
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "type"],
                condition=_Q(status__in=sorted(OPEN_CASE_STATUSES)),
                name="exceptioncase_one_open_per_order_type",
            )
        ]
        indexes = [models.Index(fields=["status", "due_at"])]
        permissions = [("manage_case", "Can work exception cases"), ("edit_playbook", "Can edit the knowledge base")]

    def __str__(self) -> str:
        return self.number or f"CASE#{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES

    @property
    def resolution_hours(self) -> float | None:
        if self.resolved_at is None:
            return None
        return round((self.resolved_at - self.opened_at).total_seconds() / 3600, 1)


class CaseAction(models.Model):
    """Everything done on a case: playbook actions, notes, assignments, status changes. Amounts are records
    (no payment gateway is called)."""

    case = models.ForeignKey(ExceptionCase, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(max_length=24, choices=ActionKind.choices)
    note = models.CharField(max_length=500, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    data = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class CarrierClaim(models.Model):
    case = models.ForeignKey(ExceptionCase, on_delete=models.PROTECT, related_name="claims")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="claims")
    parcel = models.ForeignKey(Parcel, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    evidence = models.TextField(blank=True, help_text="Photos, links, the carrier's reference, what was damaged.")
    status = models.CharField(max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.FILED)
    settled_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    carrier_reference = models.CharField(max_length=64, blank=True)
    filed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=_Q(amount__gt=0), name="carrierclaim_amount_gt_0")]

    def __str__(self) -> str:
        return f"claim {self.pk} {self.status}"


def _claim_evidence_upload_to(instance, filename: str) -> str:
    return f"claims/{instance.claim_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:8]}"


class ClaimEvidence(models.Model):
    """A file (photo or PDF) backing a carrier claim; stored under MEDIA_ROOT/claims/, served to staff only
    (logistics.cases.evidence checks type and size)."""

    claim = models.ForeignKey(CarrierClaim, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=_claim_evidence_upload_to, max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class Playbook(models.Model):
    """The knowledge base entry of an exception type, edited by staff (defaults in cases/types.py)."""

    type = models.CharField(max_length=24, choices=CaseType.choices, unique=True)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    due_hours = models.PositiveIntegerField()
    threshold_hours = models.PositiveIntegerField(
        default=0, help_text="Time-based rules: how long before it is a case."
    )
    steps = models.TextField()
    notify_customer = models.BooleanField(default=False)
    customer_subject = models.CharField(max_length=200, blank=True)
    customer_body = models.TextField(blank=True)
    customer_subject_zh = models.CharField(max_length=200, blank=True, help_text="The subject in Chinese.")
    customer_body_zh = models.TextField(blank=True, help_text="The message in Chinese.")
    updated_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["type"]

    def __str__(self) -> str:
        return self.get_type_display()


class TrackingAccessCode(models.Model):
    """A one-time code sent to an order's e-mail or phone from the public tracking page: entering it proves the
    visitor may change the order (logistics/access_codes.py). Only a keyed hash of the code is stored."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=8)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"code for order {self.order_id} @ {self.created_at:%Y-%m-%d %H:%M}"
