"""One-time codes for the public tracking page: who looked an order up with its number and the phone's last
four digits (or the e-mail) may view it; to change it (address, cancellation, return, rating) they need the
signed link we e-mailed, or a code we send now to the order's e-mail (else its phone).

A code is 6 digits, valid ``CODE_MINUTES``, ``MAX_TRIES`` wrong entries kill it, at most ``MAX_CODES`` are
sent per order in ``CODE_WINDOW``; a new code replaces the previous one. Only a keyed hash (HMAC with the
SECRET_KEY) is stored. The message goes through orders.care.notifications as a transactional notice, so it is
sent even to an address that opted out of optional messages. A correct code lets this browser session
change the order for ``VERIFIED_MINUTES``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext

from oms.errors import DomainError
from orders.care.notifications import notification_address, notify
from orders.models import NotificationChannel, NotificationKind, Order
from orders.services import order_lock

from .models import TrackingAccessCode

CODE_MINUTES = 10
MAX_TRIES = 5
MAX_CODES = 3
CODE_WINDOW = timedelta(minutes=15)
VERIFIED_MINUTES = 30
SALT = "oms.tracking-access-code"


def _hash(order_id: int, code: str) -> str:
    return salted_hmac(SALT, f"{order_id}:{code}", algorithm="sha256").hexdigest()


def code_channel(order: Order) -> str | None:
    """Where a code for this order goes: its e-mail, else its phone; None when it has neither."""
    for channel in (NotificationChannel.EMAIL, NotificationChannel.SMS):
        if notification_address(order, channel):
            return channel
    return None


class TooManyCodes(DomainError):
    pass


@transaction.atomic
def access_code_issue(*, order: Order, now: datetime | None = None) -> TrackingAccessCode:
    """Make a new code for the order and queue the message that carries it. Refused (DomainError) when the
    order has no e-mail or phone, or MAX_CODES were sent within CODE_WINDOW."""
    now = now or timezone.now()
    order = order_lock(order.pk)  # one issuer at a time per order: the count below stays true
    channel = code_channel(order)
    if channel is None:
        raise DomainError(gettext("This order has no e-mail address or phone number to send a code to."))
    recent = TrackingAccessCode.objects.filter(order=order, created_at__gte=now - CODE_WINDOW).count()
    if recent >= MAX_CODES:
        raise TooManyCodes(gettext("Too many codes were sent for this order. Please wait a few minutes."))
    # A new code replaces any earlier one still valid.
    TrackingAccessCode.objects.filter(order=order, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = TrackingAccessCode.objects.create(
        order=order,
        code_hash=_hash(order.pk, code),
        channel=channel,
        created_at=now,
        expires_at=now + timedelta(minutes=CODE_MINUTES),
    )
    notify(
        order=order,
        kind=NotificationKind.CODE,
        channel=channel,
        context={"code": code, "minutes": CODE_MINUTES},
        dedupe=f"code:{row.pk}",
    )
    return row


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    reason: str = ""  # "", "wrong", "expired" (none valid: ask for a new one), "too_many"


def access_code_check(*, order: Order, code: str, now: datetime | None = None) -> CodeCheck:
    """Check a code entered on the page against the order's current code. A wrong entry counts against
    MAX_TRIES (and is committed); a right one uses the code up."""
    now = now or timezone.now()
    entered = "".join(str(code or "").split())
    with transaction.atomic():
        order_lock(order.pk)
        row = (
            TrackingAccessCode.objects.select_for_update()
            .filter(order=order, used_at__isnull=True, expires_at__gt=now)
            .order_by("-id")
            .first()
        )
        if row is None:
            return CodeCheck(False, "expired")
        if row.attempts >= MAX_TRIES:
            return CodeCheck(False, "too_many")
        right = len(entered) == 6 and entered.isascii() and entered.isdigit()
        right = right and constant_time_compare(row.code_hash, _hash(order.pk, entered))
        if not right:
            row.attempts += 1
            row.save(update_fields=["attempts"])
            return CodeCheck(False, "too_many" if row.attempts >= MAX_TRIES else "wrong")
        row.used_at = now
        row.save(update_fields=["used_at"])
        return CodeCheck(True)


# ---- the browser session that entered a right code ----------------------------------------------------


def _session_key(order: Order) -> str:
    return f"oms-track-verified:{order.pk}"


def session_verify(request, order: Order, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    request.session[_session_key(order)] = (now + timedelta(minutes=VERIFIED_MINUTES)).timestamp()


def session_is_verified(request, order: Order, *, now: datetime | None = None) -> bool:
    until = request.session.get(_session_key(order)) if hasattr(request, "session") else None
    if not isinstance(until, int | float):
        return False
    return (now or timezone.now()).timestamp() < until
