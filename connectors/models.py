"""A sales channel's connection to its platform's API, and what the connector remembers of the platform."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fulfillment.models import Shipment
from oms.vault import EncryptedJSONField
from orders.models import Channel

API_VERSION = r"^([0-9]{4}-[0-9]{2}|unstable)$"
MARKETPLACE_IDS = r"^[A-Z0-9]+( *, *[A-Z0-9]+)*$"


class ChannelConnection(models.Model):
    """How the OMS talks to one channel's platform (``Channel.platform`` picks the adapter, connectors/base.py).

    ``credentials`` is written, never shown back (pages and logs show it masked). ``base_url`` is a setting so a
    test's loopback server, a vendor's sandbox or production work without code changes."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="connection")
    base_url = models.URLField(
        max_length=300, help_text="The platform's API root, e.g. https://my-shop.myshopify.com (http on loopback)"
    )
    api_version = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(API_VERSION, _("A dated version like 2025-01, or unstable."))],
        help_text="e.g. 2025-01 for Shopify",
    )
    credentials = EncryptedJSONField(
        default=dict, blank=True, help_text="write-only: never shown back, stored encrypted"
    )
    location_ref = models.CharField(
        max_length=120,
        blank=True,
        help_text="The platform's location stock is set at (Shopify: gid://shopify/Location/…; Amazon: the seller id)",
    )
    marketplace_ids = models.CharField(
        max_length=200,
        blank=True,
        validators=[RegexValidator(MARKETPLACE_IDS, _("Marketplace ids like ATVPDKIKX0DER, comma-separated."))],
        help_text="Amazon: the marketplace id(s) orders are pulled from and stock is set in, e.g. ATVPDKIKX0DER",
    )
    auth_url = models.URLField(
        max_length=300,
        blank=True,
        help_text="Amazon: the LWA token URL (empty: https://api.amazon.com/auth/o2/token)",
    )
    # Amazon: feeds sent whose processing report has not been read yet ([{"id", "sent_at", "skus"}]).
    pending_feeds = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    pull_orders = models.BooleanField(default=True, help_text="Pull orders updated since the cursor on a schedule")
    confirm_shipments = models.BooleanField(default=True, help_text="Send each shipment's carrier and tracking")
    push_stock = models.BooleanField(default=True, help_text="Set the channel's stock figures on the platform")
    cancel_notices = models.BooleanField(default=False, help_text="Tell the platform of cancellations and refunds")
    refund_payments = models.BooleanField(
        default=False,
        help_text="A partial cancellation refunds the payment through the platform (Shopify: the suggested refund's "
        "transactions; WooCommerce: api_refund); off: the refund only records the cancelled lines",
    )
    tracking_extension = models.BooleanField(
        default=False,
        help_text="WooCommerce: the store has the Shipment Tracking extension (else tracking goes in an order note)",
    )
    # Pull: orders updated at or after the cursor (the platform's time, ISO 8601); the ids already stored at
    # that very time (the next pull asks again from the cursor and skips them).
    pull_cursor = models.CharField(max_length=40, blank=True)
    pull_cursor_ids = models.JSONField(default=list, blank=True)
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_pull_ok_at = models.DateTimeField(null=True, blank=True)
    last_pull_count = models.PositiveIntegerField(default=0)
    last_pull_error = models.TextField(blank=True)
    last_push_at = models.DateTimeField(null=True, blank=True)
    last_push_ok_at = models.DateTimeField(null=True, blank=True)
    last_push_error = models.TextField(blank=True)
    last_confirm_at = models.DateTimeField(null=True, blank=True)
    last_confirm_ok_at = models.DateTimeField(null=True, blank=True)
    last_confirm_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel__name"]
        permissions = [("sync_channel", "Can run and retry channel syncs")]

    def __str__(self) -> str:
        return f"{self.channel} → {self.base_url}"

    @property
    def platform(self) -> str:
        return self.channel.platform

    def clean(self) -> None:
        parts = urlsplit(self.base_url or "")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise ValidationError({"base_url": gettext("Use https: plain http only reaches a server on this machine.")})
        if parts.query or parts.fragment:
            raise ValidationError({"base_url": gettext("The API root takes no query or fragment.")})
        auth = urlsplit(self.auth_url or "")
        if auth.scheme == "http" and auth.hostname not in LOOPBACK:
            raise ValidationError({"auth_url": gettext("Use https: plain http only reaches a server on this machine.")})

    @property
    def marketplaces(self) -> list[str]:
        return [m.strip() for m in (self.marketplace_ids or "").split(",") if m.strip()]


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class RemoteShipment(models.Model):
    """What the platform holds for one of our shipments (Shopify: the fulfillment's id): a confirmation sent
    again updates it instead of creating a second one. ``version`` is the last notice applied."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="remote_shipments")
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="+")
    remote_id = models.CharField(max_length=120)
    tracking_numbers = models.JSONField(default=list, blank=True)
    version = models.BigIntegerField(default=0)
    cancelled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["connection", "shipment"], name="remote_shipment_uniq")]

    def __str__(self) -> str:
        return f"{self.shipment_id} → {self.remote_id}"


class RemoteItem(models.Model):
    """The platform's id of one of our SKUs' stock item (Shopify: the variant's inventoryItem id), looked up
    once and kept; ``remote_id`` empty means the platform has no such SKU (looked up again after a day)."""

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="remote_items")
    sku = models.CharField(max_length=64)
    remote_id = models.CharField(max_length=120, blank=True)
    looked_up_at = models.DateTimeField()

    class Meta:
        ordering = ["connection_id", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "sku"], name="remote_item_uniq"),
            models.CheckConstraint(condition=~Q(sku=""), name="remote_item_sku_set"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} → {self.remote_id or '(none)'}"


class Reconciliation(models.Model):
    """The last reconciliation of one connection (connectors/reconcile.py): shipments shipped here that the
    platform has not been told of, and orders the platform shows fulfilled that are still open here. Replaced
    by each run; the lists hold at most ``reconcile.LIST_MAX`` entries, the totals count all."""

    connection = models.OneToOneField(ChannelConnection, on_delete=models.CASCADE, related_name="reconciliation")
    ran_at = models.DateTimeField()
    error = models.TextField(blank=True)
    unconfirmed = models.JSONField(default=list, blank=True)  # [{shipment, number, order, shipped_at, state, error}]
    unconfirmed_total = models.PositiveIntegerField(default=0)
    open_here = models.JSONField(default=list, blank=True)  # [{order, number, external_id, status, theirs}]
    open_here_total = models.PositiveIntegerField(default=0)
    reverse_checked = models.BooleanField(
        default=False, help_text="The platform could say which orders it shows fulfilled"
    )

    def __str__(self) -> str:
        return f"{self.connection}: {self.unconfirmed_total} unconfirmed, {self.open_here_total} open here"


class RemoteNotice(models.Model):
    """What a platform did with one of our notices that it does not answer at once, or that must never be sent
    twice: an Amazon cancellation feed being processed (``remote_id`` the feed id), a refund of cancelled lines
    (its id on the platform). ``key`` is the outbox row's key."""

    class State(models.TextChoices):
        PROCESSING = "processing", "processing"
        DONE = "done", "done"

    connection = models.ForeignKey(ChannelConnection, on_delete=models.CASCADE, related_name="remote_notices")
    key = models.CharField(max_length=200)
    remote_id = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PROCESSING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="remote_notice_uniq")]

    def __str__(self) -> str:
        return f"{self.key} → {self.remote_id or '?'} ({self.state})"
