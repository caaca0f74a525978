"""Inbound messages for orders: store raw → verify → process (in a task) → outcome on the row.

``webhook_receive`` stores a channel's webhook before anything parses it and checks its
signature; ``inbound_process`` parses and applies a stored message — a webhook, an API body or
a file — and is what the task and the intake monitor's Retry button run. Running it again is
harmless: channel + external id is unique and updates compare before they change anything.
"""

import json
import logging
from pathlib import Path

from oms.background import send
from oms.transient import is_transient

from .. import services
from ..models import Channel, InboundMessage, InboundStatus, Order
from . import order_in
from .canonical import OrderRejected
from .importer import FORMATS, ImportReport, import_file
from .signing import SignatureInvalid
from .webhooks import WEBHOOKS, source_adapter

logger = logging.getLogger(__name__)

SKIP_HEADERS = {"cookie", "authorization"}


def webhook_receive(*, channel: Channel, body: bytes, headers: dict) -> tuple[InboundMessage, bool]:
    """Store the webhook, then check its signature. Returns (message, accepted)."""
    headers = {k: v for k, v in headers.items() if k.lower() not in SKIP_HEADERS}
    message = services.inbound_store(source=f"webhook:{channel.platform}", channel=channel, body=body, headers=headers)
    adapter = WEBHOOKS.get(channel.platform)
    if adapter is None:
        services.inbound_record_outcome(
            message,
            status=InboundStatus.REJECTED,
            error=f"{channel.name} ({channel.platform}) takes no order webhooks.",
        )
        return message, False
    try:
        adapter.verify_signature(body, headers, channel.webhook_secret)
    except SignatureInvalid as exc:
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Signature invalid: {exc}")
        return message, False
    return message, True


def inbound_process(message_id: int, *, retry: bool = False, apply_update=None) -> InboundMessage:
    """Process a stored message; a processed one is left alone unless it is a retry.

    A channel's update of an order we already have may cancel or re-route it, which is cross-app work:
    without ``apply_update`` the message is handed to the task ``workflows.apply_channel_update`` (by name),
    which calls this again with ``apply_update=workflows.channel.order_apply_channel_update``."""
    message = InboundMessage.objects.select_related("channel").get(pk=message_id)
    if message.status == InboundStatus.PROCESSED and not retry:
        return message
    if message.status == InboundStatus.REJECTED and message.error.startswith("Signature invalid") and not retry:
        return message
    kind, _, name = message.source.partition(":")
    try:
        if kind in ("webhook", "pull") and source_adapter(message.source) is not None:
            _process_webhook(message, source_adapter(message.source), apply_update=apply_update, retry=retry)
        elif kind == "api":
            _process_api(message)
        elif kind == "file" and name in FORMATS and message.channel is not None:
            import_file(
                path=Path(message.filename), fmt=name, channel=message.channel, report=ImportReport(), message=message
            )
        else:
            services.inbound_record_outcome(
                message, status=InboundStatus.FAILED, error=f"Nothing can re-run a '{message.source}' message."
            )
    except Exception as exc:  # noqa: BLE001 (every message ends with an outcome; a transient error is retried)
        if is_transient(exc):
            raise
        logger.exception("inbound message %s failed", message_id)
        message.refresh_from_db()
        if message.status != InboundStatus.PROCESSED:
            services.inbound_record_outcome(
                message, status=InboundStatus.FAILED, error=f"Failed while applying: {type(exc).__name__}: {exc}"[:2000]
            )
    message.refresh_from_db()
    return message


def _process_webhook(message: InboundMessage, adapter, *, apply_update=None, retry: bool = False) -> None:
    body = message.payload  # the exact bytes received: the signature covers them, not the text shown
    channel = message.channel
    if channel is None:
        services.inbound_record_outcome(message, status=InboundStatus.FAILED, error="The message has no channel.")
        return
    try:
        adapter.verify_signature(body, message.headers, channel.webhook_secret)
    except SignatureInvalid as exc:
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Signature invalid: {exc}")
        return
    topic = adapter.topic(message.headers, body)
    if topic == "ping":
        services.inbound_record_outcome(message, status=InboundStatus.PROCESSED, result={"ping": True})
        return
    if not topic:
        services.inbound_record_outcome(message, status=InboundStatus.PROCESSED, result={"ignored": "topic"})
        return
    try:
        data = adapter.parse(body)
    except OrderRejected as exc:
        services.inbound_record_outcome(
            message, status=InboundStatus.REJECTED, error=str(exc), result={"errors": [e.as_dict() for e in exc.errors]}
        )
        return
    existing = Order.objects.filter(channel=channel, external_id=data.external_id).first()
    if existing is not None and topic == "update":
        if apply_update is None:  # the outcome is recorded by the workflow's task (the message stays received)
            send("workflows.apply_channel_update", args=[message.pk], kwargs={"retry": retry})
            return
        try:
            outcome = apply_update(order=existing, data=data, source=message.source)
        except OrderRejected as exc:
            services.inbound_record_outcome(
                message,
                status=InboundStatus.REJECTED,
                error=str(exc),
                result={"errors": [e.as_dict() for e in exc.errors]},
            )
            return
        result = {"order": existing.number, "created": False, **outcome}
        if outcome["attention"]:
            services.inbound_record_outcome(
                message, status=InboundStatus.PARTIAL, error=outcome["attention"], result=result
            )
        else:
            services.inbound_record_outcome(message, status=InboundStatus.PROCESSED, result=result)
        return
    try:
        services.order_create(channel=channel, data=data, source=message.source, inbound=message)
    except OrderRejected:
        return  # order_create recorded the rejection on the message


def _process_api(message: InboundMessage) -> None:
    try:
        data = json.loads(message.payload.decode("utf-8-sig"))
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        slug, data = order_in.parse(data)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"not JSON: {reason}")
        return
    except OrderRejected as exc:
        services.inbound_record_outcome(
            message, status=InboundStatus.REJECTED, error=str(exc), result={"errors": [e.as_dict() for e in exc.errors]}
        )
        return
    channel = Channel.objects.filter(slug=slug, active=True).first()
    if channel is None:
        services.inbound_record_outcome(message, status=InboundStatus.REJECTED, error=f"Unknown channel '{slug}'.")
        return
    try:
        services.order_create(channel=channel, data=data, source="api", inbound=message)
    except OrderRejected:
        return
