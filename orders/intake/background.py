"""Intake that a lost task left unfinished (oms/background.py probes, registered in apps.py): inbound
messages still without an outcome. (Customer notices are outbox rows: oms/outbox/dead_letters.py has their probe.)

Which task applies a stored message depends on its source: orders' own sources go to
``orders.process_inbound``; an app above registers its sources' task by name (logistics: tracking
pushes), so the sweep and the intake monitor's Retry reach it without importing it.
"""

from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from oms.background import Probe, StuckItem, register_probe, register_subject, send, stuck_items

from ..models import InboundMessage, InboundStatus, Order
from ..wording import source_label

RESEND_LIMIT = 2000
_source_tasks: dict[str, str] = {}


def register_source_task(sources, task_name: str) -> None:
    """Messages from ``sources`` (e.g. ``webhook:easypost``) are applied by the task ``task_name(message_id)``."""
    for source in sources:
        _source_tasks[source] = task_name


def task_for_source(source: str) -> str:
    return _source_tasks.get(source, "orders.process_inbound")


def inbound_send(message_id: int, source: str) -> None:
    """Queue the task that applies a stored message (by name, after commit when in a transaction)."""
    send(task_for_source(source), args=[message_id])


def _unfinished(cutoff: datetime):
    return InboundMessage.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=cutoff).order_by("received_at")


def _find_inbound(cutoff: datetime, limit: int) -> tuple[int, list[StuckItem]]:
    return stuck_items(
        _unfinished(cutoff),
        limit,
        ("pk", "source", "received_at"),
        lambda pk, source, at: StuckItem(
            f"#{pk} {source_label(source)}", at, reverse("orders:inbound_detail", args=[pk])
        ),
    )


def _resend_inbound(cutoff: datetime) -> int:
    rows = list(_unfinished(cutoff).values_list("pk", "source")[:RESEND_LIMIT])
    for pk, source in rows:
        inbound_send(pk, source)
    return len(rows)


def _order_subject(ident: str) -> tuple[str, str]:
    number = Order.objects.filter(pk=ident).values_list("number", flat=True).first() if ident.isdigit() else None
    if number is None:
        return gettext("order %(id)s") % {"id": ident}, ""
    return number, reverse("orders:order_detail", args=[number])


def register() -> None:
    register_subject("order", _order_subject)
    register_probe(
        Probe(
            key="inbound_without_outcome",
            label=_("Inbound messages without an outcome"),
            help=_("Stored orders, webhooks and tracking pushes that were never applied. The sweep applies them."),
            find=_find_inbound,
            resend=_resend_inbound,
        )
    )
