"""Customer notifications through the outbox (oms/outbox/): what an order event writes, and the handler
that renders and sends notices in batches.

- ``notice_messages(events)``: the outbox rows the events ask for (``notifications.TRIGGERS`` /
  ``triggered_notices`` decide), unsaved; ``orders.services.order_event_record`` and ``order_events_record``
  write them in the event's own transaction (one INSERT for a batch). Nothing is rendered there: the row
  holds what to render (order, notice kind, dedupe, extra context) under the notice's dedupe key, so one
  problem is one row and one message, whoever asks first (``notifications.notice_key``).
- ``send_notices(rows)``: the handler of kind ``notification``. Each row becomes its ``Notification``
  (rendered now, in the customer's language; the rules that depend on the moment — a delay notice at most
  once in 48 hours, "delivered" only to a delivered order, opt-outs — are applied here), then every e-mail
  of the batch goes over ONE connection (``get_connection()`` + ``send_messages``) and SMS through the
  adapter. A transient error (connection lost, SMTP 4xx) retries the row with backoff; a refused address is
  dead at once (the page and the message's own page show it, with a retry).
"""

from __future__ import annotations

import logging

from django.core.mail import get_connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from oms import outbox
from oms.models import OutboxMessage
from oms.wording import known

from ..models import (
    Customer,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Order,
    OrderEvent,
)
from ..status import OrderStatus
from . import notifications

# The outbox reasons written below (the Background work page reads them in the reader's language).
known(
    gettext_noop("The notice of this row no longer exists."),
    gettext_noop("The order no longer exists."),
    gettext_noop("A delay notice went to this customer within the last 48 hours."),
    gettext_noop("The order is no longer delivered."),
    gettext_noop("Suppressed."),
)

log = logging.getLogger(__name__)

KIND = notifications.OUTBOX_KIND
Q_ = NotificationStatus


# ---- writing: order events ask for notices ------------------------------------------------------------


def _customers_loaded(orders: list[Order]) -> None:
    """Load the customers (their e-mail is the fallback address) of a batch's orders in one query."""
    missing = [o for o in orders if o.customer_id and not Order.customer.is_cached(o)]
    if not missing:
        return
    customers = Customer.objects.in_bulk({o.customer_id for o in missing})
    for order in missing:
        order.customer = customers.get(order.customer_id)


def notice_messages(events: list[OrderEvent]) -> list[OutboxMessage]:
    """The unsaved outbox rows of the notices ``events`` ask for (none inside ``suppressed()``)."""
    wanted = [e for e in events if e.kind in notifications.TRIGGERS]
    if not wanted or notifications.is_suppressed():
        return []
    notices = [(e, n) for e in wanted for n in notifications.triggered_notices(e.kind, e.data or {})]
    channel = NotificationChannel.EMAIL
    # The customer's e-mail is the fallback address: load the ones needed in one query.
    _customers_loaded([e.order for e, _ in notices if not e.order.ship_email])
    rows = []
    for event, (notice_kind, dedupe, extra) in notices:
        order = event.order
        problem = extra.get("problem_key", "")
        address = notifications.notification_address(order, channel)
        rows.append(
            outbox.outbox_message(
                kind=KIND,
                destination=notifications.notice_destination(channel, address),
                key=notifications.notice_key(order.pk, notice_kind, channel, dedupe, problem),
                payload={
                    "order": order.pk,
                    "event": event.pk,
                    "notice": notice_kind,
                    "dedupe": dedupe,
                    "extra": notifications.jsonable(extra),
                    "channel": channel,
                },
                subject=f"order:{order.pk}",
            )
        )
    return rows


# ---- sending: the handler -----------------------------------------------------------------------------


def _recently_told_of_delay(order: Order) -> bool:
    late_problem = Q(dedupe_key__startswith=f"{order.pk}:problem:", dedupe_key__contains=":late:")
    return order.notifications.filter(
        Q(kind=NotificationKind.DELAYED) | late_problem,
        created_at__gte=timezone.now() - notifications.DELAYED_QUIET,
    ).exists()


