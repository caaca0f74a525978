"""Finance: invoice requests (发票) and the price floors of the finance review (财审)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Product

from ..status import InvoiceState
from .orders import Order


class InvoiceKind(models.TextChoices):
    PLAIN = "plain", _("Plain VAT invoice")
    SPECIAL = "special", _("Special VAT invoice")
    ELECTRONIC = "electronic", _("E-invoice")


class InvoiceTitleType(models.TextChoices):
    PERSONAL = "personal", _("Personal")
    COMPANY = "company", _("Company")


class InvoiceRequest(models.Model):
    """A buyer's request for an invoice on an order: from the channel, the order page or the API."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="invoice_requests")
    kind = models.CharField(_("kind"), max_length=12, choices=InvoiceKind.choices)
    title_type = models.CharField(_("title type"), max_length=10, choices=InvoiceTitleType.choices)
    title = models.CharField(_("title"), max_length=200, help_text=_("The buyer's name or company name (抬头)."))
    tax_id = models.CharField(_("tax id"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    buyer_address = models.CharField(_("buyer's address"), max_length=255, blank=True)
    buyer_phone = models.CharField(_("buyer's phone"), max_length=32, blank=True)
    bank_name = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    state = models.CharField(_("state"), max_length=12, choices=InvoiceState.choices, default=InvoiceState.REQUESTED)
    source = models.CharField(_("source"), max_length=16, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=32, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reject_reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state__in=["requested", "issued"]),
                name="invoicerequest_one_open_per_order",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoicerequest_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.get_kind_display()} {self.title}"


class FinanceSettings(models.Model):
    """The finance review's global floor (one row, pk 1) and the version of all floors: every change of a floor
    bumps ``version``, and intake's cached floors (orders/rules/finance.py) are read again."""

    floor_share = models.DecimalField(
        _("floor (share of list price)"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("A line priced below this share of the product's list price is held for finance. Empty: off."),
    )
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "finance settings"
        permissions = [("finance_review", "Can approve or reject orders held for finance review")]

    def __str__(self) -> str:
        return "Finance settings"

    @classmethod
    def current(cls) -> "FinanceSettings":
        row, _created = cls.objects.get_or_create(pk=1)
        return row


class PriceFloor(models.Model):
    """A SKU's own floor: a price, or a share of its list price (``Product.price``); either overrides the global
    share."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="+")
    floor_price = models.DecimalField(
        _("floor price"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    floor_share = models.DecimalField(
        _("floor (share of list price)"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__sku"]

    def __str__(self) -> str:
        return f"{self.product.sku}: {self.floor_price or self.floor_share}"
