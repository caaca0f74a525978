"""Sales channels, their SKU maps, and the stock figures published to them (orders/atp/)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Location, Product


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
    DOUDIAN = "doudian", _("抖店 (Douyin Shop)")


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
    # The newest stock ledger row (inventory.StockMovement id) whose product the on-change publishing has looked
    # at (orders/atp.py ``publish_changed_stock``): only products moved since are figured again.
    stock_movements_seen = models.BigIntegerField(default=0, editable=False)
    stock_feed_token = models.CharField(
        max_length=64, blank=True, help_text=_("Token for the JSON feed and CSV export (else the webhook secret).")
    )
    # 隐私面单: labels and packing slips show the recipient's name and phone masked (orders/privacy.py).
    mask_recipient = models.BooleanField(
        _("mask recipient on labels and packing slips"),
        default=False,
        help_text=_("Name and phone are printed masked (王*五, 136****6000); the address stays whole."),
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
    # 预售 on this channel's listing (orders/presale.py): before the product's own ship-from date, if both are set.
    presale_ship_from = models.DateField(
        null=True, blank=True, help_text=_("Presale on this channel: orders are promised and routed from this day.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel_id", "external_sku"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_sku"], name="channelsku_channel_external_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.channel.slug}:{self.external_sku} → {self.product.sku}"


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
