"""The order inbox: accepting is one INSERT, applying is a batch.

``accept_api_order`` is what ``POST /api/v1/orders/`` does in the request: it checks the body in
memory (JSON, the canonical shape, the models' limits, the channel from a per-process cache) and
stores it raw — one INSERT — with its outcome already known when it is refused or replays an order
that exists; an accepted message waits as ``received`` and a drain task is nudged after commit (at
most one per short window per process, ``oms.background.nudge``).

``apply_pending`` is the consumer: it takes up to ``limit`` waiting order messages (API bodies and
order webhooks; on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several workers share the work),
parses each, and creates the new orders per channel through the bulk path
(``orders.intake.bulk.create_batch``: the same checks, holds, classification, events and routing
announcement as every other intake, a handful of statements per batch). A channel's update of an
order that exists goes through the one-message path (``pipeline.inbound_process``) in a savepoint.
Outcomes are written back in one statement. Isolation is per message: a message that cannot be
parsed is rejected with its error, an order the bulk write refuses is retried alone inside
``create_batch``, and anything unforeseen sends the batch message by message through
``pipeline.inbound_process``, which gives every message its own outcome.
"""

import json
import logging
import time
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from oms.background import nudge
from oms.bulk import update_from_values
from oms.encoding import storable, storable_json
from oms.transient import is_transient

from ..models import Channel, InboundMessage, InboundStatus, Order
from . import bulk, order_in
from .canonical import CanonicalOrder, OrderRejected, check
from .pipeline import inbound_process
from .webhooks import PULLS, WEBHOOKS, source_adapter

logger = logging.getLogger(__name__)

APPLY_TASK = "orders.apply_inbox"
BATCH_LIMIT = 500
API_BATCH_MAX = 500  # orders per request on POST /api/v1/orders/batch/
CHANNEL_CACHE_SECONDS = 30.0

_channels: dict[str, tuple[float, Channel | None]] = {}


def channel_for_slug(slug: str) -> Channel | None:
    """The active channel with this slug, cached in this process for ``CHANNEL_CACHE_SECONDS`` and
    forgotten at once when a channel is saved here (``channels_forget``)."""
    now = time.monotonic()
    hit = _channels.get(slug)
    if hit is not None and hit[0] > now:
        return hit[1]
    channel = Channel.objects.filter(slug=slug, active=True).first()
    if len(_channels) > 1000:
        _channels.clear()
    _channels[slug] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel


def channels_forget(**kwargs) -> None:
    _channels.clear()


def order_sources() -> list[str]:
    """The inbound sources this inbox applies: API bodies, order webhooks and orders pulled by connectors."""
    return ["api", *(f"webhook:{platform}" for platform in WEBHOOKS), *(f"pull:{platform}" for platform in PULLS)]


@dataclass
class Accepted:
    """What the API answers for one order body."""

    status: str  # accepted, exists, rejected
    message: InboundMessage | None = None
    order: Order | None = None
    channel: Channel | None = None
    data: CanonicalOrder | None = None
    error: str = ""
    errors: list[dict] = field(default_factory=list)


def _parse_api(data, *, strict: bool = True) -> tuple[Channel, CanonicalOrder]:
    """A JSON value → (channel, checked canonical order); ValueError or OrderRejected otherwise (``strict``: a
    key the format does not know among the errors)."""
    if not isinstance(data, dict):
        raise ValueError("Body must be a JSON object.")
    slug, canonical = order_in.parse(data, strict=strict)
    check(canonical)
    channel = channel_for_slug(slug)
    if channel is None:
        raise UnknownChannel(slug)
    return channel, canonical


class UnknownChannel(Exception):
    def __init__(self, slug: str):
        self.slug = slug
        super().__init__(f"Unknown channel '{slug}'.")

    def errors(self) -> list[dict]:
        return [{"row": None, "field": "channel", "message": f"unknown channel '{self.slug}'."}]


