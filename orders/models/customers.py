"""Customers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Customer(models.Model):
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    # The language of e-mails and SMS (en, zh-hans); empty: from the ship-to country (orders/care/notifications.py).
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Review holds (orders/rules/review.py): a business customer's open orders may not pass its credit limit.
    is_business = models.BooleanField(default=False)
    credit_limit = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text=_("Business customers; empty: no limit.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
