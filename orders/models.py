"""Channels, customers, orders and their lines, holds, the timeline and raw inbound messages."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import HandlingClass, Location, Product

from .status import CANCELLABLE, ChangeAction, ChangeKind, EventKind, HoldReason, OrderStatus, ReturnStatus, Stage


class ChannelKind(models.TextChoices):
    WEB = "web", _("Web shop")
    MARKETPLACE = "marketplace", _("Marketplace")
    APP = "app", _("App")
    STORE = "store", _("Store")
    API = "api", _("API")
    SPREADSHEET = "spreadsheet", _("Spreadsheet")
    BACK_OFFICE = "back_office", _("Back office")


class StockPolicy(models.TextChoices):
    CHECK = "check", _("Check availability")
    FORCE = "force", _("Trust the channel (force)")


class StockAdapter(models.TextChoices):
    FEED = "feed", _("JSON feed (the channel pulls)")
    CSV = "csv", _("CSV export (the channel pulls)")
    PUSH = "push", _("Push (POST JSON to the channel)")
    NONE = "none", _("Not published")


class ChannelPlatform(models.TextChoices):
    """Which adapter reads the channel's webhooks (orders.intake.webhooks.WEBHOOKS)."""

    OMS = "oms", _("OMS JSON / files")
    SHOPIFY = "shopify", _("Shopify")
    WOOCOMMERCE = "woocommerce", _("WooCommerce")
    AMAZON = "amazon", _("Amazon Seller Central")


class Channel(models.Model):
    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=ChannelKind.choices, default=ChannelKind.WEB)
    platform = models.CharField(max_length=16, choices=ChannelPlatform.choices, default=ChannelPlatform.OMS)
    webhook_secret = models.CharField(max_length=200, blank=True)
    stock_policy = models.CharField(max_length=8, choices=StockPolicy.choices, default=StockPolicy.CHECK)
    default_priority = models.PositiveSmallIntegerField(default=5, help_text=_("1 is most urgent."))
    active = models.BooleanField(default=True)
    # Stock for sale on the channel (orders/atp.py): the locations that serve it and a buffer kept back.
    locations = models.ManyToManyField(
        Location, blank=True, related_name="channels", help_text=_("The locations whose stock this channel sells.")
    )
    buffer_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, help_text=_("Per cent of the available figure kept back.")
    )
    buffer_units = models.PositiveIntegerField(default=0, help_text=_("Units kept back per product."))
    stock_adapter = models.CharField(
        max_length=8,
        choices=StockAdapter.choices,
        default=StockAdapter.FEED,
        help_text=_("How stock figures reach the channel."),
    )
    stock_push_url = models.URLField(blank=True, help_text=_("For the push adapter: where figures are POSTed."))
    stock_feed_token = models.CharField(
        max_length=64, blank=True, help_text=_("Token for the JSON feed and CSV export (else the webhook secret).")
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(buffer_percent__gte=0) & Q(buffer_percent__lte=100), name="channel_buffer_percent_range"
            )
        ]
        permissions = [("publish_stock", "Can publish stock figures to channels")]

    def __str__(self) -> str:
        return self.name


class ChannelSku(models.Model):
    """The channel's own SKU for one of our products; intake looks here before the product SKU."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="sku_map")
    external_sku = models.CharField(max_length=64)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="channel_skus")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_id", "external_sku"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_sku"], name="channelsku_channel_external_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.channel.slug}:{self.external_sku} → {self.product.sku}"


class Customer(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    # The language of e-mails and SMS (en, zh-hans); empty: from the ship-to country (orders/notifications.py).
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Review holds (orders/review.py): a business customer's open orders may not pass its credit limit.
    is_business = models.BooleanField(default=False)
    credit_limit = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text=_("Business customers; empty: no limit.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
        return self.filter(status=OrderStatus.CONFIRMED, on_hold=False)

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
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Classification (orders/classification.py). Tags and capabilities are stored delimited, ",fresh,gift,",
    # so one ``tags__contains=",fresh,"`` finds a tag on SQLite and PostgreSQL alike (see tag_list).
    tags = models.CharField(max_length=255, blank=True, db_index=True)
    required_capabilities = models.CharField(max_length=100, blank=True, help_text=_("cold_chain, bulky"))
    required_service_kind = models.CharField(max_length=16, blank=True, help_text=_("A hard constraint for rating."))
    # What the packer must do (the matching rules' packing notes, joined); shown at the pack station.
    packing_notes = models.TextField(blank=True)
    # Review holds (orders/review.py).
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

    def is_cancellable(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

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
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_note = models.CharField(max_length=255, blank=True)

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
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}: {self.message}"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    PARTIAL = "partial", _("Partly rejected")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")


class InboundMessage(models.Model):
    """Every inbound message, stored raw before it is parsed."""

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    source = models.CharField(max_length=40, help_text=_("api, form, file:oms-csv, webhook:easypost, ..."))
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True, help_text=_("The body as text, for people (bytes not UTF-8 shown as �)."))
    # The exact bytes received (webhooks, API): signatures are verified and bodies parsed from these.
    # Null for messages stored as text only (files, polls, forms) and for messages from before it existed.
    raw = models.BinaryField(null=True, blank=True, editable=False)
    filename = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who sent it (an API token's user): the order's first event names them when the inbox applies it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        # The sweep's question (orders/background.py): messages still without an outcome, oldest first.
        indexes = [
            models.Index(fields=["received_at"], condition=models.Q(status="received"), name="inbound_unfinished_idx")
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} {self.status}"

    @property
    def payload(self) -> bytes:
        """The body as received: the raw bytes when they were kept, else the text as UTF-8."""
        if self.raw is not None:
            return bytes(self.raw)
        return self.body.encode("utf-8")


class ChannelStockFigure(models.Model):
    """The last figure published to a channel for a product (what the feed serves)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="stock_figures")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="channel_figures")
    quantity = models.PositiveIntegerField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["channel_id", "product_id"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "product"], name="channelstockfigure_channel_product_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.product_id}: {self.quantity}"


