"""Customer notifications: an outbox of e-mails (and SMS) in the customer's language.

The API other apps call (keep it stable):

``notify(*, order, kind, context=None, channel="email", dedupe="") -> Notification``
    Queue one notice of a ``NotificationKind`` for an order. The message is rendered now, in the
    customer's language (``notification_language``), from ``orders/templates/orders/email/<kind>.html``
    and stored on the row, so the outbox preview shows exactly what is sent. The same
    (order, kind, channel, dedupe) is queued once: calling twice returns the first row.
    Opted-out addresses (optional kinds only) and orders without an address get a row with
    status ``suppressed``. A queued one gets its outbox row (kind ``notification``, oms/outbox/) in the
    same transaction; the outbox consumer sends it after commit.

``notification_enqueue(*, order, subject, body, reason="", user=None, channel="email", problem="") -> Notification``
    Free text written by staff or a playbook (``logistics.cases``): kind ``message``,
    queued once per (reason, subject, body).

One problem, one message: a notice about a problem carries a ``problem`` key (``problem_key(tracking
number, what)``: the tracking status of a problem scan, or ``late:<date>`` for a later expected date).
Notices with the same problem key share one dedupe key whatever their kind, so the automatic notice of a
problem scan and the exception playbook's proactive message about the same problem are queued once:
whichever comes first is the message, the second call returns it.

Suppressing: ``with suppressed():`` (or the setting ``OMS_NOTIFICATIONS_SUPPRESSED = True``) stops
order events from queuing notices and turns direct ``notify`` calls into ``suppressed`` rows (nothing
is sent). The demo seed writes its history inside it.

When notices are sent: ``TRIGGERS`` below is the one place. ``orders.services.order_event_record`` (and
``order_events_record``) write, in the event's own transaction, one outbox row per notice the event asks
for (orders/care/notification_outbox.py): order confirmed, label created → shipped, tracking → out for
delivery / problem / later expected date, order delivered, return steps, changes. Nothing is rendered or
sent inside the business transaction, and nothing from ``save()``.

Sending (orders/care/notification_outbox.py ``send_notices``, the outbox handler): a batch of rows is
rendered into ``Notification`` rows and sent over one mail connection (or the SMS adapter); sent /
failed is recorded on each notice. Transient errors (connection lost, timeouts, SMTP 4xx) retry the
outbox row with backoff; permanent ones (a refused address) make it dead at once. Dead rows are on the
Background work page with Retry; ``notification_resend`` (a person, after fixing the address) sends a
failed notice again.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import socket
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from oms.errors import DomainError
from oms.outbox import outbox_put, outbox_rearm

from ..models import Notification, NotificationChannel, NotificationKind, NotificationOptOut, NotificationStatus, Order
from ..status import NOTIFICATION_TRANSITIONS, EventKind, OrderStatus, notification_sources
from .tracking_links import tracking_url_for_order

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh-hans")
# Ship-to countries whose customers get Chinese when the customer has no language of their own.
CHINESE_COUNTRIES = frozenset({"CN", "TW", "HK", "MO"})
# Marketing-like notices a customer may opt out of; transactional ones are always sent.
OPTIONAL_KINDS = frozenset({NotificationKind.DELIVERED})
UNSUBSCRIBE_SALT = "oms.notifications.unsubscribe"
# Tracking statuses that mean "something went wrong" (logistics.status.TrackingStatus values).
PROBLEM_STATUSES = frozenset({"exception", "failed_attempt", "returning_to_sender", "returned_to_sender", "lost"})

Q_ = NotificationStatus


class TransientSendError(Exception):
    """Sending failed for a reason that may pass (the task retries with backoff)."""


# ---- the suppress switch ------------------------------------------------------------------------------

_suppressed: ContextVar[int] = ContextVar("oms_notifications_suppressed", default=0)
SUPPRESSED_ERROR = "Notifications were suppressed when this was queued (no message sent)."


def is_suppressed() -> bool:
    """True inside ``suppressed()`` or when the setting OMS_NOTIFICATIONS_SUPPRESSED is on."""
    return bool(_suppressed.get()) or bool(getattr(settings, "OMS_NOTIFICATIONS_SUPPRESSED", False))


@contextmanager
def suppressed():
    """No customer notices while the block runs (demo seeds, bulk back-fills, data repairs): order events
    queue nothing and ``notify`` records a ``suppressed`` row. Nests; other threads are not affected."""
    token = _suppressed.set(_suppressed.get() + 1)
    try:
        yield
    finally:
        _suppressed.reset(token)


# Scans that continue one problem: a parcel on its way back that arrives back is the same problem, one message.
SAME_PROBLEM = {"returned_to_sender": "returning_to_sender"}


def problem_key(tracking_number: str, problem: str) -> str:
    """The key of one problem of one parcel: 'TN:failed_attempt', 'TN:lost', 'TN:late:2026-11-25'."""
    return f"{tracking_number}:{SAME_PROBLEM.get(problem, problem)}"


# ---- language and addresses -------------------------------------------------------------------------


def notification_language(order: Order) -> str:
    """The customer's language if set, else Chinese for Chinese-speaking ship-to countries, else English."""
    language = getattr(order.customer, "language", "") if order.customer_id else ""
    if language in LANGUAGES:
        return language
    return "zh-hans" if (order.ship_country or "").upper() in CHINESE_COUNTRIES else "en"


