"""Customer notifications (the outbox's messages to customers) and opt-outs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..status import NotificationStatus
from .customers import Customer
from .orders import Order


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


class Notification(models.Model):
    """One message to a customer: rendered when queued, sent by the outbox consumer
    (orders/care/notification_outbox.py)."""

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