def _message(*, body: bytes, user, channel=None, status=InboundStatus.RECEIVED, error="", result=None, now=None):
    message = InboundMessage(
        channel=channel,
        source="api",
        body=storable(body.decode("utf-8", errors="replace")),
        raw=body,
        headers={"Content-Type": "application/json"},
        status=status,
        error=storable(error),
        result=storable_json(result or {}),
        user=user if getattr(user, "pk", None) else None,
    )
    if status != InboundStatus.RECEIVED:
        message.processed_at = now or timezone.now()
        message.attempts = 1
    return message


def _judge(data, *, body: bytes, user) -> Accepted:
    """One order body, checked in memory; the message to store is attached but not saved."""
    try:
        channel, canonical = _parse_api(data)
    except ValueError as exc:
        return Accepted(
            "rejected", _message(body=body, user=user, status=InboundStatus.REJECTED, error=str(exc)), error=str(exc)
        )
    except UnknownChannel as exc:
        message = _message(
            body=body, user=user, status=InboundStatus.REJECTED, error=str(exc), result={"errors": exc.errors()}
        )
        return Accepted("rejected", message, error="The order was rejected.", errors=exc.errors())
    except OrderRejected as exc:
        errors = [e.as_dict() for e in exc.errors]
        message = _message(
            body=body, user=user, status=InboundStatus.REJECTED, error=str(exc), result={"errors": errors}
        )
        return Accepted("rejected", message, error="The order was rejected.", errors=errors)
    return Accepted("accepted", _message(body=body, user=user, channel=channel), channel=channel, data=canonical)