def notification_address(order: Order, channel: str) -> str:
    """The order's own contact first; the customer's (a query, unless loaded) only when it has none."""
    own = order.ship_phone if channel == NotificationChannel.SMS else order.ship_email
    if own or not order.customer_id:
        return own
    return getattr(order.customer, "phone" if channel == NotificationChannel.SMS else "email", "") or ""


def unsubscribe_token(address: str) -> str:
    return signing.dumps({"a": address.strip().lower()}, salt=UNSUBSCRIBE_SALT, compress=True)


def address_from_unsubscribe_token(token: str) -> str | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return data.get("a") if isinstance(data, dict) else None


def unsubscribe_url(address: str) -> str:
    return settings.SITE_URL + reverse("notification_unsubscribe", args=[unsubscribe_token(address)])


@transaction.atomic
def notification_opt_out(*, address: str, source: str = "unsubscribe link") -> NotificationOptOut:
    """No more optional notices (delivered, survey) to this address; transactional ones still go."""
    address = address.strip().lower()
    if not address:
        raise DomainError(gettext("No address to unsubscribe."))
    row, _ = NotificationOptOut.objects.get_or_create(address=address, defaults={"source": source[:40]})
    return row


def is_opted_out(address: str) -> bool:
    return bool(address) and NotificationOptOut.objects.filter(address=address.strip().lower()).exists()


# ---- rendering ----------------------------------------------------------------------------------------


def base_context(order: Order, *, language: str) -> dict:
    """What every notice may use; plain JSON values (stored on the row)."""
    link = tracking_url_for_order(order.number) if order.number else ""
    parcels = list(
        order.shipments.filter(parcels__isnull=False)
        .values(
            "parcels__tracking_number",
            "parcels__expected_delivery",
            "parcels__service__carrier__name",
            "parcels__carrier_name",  # a carrier named by hand (a label made elsewhere)
        )
        .order_by("parcels__id")
    )
    expected = max((p["parcels__expected_delivery"] for p in parcels if p["parcels__expected_delivery"]), default=None)
    return {
        "number": order.number,
        "first_name": (order.ship_name or "").split(" ")[0],
        "shop": order.channel.name,
        "link": link,
        "expected": expected.isoformat() if expected else "",
        "parcels": [
            {
                "tracking_number": p["parcels__tracking_number"],
                "carrier": p["parcels__carrier_name"] or p["parcels__service__carrier__name"],
            }
            for p in parcels
        ],
        "items": [{"name": ln.name or ln.sku, "quantity": ln.quantity} for ln in order.lines.all()],
        "language": language,
    }