def _notification_of(
    row: OutboxMessage, existing: dict[str, Notification], orders: dict
) -> Notification | outbox.Outcome:
    """The notice a row sends: the one already queued under its key, or rendered now from the payload."""
    if row.key in existing:
        return existing[row.key]
    payload = row.payload or {}
    if "notice" not in payload:
        return outbox.dead("The notice of this row no longer exists.")
    order = orders.get(payload.get("order"))
    if order is None:
        return outbox.skipped("The order no longer exists.")
    kind = payload["notice"]
    if kind == NotificationKind.DELAYED and _recently_told_of_delay(order):
        return outbox.skipped("A delay notice went to this customer within the last 48 hours.")
    if kind == NotificationKind.DELIVERED and order.status != OrderStatus.DELIVERED:
        return outbox.skipped("The order is no longer delivered.")
    extra = payload.get("extra") or {}
    return notifications.notice_build(
        order=order,
        kind=kind,
        context=extra,
        channel=payload.get("channel", NotificationChannel.EMAIL),
        dedupe=payload.get("dedupe", ""),
        problem=extra.get("problem_key", ""),
        enqueue=False,
    )


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _deliver(pending: list[tuple[OutboxMessage, Notification]]) -> dict[int, BaseException | None]:
    """Send the notices; {notification id: None when sent, else the error}. E-mails share one connection."""
    results: dict[int, BaseException | None] = {}
    emails = [n for _row, n in pending if n.channel != NotificationChannel.SMS]
    if emails:
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
        except Exception as exc:  # noqa: BLE001 (the server is down: every e-mail of the batch waits)
            results.update({n.pk: exc for n in emails})
        else:
            try:
                for n in emails:
                    try:
                        connection.send_messages([notifications.email_message(n, connection)])
                        results[n.pk] = None
                    except Exception as exc:  # noqa: BLE001 (recorded per notice)
                        results[n.pk] = exc
            finally:
                try:
                    connection.close()
                except Exception:  # noqa: BLE001
                    log.warning("could not close the mail connection", exc_info=True)
    for _row, n in pending:
        if n.channel == NotificationChannel.SMS:
            try:
                notifications.sms_adapter().send(to=n.to, text=n.body_text)
                results[n.pk] = None
            except Exception as exc:  # noqa: BLE001 (recorded per notice)
                results[n.pk] = exc
    return results


def send_notices(rows: list[OutboxMessage]) -> dict[int, outbox.Outcome]:
    """The outbox handler of customer notices (see the module doc)."""
    outcomes: dict[int, outbox.Outcome] = {}
    pending: list[tuple[OutboxMessage, Notification]] = []
    existing = {n.dedupe_key: n for n in Notification.objects.filter(dedupe_key__in=[r.key for r in rows])}
    order_ids = {r.payload.get("order") for r in rows if r.key not in existing and "notice" in (r.payload or {})}
    orders = Order.objects.select_related("customer", "channel").in_bulk([i for i in order_ids if i])
    for row in rows:
        try:
            notice = _notification_of(row, existing, orders)
        except Exception as exc:  # noqa: BLE001 (one bad row must not stop the batch)
            log.exception("could not prepare the notice of outbox row %s", row.pk)
            outcomes[row.pk] = outbox.retry(_error(exc))
            continue
        if isinstance(notice, outbox.Outcome):
            outcomes[row.pk] = notice
        elif notice.status == Q_.SENT:
            outcomes[row.pk] = outbox.sent()  # an earlier try sent it
        elif notice.status == Q_.SUPPRESSED:
            outcomes[row.pk] = outbox.skipped(notice.last_error or "Suppressed.")
        else:
            pending.append((row, notice))
    if not pending:
        return outcomes
    now = timezone.now()
    notifications.notifications_move(
        [n.pk for _r, n in pending], Q_.SENDING, attempts=F("attempts") + 1, last_attempt_at=now
    )
    results = _deliver(pending)
    sent_ids = [n.pk for _r, n in pending if results.get(n.pk) is None]
    if sent_ids:
        notifications.notifications_move(sent_ids, Q_.SENT, sent_at=timezone.now(), last_error="")
    last_try = outbox.max_attempts()
    for row, n in pending:
        exc = results.get(n.pk)
        if exc is None:
            outcomes[row.pk] = outbox.sent()
            continue
        transient = notifications.is_transient(exc)
        error = _error(exc)
        notifications.notifications_move(
            [n.pk], Q_.FAILED, last_error=error, retryable=transient and row.attempts < last_try
        )
        log.warning("notice %s failed (%s): %s", n.pk, "transient" if transient else "permanent", error)
        outcomes[row.pk] = outbox.retry(error) if transient else outbox.dead(error)
    return outcomes


def register() -> None:
    outbox.register_outbox_handler(KIND, send_notices)