class PublicationOutcome(models.TextChoices):
    QUEUED = "queued", _("Queued to push")  # an outbox row pushes it (orders/atp.py)
    PUBLISHED = "published", _("Published")
    UNCHANGED = "unchanged", _("Nothing changed")
    FAILED = "failed", _("Failed")


class ChannelStockPublication(models.Model):
    """One push (or feed refresh) of stock figures to a channel: what changed and how it went."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="stock_publications")
    adapter = models.CharField(max_length=8, choices=StockAdapter.choices)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=PublicationOutcome.choices)
    rows = models.JSONField(default=list, blank=True, help_text=_("Changed figures: [{sku, old, new}]"))
    rows_changed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.outcome} ({self.rows_changed})"


# ---- the customer promise: notifications outbox, returns, delivery ratings -------------------------------
# (services in orders/notifications.py, orders/returns.py, orders/ratings.py)


class NotificationKind(models.TextChoices):
    CONFIRMED = "confirmed", _("Order confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELAYED = "delayed", _("Delayed")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered (with survey)")
    EXCEPTION = "exception", _("Delivery problem")
    RETURN = "return", _("Return update")
    MESSAGE = "message", _("Message from staff")
    CANCELLED = "cancelled", _("Order cancelled")
    CHANGED = "changed", _("Order changed")
    CODE = "code", _("One-time code (tracking page)")


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (opted out or no address)")


class Notification(models.Model):
    """One message to a customer: rendered when queued, sent by the outbox consumer (orders/notification_outbox.py)."""

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL)
    language = models.CharField(max_length=8)
    to = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    retryable = models.BooleanField(default=True, help_text=_("False after a permanent error: no more retries."))
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=160, unique=True, help_text=_("The same notice is queued once."))
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "last_attempt_at"])]
        permissions = [("retry_notification", "Can resend customer notifications")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to or '?'} ({self.status})"


class NotificationOptOut(models.Model):
    """An address (e-mail or phone) that asked for no optional messages (delivered, survey)."""

    address = models.CharField(max_length=254, unique=True)
    source = models.CharField(max_length=40, default="unsubscribe link")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.address


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


# ---- classification rules and review settings (orders/classification.py, orders/review.py) -------------


class ServiceKindRequirement(models.TextChoices):
    """The service kinds a rule may require; the same values as logistics.status.ServiceKind (orders sits
    below logistics and cannot import it; tests/orders/test_classification.py holds the two together)."""

    EXPRESS = "express", _("Express")
    STANDARD = "standard", _("Standard")
    ECONOMY = "economy", _("Economy")
    COLD_CHAIN = "cold_chain", _("Cold chain")
    FREIGHT = "freight", _("Freight")


class Capability(models.TextChoices):
    """What a location must be able to do for the order (inventory.Location.cold_chain / handles_bulky)."""

    COLD_CHAIN = "cold_chain", _("Cold chain")
    BULKY = "bulky", _("Bulky goods")


class ClassificationRule(models.Model):
    """One ordered rule: every filled-in condition must hold (empty = any); then its actions apply.

    Conditions and actions are typed fields, validated by ``clean`` and the back-office form; lists
    (handling classes, countries, provinces, tags, capabilities) are comma-separated.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0, db_index=True, help_text=_("Rules run in this order."))
    active = models.BooleanField(default=True)
    # Conditions.
    handling_classes = models.CharField(
        max_length=100, blank=True, help_text=_("Any line's product has one of these handling classes.")
    )
    min_weight_g = models.PositiveIntegerField(null=True, blank=True)
    max_weight_g = models.PositiveIntegerField(null=True, blank=True)
    min_volume_cm3 = models.PositiveIntegerField(null=True, blank=True)
    max_volume_cm3 = models.PositiveIntegerField(null=True, blank=True)
    min_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    countries = models.CharField(max_length=200, blank=True, help_text=_("Ship-to ISO codes, e.g. CN, HK."))
    provinces = models.CharField(max_length=500, blank=True, help_text=_("Ship-to provinces."))
    requested_service = models.CharField(max_length=32, blank=True, help_text=_("The channel's requested service."))
    promise_within_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("The promise date is at most this many days from today.")
    )
    customer_is_business = models.BooleanField(null=True, blank=True, help_text=_("Empty: any customer."))
    has_tag = models.CharField(max_length=32, blank=True, help_text=_("Set by an earlier rule."))
    # Actions.
    set_priority = models.PositiveSmallIntegerField(null=True, blank=True, help_text=_("1 is most urgent."))
    add_tags = models.CharField(max_length=100, blank=True, help_text=_("e.g. fresh, fragile, bulky, gift"))
    require_service_kind = models.CharField(
        max_length=16, blank=True, choices=ServiceKindRequirement.choices, help_text=_("Carrier choice must use it.")
    )
    require_capabilities = models.CharField(
        max_length=100, blank=True, help_text=_("Locations must have them: cold_chain, bulky.")
    )
    packing_note = models.CharField(max_length=200, blank=True)
    hold_reason = models.CharField(max_length=20, blank=True, choices=HoldReason.choices)
    hold_note = models.CharField(max_length=200, blank=True)
    stop_processing = models.BooleanField(default=False, help_text=_("No later rule runs after this one matches."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(set_priority__isnull=True) | (Q(set_priority__gte=1) & Q(set_priority__lte=9)),
                name="classificationrule_priority_1_9",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        for low, high in (
            ("min_weight_g", "max_weight_g"),
            ("min_volume_cm3", "max_volume_cm3"),
            ("min_value", "max_value"),
        ):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                errors[high] = _("must not be less than the minimum")
        bad = [c for c in split_list(self.handling_classes) if c not in HandlingClass.values]
        if bad:
            errors["handling_classes"] = _("unknown handling class: %s") % ", ".join(bad)
        bad = [c for c in split_list(self.require_capabilities) if c not in Capability.values]
        if bad:
            errors["require_capabilities"] = _("unknown capability: %s") % ", ".join(bad)
        if self.hold_note and not self.hold_reason:
            errors["hold_reason"] = _("a hold note needs a hold reason")
        if errors:
            raise ValidationError(errors)


def split_list(text: str) -> list[str]:
    """A comma-separated setting (also the full-width comma) as a list of trimmed values."""
    return [p.strip() for p in (text or "").replace("，", ",").split(",") if p.strip()]


class RiskSettings(models.Model):
    """The thresholds of the review holds (orders/review.py); one row (pk 1), edited in the admin."""

    high_value_new_customer = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=20000,
        help_text=_("An order at or above this from a customer with no delivered order: fraud review. Empty: off."),
    )
    check_country_mismatch = models.BooleanField(
        default=True, help_text=_("Billing and shipping countries differ: fraud review.")
    )
    cod_limit = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        default=3000,
        help_text=_("Cash on delivery above this: payment hold. Empty: off."),
    )

    class Meta:
        verbose_name_plural = "risk settings"
        permissions = [("override_credit", "Can override a credit hold (release with a reason)")]

    def __str__(self) -> str:
        return "Risk settings"

    @classmethod
    def current(cls) -> "RiskSettings":
        return cls.objects.filter(pk=1).first() or cls(pk=1)


# ---- what may change at each stage (orders/stage_rules.py holds the defaults) -------------------------


class StageRule(models.Model):
    """A back-office override of one cell of the stage rule table; cells without a row use the default."""

    stage = models.CharField(max_length=16, choices=Stage.choices)
    change = models.CharField(max_length=16, choices=ChangeKind.choices)
    action = models.CharField(max_length=16, choices=ChangeAction.choices)
    note = models.CharField(max_length=200, blank=True, help_text=_("Why the rule differs from the default."))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stage", "change"]
        constraints = [models.UniqueConstraint(fields=["stage", "change"], name="stagerule_stage_change_uniq")]
        permissions = [("approve_change", "Can approve order changes that need approval")]

    def __str__(self) -> str:
        return f"{self.stage}/{self.change}: {self.action}"