def render_notification(kind: str, language: str, context: dict, channel: str = NotificationChannel.EMAIL):
    """(subject, text, html) of a notice; one template per kind holds both languages."""
    template = f"orders/email/{kind}.html"
    ctx = {**context, "zh": language == "zh-hans", "language": language, "kind": kind}
    # The parcel the notice is about (its carrier is named in the shipped e-mail).
    tracking = context.get("tracking_number")
    ctx["parcel"] = next((p for p in context.get("parcels") or () if p.get("tracking_number") == tracking), None)
    with translation.override(language):
        subject = " ".join(render_to_string(template, {**ctx, "layout": "orders/email/_subject.txt"}).split())
        text = render_to_string(template, {**ctx, "layout": "orders/email/_layout.txt"}).strip() + "\n"
        html = render_to_string(template, {**ctx, "layout": "orders/email/_layout.html"})
    text = "\n".join(line.rstrip() for line in text.splitlines())
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    if channel == NotificationChannel.SMS:
        sms = f"{subject} {context.get('cta_url') or context.get('link', '')}".strip()
        return subject, sms, ""
    return subject[:200], text, html


def jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def notify(
    *,
    order: Order,
    kind: str,
    context: dict | None = None,
    channel: str = NotificationChannel.EMAIL,
    dedupe: str = "",
    problem: str = "",
) -> Notification:
    """Queue one notice for an order (see the module docstring). Returns the row, new or existing.

    With ``problem`` (a ``problem_key``) the notice is deduplicated against every notice of that problem,
    whatever its kind."""
    return notice_build(order=order, kind=kind, context=context, channel=channel, dedupe=dedupe, problem=problem)


def notice_key(order_id: int, kind: str, channel: str, dedupe: str = "", problem: str = "") -> str:
    """The dedupe key of a notice (the Notification's and its outbox row's): every notice of one problem
    shares one key whatever its kind."""
    key = f"{order_id}:problem:{channel}:{problem}" if problem else f"{order_id}:{kind}:{channel}:{dedupe}"
    if len(key) > 160:
        key = key[:120] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def notice_build(
    *, order: Order, kind: str, context: dict | None, channel: str, dedupe: str, problem: str, enqueue: bool = True
) -> Notification:
    """``notify``; with ``enqueue=False`` (the outbox handler, which sends it itself) no outbox row is written."""
    if kind not in NotificationKind.values:
        raise DomainError(gettext("Unknown notification kind '%(kind)s'.") % {"kind": kind})
    if channel not in NotificationChannel.values:
        raise DomainError(gettext("Unknown notification channel '%(channel)s'.") % {"channel": channel})
    key = notice_key(order.pk, kind, channel, dedupe, problem)
    existing = Notification.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return existing
    language = notification_language(order)
    to = notification_address(order, channel)
    ctx = {**base_context(order, language=language), **jsonable(context or {})}
    if problem:
        ctx["problem_key"] = problem
    optional = kind in OPTIONAL_KINDS
    if optional and to and channel == NotificationChannel.EMAIL:
        ctx["unsubscribe_url"] = unsubscribe_url(to)
    subject, text, html = render_notification(kind, language, ctx, channel)
    status, error = Q_.QUEUED, ""
    if is_suppressed():
        status, error = Q_.SUPPRESSED, SUPPRESSED_ERROR
    elif not to:
        status, error = Q_.SUPPRESSED, f"The order has no {NotificationChannel(channel).label.lower()} address."
    elif optional and is_opted_out(to):
        status, error = Q_.SUPPRESSED, "The customer opted out of optional messages."
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                order=order,
                customer_id=order.customer_id,
                kind=kind,
                channel=channel,
                language=language,
                to=to,
                subject=subject,
                body_text=text,
                body_html=html,
                status=status,
                last_error=error,
                dedupe_key=key,
                context=ctx,
            )
            if status == Q_.QUEUED and enqueue:
                _enqueue_send(notification)
    except IntegrityError:  # queued at the same moment by someone else
        return Notification.objects.get(dedupe_key=key)
    return notification


