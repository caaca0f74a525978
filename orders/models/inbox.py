"""Raw inbound messages (the inbox): every API call, webhook body and file, stored before it is parsed."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .channels import Channel


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
        # The sweep's question (orders/intake/background.py): messages still without an outcome, oldest first.
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
