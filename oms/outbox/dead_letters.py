"""The dead letter: what a person sees and does (retry, re-arm, dismiss, the counts), and the sweep's probe."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Case, Count, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import background
from ..models import OutboxMessage, OutboxStatus
from .door import outbox_move
from .registry import TASK
from .writing import outbox_key, outbox_nudge

# ---- the dead letter: what a person sees and does -----------------------------------------------------


def outbox_due(now: datetime | None = None):
    return OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now or timezone.now())


@transaction.atomic
def outbox_retry(*, ids: Iterable[int]) -> int:
    """Send dead (or retrying, or dismissed) rows again now, with a full set of tries."""
    count = outbox_move(
        ids,
        OutboxStatus.PENDING,
        among=(OutboxStatus.DEAD, OutboxStatus.PENDING, OutboxStatus.DISMISSED),
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    if count:
        outbox_nudge()
    return count


@transaction.atomic
def outbox_rearm(*, kind: str, key: str) -> int:
    """Send the row of (kind, key) again whatever became of it (a person fixed the address and asks again)."""
    ids = OutboxMessage.objects.filter(kind=kind, key=outbox_key(key)).values_list("pk", flat=True)
    count = outbox_move(ids, OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), sent_at=None)
    if count:
        outbox_nudge()
    return count


@transaction.atomic
def outbox_dismiss(*, ids: Iterable[int]) -> int:
    """A person decides dead or retrying rows will not be sent; they stay as history."""
    return outbox_move(ids, OutboxStatus.DISMISSED)


def outbox_counts() -> list[dict]:
    """[{kind, pending, retrying, sent, skipped, dead, dismissed}] for the Background work page."""
    table: dict[str, dict] = {}
    for kind, status, failing, n in (
        OutboxMessage.objects.annotate(failing=Case(When(attempts__gt=0, then=Value(True)), default=Value(False)))
        .values_list("kind", "status", "failing")
        .annotate(n=Count("pk"))
        .order_by("kind")
    ):
        row = table.setdefault(kind, {"kind": kind, **{s: 0 for s in (*OutboxStatus.values, "retrying")}})
        name = "retrying" if status == OutboxStatus.PENDING and failing else status
        row[name] += n
    return list(table.values())


def outbox_problems(limit: int = 100) -> list[OutboxMessage]:
    """Dead rows, and pending rows that failed at least once (retrying), the dead first."""
    dead_rows = list(OutboxMessage.objects.filter(status=OutboxStatus.DEAD).order_by("-next_attempt_at", "-pk")[:limit])
    retrying = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, attempts__gt=0)
        .exclude(last_error="")
        .order_by("next_attempt_at", "pk")[: max(0, limit - len(dead_rows))]
    )
    return dead_rows + retrying


# ---- the sweep's probe --------------------------------------------------------------------------------


def _find_unsent(cutoff: datetime, limit: int):
    return background.stuck_items(
        outbox_due(cutoff).order_by("next_attempt_at", "pk"),
        limit,
        ("pk", "kind", "destination", "next_attempt_at", "last_error"),
        lambda pk, kind, destination, at, error: background.StuckItem(f"#{pk} {kind} → {destination}", at, "", error),
    )


def _resend_unsent(cutoff: datetime) -> int:
    """Every minute: rows past their retry time (and rows whose nudge was lost) go to the consumer."""
    due = outbox_due().count()
    if due:
        background.send(TASK)
    return due


def register_probe() -> None:
    background.register_probe(
        background.Probe(
            key="outbox_unsent",
            label=_("Outbox messages not sent"),
            help=_("E-mails and stock pushes that should have gone out and did not. The sweep sends them."),
            find=_find_unsent,
            resend=_resend_unsent,
        )
    )