def notification_enqueue(
    *,
    order: Order,
    subject: str,
    body: str,
    reason: str = "",
    user=None,
    channel: str = NotificationChannel.EMAIL,
    problem: str = "",
) -> Notification:
    """Free text to the customer (staff, exception playbooks): kind ``message``, queued once per text, or
    once per ``problem`` (then the customer already told of that problem gets nothing more)."""
    if not subject.strip() or not body.strip():
        raise DomainError(gettext("A message needs a subject and a text."))
    digest = hashlib.sha256(f"{reason}\n{subject}\n{body}".encode()).hexdigest()[:16]
    return notify(
        order=order,
        kind=NotificationKind.MESSAGE,
        channel=channel,
        context={"subject": subject.strip(), "body": body.strip(), "reason": reason},
        dedupe=f"{reason[:40]}:{digest}",
        problem=problem,
    )


def problem_notice(order: Order, problem: str, channel: str = NotificationChannel.EMAIL) -> Notification | None:
    """The notice already queued (or suppressed) about this problem of the order, if any."""
    return Notification.objects.filter(dedupe_key=f"{order.pk}:problem:{channel}:{problem}").first()


OUTBOX_KIND = "notification"


def notice_destination(channel: str, address: str) -> str:
    return f"{channel}:{address.strip().lower()}"


def _enqueue_send(notification: Notification) -> None:
    """The notice's outbox row, in the current transaction (the consumer sends it after commit)."""
    outbox_put(
        kind=OUTBOX_KIND,
        destination=notice_destination(notification.channel, notification.to),
        key=notification.dedupe_key,
        payload={"notification": notification.pk},
        subject=f"order:{notification.order_id}" if notification.order_id else "",
    )


# ---- sending ------------------------------------------------------------------------------------------


class SmsAdapter(Protocol):
    """The SMS interface: send one text, return the provider's message id; raise TransientSendError
    for a failure worth retrying, any other exception for a permanent one."""

    def send(self, *, to: str, text: str) -> str: ...


class LogSmsAdapter:
    """The default: writes the SMS to the log (configure OMS_SMS_ADAPTER with a real provider)."""

    def send(self, *, to: str, text: str) -> str:
        log.info("SMS to %s: %s", to, text)
        return f"log-{timezone.now():%Y%m%d%H%M%S%f}"


class MemorySmsAdapter:
    """For tests: keeps what was sent in ``MemorySmsAdapter.outbox``."""

    outbox: list[dict] = []

    def send(self, *, to: str, text: str) -> str:
        MemorySmsAdapter.outbox.append({"to": to, "text": text})
        return f"mem-{len(MemorySmsAdapter.outbox)}"


def sms_adapter() -> SmsAdapter:
    return import_string(getattr(settings, "OMS_SMS_ADAPTER", "orders.care.notifications.LogSmsAdapter"))()


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, TransientSendError):
        return True
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, socket.gaierror):
        return True
    if isinstance(exc, smtplib.SMTPResponseException) and 400 <= exc.smtp_code < 500:
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    return False


def email_message(notification: Notification, connection=None) -> EmailMultiAlternatives:
    """The e-mail of a notice, as rendered when it was queued."""
    headers = {}
    unsubscribe = notification.context.get("unsubscribe_url")
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to],
        headers=headers,
        connection=connection,
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    return message


def notifications_move(ids, target: str, **fields) -> int:
    """The one door of ``Notification.status``: move the notices among ``ids`` that may go to ``target``
    (orders.status.NOTIFICATION_TRANSITIONS) in one UPDATE, with ``fields`` beside; returns how many moved.
    A notice in a status that may not go there is left as it is."""
    if target not in NOTIFICATION_TRANSITIONS:
        raise ValueError(f"Unknown notification status {target!r}.")
    return Notification.objects.filter(pk__in=list(ids), status__in=notification_sources(target)).update(
        status=target, **fields
    )