def _existing(channel: Channel, external_ids: list[str]) -> dict[str, Order]:
    """The orders of ``channel`` among ``external_ids``: one small indexed query (most often empty)."""
    table = connection.ops.quote_name(Order._meta.db_table)
    marks = ", ".join(["%s"] * len(external_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE channel_id = %s AND external_id IN ({marks})",  # noqa: S608 (names from the model)
            [channel.pk, *external_ids],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if not ids:
        return {}
    return {o.external_id: o for o in Order.objects.filter(pk__in=ids).select_related("channel")}


def accept_api_order(*, body: bytes, user) -> Accepted:
    """Check one API order body and store it: one INSERT (plus one SELECT for a replay)."""
    try:
        data = json.loads(body.decode("utf-8-sig") or "null")
    except ValueError as exc:  # not UTF-8, not JSON, a number too long to read
        data = ValueError(f"Body is not valid JSON: {exc}")
    except RecursionError:
        data = ValueError("Body is not usable JSON: it is nested too deeply.")
    if isinstance(data, ValueError):
        verdict = Accepted(
            "rejected", _message(body=body, user=user, status=InboundStatus.REJECTED, error=str(data)), error=str(data)
        )
    else:
        verdict = _judge(data, body=body, user=user)
    return _store([verdict])[0]


def refuse_api_body(*, body: bytes, user, error: str, errors: list[dict] | None = None) -> Accepted:
    """A request body refused as a whole (a batch that is not a list of orders, too many orders): stored as
    one rejected message with its error, so even a refused request has a row and an outcome."""
    result = {"errors": errors} if errors else None
    message = _message(body=body, user=user, status=InboundStatus.REJECTED, error=error, result=result)
    return _store([Accepted("rejected", message, error=error, errors=errors or [])])[0]


def accept_api_orders(*, items: list, bodies: list[bytes], user) -> list[Accepted]:
    """Up to API_BATCH_MAX order objects from one request: each judged alone, all stored in one INSERT."""
    return _store([_judge(data, body=raw, user=user) for data, raw in zip(items, bodies, strict=True)])


def _store(verdicts: list[Accepted]) -> list[Accepted]:
    now = timezone.now()
    by_channel: dict[int, list[Accepted]] = {}
    for verdict in verdicts:
        if verdict.status == "accepted":
            by_channel.setdefault(verdict.channel.pk, []).append(verdict)
    for accepted in by_channel.values():
        found = _existing(accepted[0].channel, [v.data.external_id for v in accepted])
        for verdict in accepted:
            order = found.get(verdict.data.external_id)
            if order is not None:  # a replay of an order that exists: answered at once, nothing to apply
                verdict.status, verdict.order = "exists", order
                verdict.message.status = InboundStatus.PROCESSED
                verdict.message.result = {"order": order.number, "created": False}
                verdict.message.processed_at, verdict.message.attempts = now, 1
    insert_messages([v.message for v in verdicts])
    if any(v.status == "accepted" for v in verdicts):
        nudge(APPLY_TASK)
    return verdicts


_INSERT_FIELDS = (
    "channel_id",
    "source",
    "headers",
    "body",
    "raw",
    "filename",
    "received_at",
    "status",
    "error",
    "result",
    "processed_at",
    "attempts",
    "user_id",
)


def insert_messages(messages: list[InboundMessage]) -> None:
    """INSERT the messages in one statement and set their ids: the ORM's save() costs more than the
    statement itself on the hot path of intake."""
    now = timezone.now()
    fields = [InboundMessage._meta.get_field(name) for name in _INSERT_FIELDS]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    rows, params = [], []
    for message in messages:
        message.received_at = now
        rows.append("(" + ", ".join(["%s"] * len(fields)) + ")")
        params += [f.get_db_prep_save(getattr(message, f.attname), connection) for f in fields]
    table = connection.ops.quote_name(InboundMessage._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join(rows)} RETURNING id"  # noqa: S608 (names from the model)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    for message, pk in zip(messages, ids, strict=True):
        message.pk = pk
        message._state.adding = False


# --- the consumer ---------------------------------------------------------------------------


@dataclass
class _Plan:
    creates: dict[tuple, list[tuple[int, CanonicalOrder]]] = field(default_factory=dict)
    one_by_one: list[int] = field(default_factory=list)
    outcomes: dict[int, tuple[str, str, dict]] = field(default_factory=dict)
    pending_ids: set[tuple[int, str]] = field(default_factory=set)


def apply_pending(*, limit: int = BATCH_LIMIT, ids: list[int] | None = None) -> int:
    """Apply up to ``limit`` waiting order messages in one transaction; returns how many were taken.

    A transient database error rolls the batch back and propagates (the task retries it); any other
    error sends the batch message by message through ``pipeline.inbound_process``.
    """
    try:
        with transaction.atomic():
            messages = _claim(limit, ids)
            if not messages:
                return 0
            return _apply(messages)
    except Exception as exc:
        if is_transient(exc):
            raise
        logger.exception("order inbox batch failed; applying its messages one by one")
    taken = 0
    for pk in _waiting(limit, ids).values_list("pk", flat=True):
        inbound_process(pk)
        taken += 1
    return taken


def _waiting(limit: int, ids: list[int] | None):
    queryset = InboundMessage.objects.filter(status=InboundStatus.RECEIVED, attempts=0, source__in=order_sources())
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.order_by("pk")[:limit]


def _claim(limit: int, ids: list[int] | None) -> list[InboundMessage]:
    queryset = _waiting(limit, ids)
    if connection.vendor == "postgresql":
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset.select_related("channel"))


def _apply(messages: list[InboundMessage]) -> int:
    plan = _Plan()
    taken = []
    for message in messages:
        if not _plan_one(message, plan):
            break  # an update of an order this batch creates: it waits for the next batch, in order
        taken.append(message)
    for (channel_id, source, user_id), items in plan.creates.items():
        channel = next(m.channel for m in taken if m.channel_id == channel_id)
        user = next((m.user for m in taken if m.user_id == user_id), None) if user_id else None
        results = bulk.create_batch(channel=channel, items=items, source=source, user=user, notify=True)
        data_by_id = dict(items)
        numbers = _numbers(channel, results, data_by_id)
        for outcome in results:
            plan.outcomes[outcome.row] = _outcome_of(outcome, numbers.get(data_by_id[outcome.row].external_id, ""))
    if plan.one_by_one:
        for pk in plan.one_by_one:
            with transaction.atomic():
                inbound_process(pk)
        # A channel's update of an existing order is handed to workflows.apply_channel_update (by name), which
        # records the outcome; until then it stays "received" with a try counted, so no batch takes it again
        # (the background sweep sends it again if that task is lost).
        InboundMessage.objects.filter(pk__in=plan.one_by_one, status=InboundStatus.RECEIVED).update(
            attempts=F("attempts") + 1
        )
    rows = [
        (m.pk, status, storable(error), storable_json(result))
        for m in taken
        if m.pk in plan.outcomes
        for status, error, result in [plan.outcomes[m.pk]]
    ]
    update_from_values(
        InboundMessage,
        ("status", "error", "result"),
        rows,
        same={"processed_at": timezone.now()},
        increment=("attempts",),
    )
    return len(taken)


def _numbers(channel, results: list, data_by_id: dict) -> dict[str, str]:
    """external id → order number for the duplicates of orders that exist (one query, only if any)."""
    wanted = [data_by_id[o.row].external_id for o in results if o.status == "duplicate" and not o.errors]
    if not wanted:
        return {}
    return dict(Order.objects.filter(channel=channel, external_id__in=wanted).values_list("external_id", "number"))


def _outcome_of(outcome: bulk.Outcome, number: str) -> tuple[str, str, dict]:
    errors = [e.as_dict() for e in outcome.errors]
    if outcome.status == "created":
        return InboundStatus.PROCESSED, "", {"order": outcome.number or number, "created": True}
    if outcome.status == "duplicate" and not errors:
        return InboundStatus.PROCESSED, "", {"order": number, "created": False}
    text = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "rejected"
    return InboundStatus.REJECTED, f"The order was rejected: {text}", {"errors": errors}


def _plan_one(message: InboundMessage, plan: _Plan) -> bool:
    """Sort one message into the plan; False when it must wait for the next batch."""
    body = message.payload
    if message.source == "api":
        try:
            # Judged whole when it was accepted; a message accepted before unknown keys were refused keeps its 202.
            channel, data = _parse_api(json.loads(body.decode("utf-8-sig") or "null"), strict=False)
        except (ValueError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            plan.outcomes[message.pk] = (InboundStatus.REJECTED, f"not JSON: {reason}", {})
            return True
        except OrderRejected as exc:
            plan.outcomes[message.pk] = _rejected(exc)
            return True
        except UnknownChannel as exc:
            plan.outcomes[message.pk] = (InboundStatus.REJECTED, str(exc), {"errors": exc.errors()})
            return True
        message.channel = channel
        _plan_create(message, data, plan, source="api")
        return True
    adapter = source_adapter(message.source)
    if message.channel is None:
        plan.outcomes[message.pk] = (InboundStatus.FAILED, "The message has no channel.", {})
        return True
    topic = adapter.topic(message.headers, body)
    if topic == "ping":
        plan.outcomes[message.pk] = (InboundStatus.PROCESSED, "", {"ping": True})
        return True
    if not topic:
        plan.outcomes[message.pk] = (InboundStatus.PROCESSED, "", {"ignored": "topic"})
        return True
    try:
        data = adapter.parse(body)
    except OrderRejected as exc:
        plan.outcomes[message.pk] = _rejected(exc)
        return True
    if topic == "update":
        if (message.channel_id, data.external_id) in plan.pending_ids:
            return False
        if Order.objects.filter(channel_id=message.channel_id, external_id=data.external_id).exists():
            plan.one_by_one.append(message.pk)
            return True
    _plan_create(message, data, plan, source=message.source)
    return True


def _plan_create(message: InboundMessage, data: CanonicalOrder, plan: _Plan, *, source: str) -> None:
    plan.pending_ids.add((message.channel_id, data.external_id))
    plan.creates.setdefault((message.channel_id, source, message.user_id), []).append((message.pk, data))


def _rejected(exc: OrderRejected) -> tuple[str, str, dict]:
    return InboundStatus.REJECTED, str(exc), {"errors": [e.as_dict() for e in exc.errors]}


def apply_all(*, budget_seconds: float = 20.0) -> int:
    """Drain the inbox in batches for up to ``budget_seconds``; nudges another drain if work is left."""
    start = time.monotonic()
    total = 0
    while True:
        taken = apply_pending()
        total += taken
        if not taken:  # a batch may stop early (an update waits for its order's creation): go on until none
            return total
        if time.monotonic() - start > budget_seconds:
            nudge(APPLY_TASK)
            return total