@transaction.atomic
def notification_resend(*, notification: Notification, user=None) -> Notification:
    """A person asks to send a failed notice again (also after a permanent error, e.g. a fixed address)."""
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status != Q_.FAILED:
        raise DomainError(
            gettext("Only a failed message can be sent again; this one is %(notification_status)s.")
            % {"notification_status": notification.get_status_display()}
        )
    if notification.order_id:
        notification.to = notification_address(notification.order, notification.channel) or notification.to
    notifications_move([notification.pk], Q_.QUEUED, to=notification.to, retryable=True)
    notification.refresh_from_db()
    if not outbox_rearm(kind=OUTBOX_KIND, key=notification.dedupe_key):
        _enqueue_send(notification)
    return notification


# ---- when notices are sent: the one place -------------------------------------------------------------


def triggered_notices(kind: str, data: dict) -> list[tuple[str, str, dict]]:
    """The notices an order event asks for: [(notification kind, dedupe, extra context)]."""
    if kind == EventKind.STATUS:
        if data.get("to") == OrderStatus.CONFIRMED:
            return [(NotificationKind.CONFIRMED, "", {"show_items": True})]
        if data.get("to") == OrderStatus.DELIVERED:
            return [(NotificationKind.DELIVERED, "", {})]
        return []
    if kind == EventKind.SHIPPED and data.get("tracking_number"):
        tn = data["tracking_number"]
        return [(NotificationKind.SHIPPED, tn, {"tracking_number": tn})]
    if kind == EventKind.TRACKING:
        tn = data.get("tracking_number", "")
        status = data.get("status")
        if status and not data.get("applied", True):
            return []  # a late or out-of-order scan moved nothing
        if status == "out_for_delivery":
            return [(NotificationKind.OUT_FOR_DELIVERY, tn, {"tracking_number": tn})]
        if status in PROBLEM_STATUSES:
            return [
                (
                    NotificationKind.EXCEPTION,
                    f"{tn}:{status}",
                    {"tracking_number": tn, "problem": status, "problem_key": problem_key(tn, status)},
                )
            ]
        new, previous = data.get("expected_delivery"), data.get("previous")
        if new and previous and new > previous and data.get("basis") not in ("delivered", "out_for_delivery"):
            return [
                (
                    NotificationKind.DELAYED,
                    f"{tn}:{new}",
                    {
                        "tracking_number": tn,
                        "expected": new,
                        "previous": previous,
                        "problem_key": problem_key(tn, f"late:{new}"),
                    },
                )
            ]
        return []
    if kind == EventKind.RETURN and data.get("return") and data.get("step"):
        return [
            (
                NotificationKind.RETURN,
                f"{data['return']}:{data['step']}",
                {
                    "return_number": data["return"],
                    "step": data["step"],
                    "exchange_order": data.get("exchange_order", ""),
                    "refund_amount": data.get("refund_amount", ""),
                },
            )
        ]
    # Changes and cancellation by stage (orders/rules/stages.py): the customer is told what changed.
    if kind == EventKind.CANCELLED:
        return [(NotificationKind.CANCELLED, "", {"reason_code": data.get("reason_code", "")})]
    if kind in (EventKind.CHANGED, EventKind.ADDRESS_CHANGED, EventKind.INTERCEPT):
        change = data.get("change") or "address"
        if kind == EventKind.INTERCEPT:
            change = f"intercept_{change}"
        digest = hashlib.sha256(repr(sorted((data.get("changes") or {}).items())).encode()).hexdigest()[:12]
        extra = {"change": change, "changes": data.get("changes", {})}
        return [(NotificationKind.CHANGED, f"{change}:{digest}", extra)]
    return []


# Kinds of order events that may trigger a notice: everything else is ignored without a query.
TRIGGERS = frozenset(
    {
        EventKind.STATUS,
        EventKind.SHIPPED,
        EventKind.TRACKING,
        EventKind.RETURN,
        EventKind.CANCELLED,
        EventKind.CHANGED,
        EventKind.ADDRESS_CHANGED,
        EventKind.INTERCEPT,
    }
)
# At most one "delayed" notice per order within this time, whatever the carrier's estimates do.
DELAYED_QUIET = timedelta(hours=48)
