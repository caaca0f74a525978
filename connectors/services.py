"""The connectors' writes: saving a connection, pulling orders into the inbox, and the outbox handlers that
confirm shipments and push stock through each platform's adapter (connectors/base.py).

Every call of a platform happens outside a business transaction (in the outbox consumer or the pull task);
what it changed here is written after it answered. A connector error becomes an outbox outcome:
``RetryLater`` -> retry after the platform's time, ``Transient`` -> retry after the backoff, ``Refused`` and
``Rejected`` -> dead with the platform's message (Background work and the channel's sync page list it with
Retry).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import connection as db
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from logistics.channel_notices import CHANNEL_SHIPMENT
from oms import outbox, statements
from oms.background import nudge
from oms.errors import DomainError
from oms.models import OutboxMessage, OutboxStatus
from oms.transient import is_transient
from oms.wording import known, msg
from orders import atp
from orders.channel_notices import CHANNEL_CANCEL, CHANNEL_LINES_CANCEL
from orders.intake.inbox import APPLY_TASK, insert_messages
from orders.models import Channel, ChannelSku, InboundMessage, InboundStatus

from . import words
from .base import ConnectorError, NotSupported, Pending, PersonMustAct, Refused, Rejected, RetryLater, adapter_for
from .models import ChannelConnection, RemoteShipment

# The outbox reasons written below (the Background work page reads them in the reader's language; a vendor's
# own error text is shown as the vendor wrote it).
known(
    gettext_noop("The channel has no connection: nothing is sent back."),
    gettext_noop("Shipment confirmations are off for this channel."),
    gettext_noop("No connector confirms shipments to %(platform)s."),
    gettext_noop("A later notice of this shipment was sent already."),
    gettext_noop("Cancellation notices are off for this channel."),
    gettext_noop("No connector sends %(what)s to %(platform)s."),
    gettext_noop("cancellations"),
    gettext_noop("cancelled lines"),
)

MAX_PULL_PAGES = 20
NOTE_FRESH = timedelta(seconds=2)  # the sync page's "last confirmation" may be this much behind while all goes well
SYNC_KINDS = (CHANNEL_SHIPMENT, atp.STOCK_PUSH, CHANNEL_CANCEL, CHANNEL_LINES_CANCEL)


# ---- the connection ---------------------------------------------------------------------------------------


@transaction.atomic
def connection_save(*, channel: Channel, data: dict, secret: str = "") -> ChannelConnection:
    """Create or change a channel's connection. ``secret`` (the access token) replaces the stored one when
    given; empty keeps it (the form never shows it back)."""
    if adapter_for(channel.platform) is None:
        raise DomainError(
            gettext("No connector speaks %(channel_platform)s yet.")
            % {"channel_platform": channel.get_platform_display()}
        )
    connection = ChannelConnection.objects.select_for_update().filter(channel=channel).first()
    if connection is None:
        connection = ChannelConnection(channel=channel)
    for name, value in data.items():
        setattr(connection, name, value)
    credentials = dict(connection.credentials or {})
    if secret:
        problem = adapter_for(channel.platform).check_secret(secret)
        if problem:
            raise DomainError(problem)
        credentials["access_token"] = secret
    connection.credentials = credentials
    try:
        connection.full_clean()
    except ValidationError as exc:
        raise DomainError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
    connection.save()
    return connection


def connection_of(channel_id) -> ChannelConnection | None:
    return ChannelConnection.objects.select_related("channel").filter(channel_id=channel_id).first()


def _note(connection: ChannelConnection, verb: str, error: str = "", *, ok: bool | None = None) -> None:
    """Record a verb's last try (and last success) on the connection; a plain UPDATE, no lock. ``ok`` (default:
    no error) says whether something succeeded in this try."""
    now = timezone.now()
    fields = {f"last_{verb}_at": now, f"last_{verb}_error": error[:2000]}
    if (not error) if ok is None else ok:
        fields[f"last_{verb}_ok_at"] = now
    ChannelConnection.objects.filter(pk=connection.pk).update(**fields)


def _confirmed_lately(connection: ChannelConnection) -> bool:
    """The connection as this batch read it says a confirmation succeeded within ``NOTE_FRESH``, without an error
    since: a round that only succeeded again leaves it (no UPDATE per round while confirmations stream)."""
    ok_at = connection.last_confirm_ok_at
    return (
        ok_at is not None
        and not connection.last_confirm_error
        and connection.last_confirm_at == ok_at
        and ok_at > timezone.now() - NOTE_FRESH
    )


def _outcome(exc: ConnectorError) -> outbox.Outcome:
    if isinstance(exc, PersonMustAct):
        return outbox.dead(str(exc))  # the msgid itself: the sync page shows it translated
    error = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, Pending):
        return outbox.retry(error)
    if isinstance(exc, RetryLater):
        return outbox.retry(error, after_seconds=exc.after_seconds)
    if isinstance(exc, Refused | Rejected | NotSupported):
        return outbox.dead(error)
    return outbox.retry(error)


# ---- confirm shipment: the handler of channel.shipment rows --------------------------------------------------


@dataclass
class _Batch:
    """What one batch of notices reads once and writes once: the connections, what the platforms hold."""

    connections: dict[int, ChannelConnection]
    remotes: dict[tuple[int, int], RemoteShipment]
    changed: dict[tuple[int, int], RemoteShipment] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)  # connection id -> the batch's last error
    sent: set[int] = field(default_factory=set)  # connection ids with a success in this batch

    @classmethod
    def load(cls, rows: list[OutboxMessage]) -> _Batch:
        channel_ids = {r.payload.get("channel") for r in rows if isinstance(r.payload, dict)}
        shipment_ids = {r.payload.get("shipment") for r in rows if isinstance(r.payload, dict)}
        found = ChannelConnection.objects.select_related("channel").filter(channel_id__in=channel_ids)
        if db.vendor == "postgresql":  # one prepared statement: each connection with what it holds of these shipments
            connections = {c.channel_id: c for c in _connections_holding(channel_ids, shipment_ids)}
            return cls(connections, {(c.pk, r.shipment_id): r for c in connections.values() for r in _remotes(c)})
        connections = {c.channel_id: c for c in found}
        remotes = {
            (r.connection_id, r.shipment_id): r
            for r in RemoteShipment.objects.filter(
                connection_id__in=[c.pk for c in connections.values()], shipment_id__in=shipment_ids
            )
        }
        return cls(connections, remotes)


REMOTE_FIELDS = ("id", "shipment_id", "remote_id", "tracking_numbers", "version", "cancelled")


@lru_cache(maxsize=1)
def _holding_sql() -> str:
    """PostgreSQL: the connections of some channels with their channel (as ``select_related``) and, as one JSON
    array, their RemoteShipment rows of some shipments. Its text never changes, so it is prepared once per
    database connection instead of compiled by the ORM every round."""
    quote = db.ops.quote_name
    mine, channel = ChannelConnection._meta, Channel._meta
    remote = RemoteShipment._meta
    held = ", ".join(f"'{name}', r.{quote(remote.get_field(name).column)}" for name in REMOTE_FIELDS)
    columns = ", ".join(
        [f"c.{quote(f.column)}" for f in mine.concrete_fields]
        + [f"ch.{quote(f.column)}" for f in channel.concrete_fields]
    )
    on_connection, on_shipment = (quote(remote.get_field(n).column) for n in ("connection", "shipment"))
    channel_column = quote(mine.get_field("channel").column)
    return (
        f"SELECT {columns}, (SELECT jsonb_agg(jsonb_build_object({held})) "  # noqa: S608 (names from the models)
        f"FROM {quote(remote.db_table)} AS r WHERE r.{on_connection} = c.{quote(mine.pk.column)} "
        f"AND r.{on_shipment} = ANY(%b::bigint[])) FROM {quote(mine.db_table)} AS c JOIN {quote(channel.db_table)} "
        f"AS ch ON ch.{quote(channel.pk.column)} = c.{channel_column} WHERE c.{channel_column} = ANY(%b::bigint[])"
    )


def _instance(model, fields, values):
    """A model instance from raw column values, each converted as the ORM converts it (``from_db_value``)."""
    converted = []
    for f, value in zip(fields, values, strict=True):
        for convert in f.get_db_converters(db):
            value = convert(value, f, db)
        converted.append(value)
    return model.from_db(db.alias, [f.attname for f in fields], converted)


def _connections_holding(channel_ids, shipment_ids) -> list[ChannelConnection]:
    """PostgreSQL: the connections of ``channel_ids``, their channels loaded, each with ``held`` (its
    RemoteShipment rows of ``shipment_ids`` as JSON objects, or None), in one prepared statement."""
    mine = list(ChannelConnection._meta.concrete_fields)
    theirs = list(Channel._meta.concrete_fields)
    channels = [int(i) for i in channel_ids if isinstance(i, int)]
    shipments = [int(i) for i in shipment_ids if isinstance(i, int)]
    if not channels:
        return []
    with statements.cursor() as c:
        c.execute(_holding_sql(), [shipments, channels])
        fetched = c.fetchall()
    found = []
    for values in fetched:
        connection = _instance(ChannelConnection, mine, values[: len(mine)])
        connection.channel = _instance(Channel, theirs, values[len(mine) : len(mine) + len(theirs)])
        held = values[-1]
        connection.held = json.loads(held) if isinstance(held, str | bytes) else held
        found.append(connection)
    return found


def _remotes(connection: ChannelConnection) -> list[RemoteShipment]:
    remotes = []
    for item in connection.held or []:
        remote = RemoteShipment(connection=connection, **{name: item[name] for name in REMOTE_FIELDS})
        remote._state.adding, remote._state.db = False, db.alias
        remotes.append(remote)
    return remotes


@dataclass
class _Item:
    """A row that will be sent: its notice, what the platform holds of its shipment (``remote``), its key."""

    row: OutboxMessage
    notice: dict
    remote: RemoteShipment | None
    key: tuple[int, int]
    version: int


def _prepare(row: OutboxMessage, batch: _Batch) -> outbox.Outcome | _Item:
    """The row's outcome when nothing is sent for it, else what to send."""
    notice = row.payload or {}
    connection = batch.connections.get(notice.get("channel"))
    if connection is None:
        return outbox.skipped("The channel has no connection: nothing is sent back.")
    if not (connection.active and connection.confirm_shipments):
        return outbox.skipped("Shipment confirmations are off for this channel.")
    adapter = adapter_for(connection.platform)
    if adapter is None or not adapter.supports("confirm_shipment"):
        return outbox.skipped(f"No connector confirms shipments to {connection.channel.get_platform_display()}.")
    key = (connection.pk, notice.get("shipment"))
    version = int(notice.get("version") or 0)
    remote = batch.remotes.get(key)
    if remote is not None and remote.version >= version:
        return outbox.skipped("A later notice of this shipment was sent already.")
    return _Item(row, notice, remote if remote and remote.remote_id else None, key, version)


def _send(connection: ChannelConnection, items: list[_Item], batch: _Batch) -> dict[int, outbox.Outcome]:
    """One connection's items through its adapter's ``confirm_shipments`` (one call for all); each item's outcome,
    what the platform now holds recorded in ``batch``."""
    try:
        results = adapter_for(connection.platform).confirm_shipments(
            connection, [(item.notice, item.remote) for item in items]
        )
        if len(results) != len(items):
            raise RuntimeError(f"confirm_shipments answered {len(results)} results for {len(items)} notices")
    except ConnectorError as exc:  # the adapter failed the whole batch alike
        results = [exc] * len(items)
    outcomes: dict[int, outbox.Outcome] = {}
    for item, result in zip(items, results, strict=True):
        if isinstance(result, ConnectorError):
            batch.errors[connection.pk] = f"{item.notice.get('shipment_number')}: {result}"
            outcomes[item.row.pk] = _outcome(result)
            continue
        record = RemoteShipment(
            connection=connection,
            shipment_id=item.notice.get("shipment"),
            remote_id=result.remote_id,
            tracking_numbers=list(item.notice.get("tracking_numbers") or []),
            version=item.version,
            cancelled=result.action == "cancelled",
        )
        batch.remotes[item.key] = batch.changed[item.key] = record
        batch.sent.add(connection.pk)
        outcomes[item.row.pk] = outbox.sent()
    return outcomes


def remember_confirmations(records: list[RemoteShipment]) -> None:
    """What the platforms now hold for the shipments (their ids, the numbers, the notices' versions): one
    INSERT ... ON CONFLICT DO UPDATE for the batch (on PostgreSQL one prepared statement, no transaction around
    it). Lost (a worker killed before this), the next try finds the platform's record by its tracking numbers
    (the adapters' confirm_shipment)."""
    if not records:
        return
    if db.vendor != "postgresql":
        RemoteShipment.objects.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["connection", "shipment"],
            update_fields=["remote_id", "tracking_numbers", "version", "cancelled", "updated_at"],
        )
        return
    now = timezone.now()
    rows = [
        (r.connection_id, r.shipment_id, r.remote_id, json.dumps(r.tracking_numbers or []), r.version, r.cancelled)
        for r in records
    ]
    with statements.cursor() as c:
        c.execute(_remember_sql(), [*([list(col) for col in zip(*rows, strict=True)]), now])


@lru_cache(maxsize=1)
def _remember_sql() -> str:
    table = RemoteShipment._meta.db_table
    return (
        f"INSERT INTO {table} (connection_id, shipment_id, remote_id, tracking_numbers, version, cancelled, "  # noqa: S608
        "created_at, updated_at) SELECT v.c, v.s, v.r, v.t::jsonb, v.v, v.x, n.at, n.at "
        "FROM unnest(%b::bigint[], %b::bigint[], %b::text[], %b::text[], %b::bigint[], %b::boolean[]) "
        "AS v(c, s, r, t, v, x), (SELECT %b::timestamptz AS at) AS n "
        f"{statements.async_commit_where()} "
        "ON CONFLICT (connection_id, shipment_id) DO UPDATE SET remote_id = EXCLUDED.remote_id, "
        "tracking_numbers = EXCLUDED.tracking_numbers, version = EXCLUDED.version, cancelled = EXCLUDED.cancelled, "
        "updated_at = EXCLUDED.updated_at"
    )


def send_shipment_notices(rows: list[OutboxMessage]) -> dict[int, outbox.Outcome]:
    """The outbox handler of ``channel.shipment`` rows, in the order they were written: one read of the
    connections and of what the platforms hold, the calls (the rows of one connection together, through its
    adapter's ``confirm_shipments``: Shopify confirms them with one read and one document), one write of what
    they now hold. A second notice of a shipment in the same batch waits until the first one's answer is in."""
    rows = sorted(rows, key=lambda r: (r.payload.get("version") or 0, r.pk))
    batch = _Batch.load(rows)
    outcomes: dict[int, outbox.Outcome] = {}
    pending: dict[int, list[_Item]] = {}  # connection id -> items to send together

    def flush(connection_id: int) -> None:
        items = pending.pop(connection_id, [])
        if not items:
            return
        connection = batch.connections[items[0].notice.get("channel")]
        try:
            outcomes.update(_send(connection, items, batch))
        except Exception as exc:  # noqa: BLE001 (a broken batch is retried; the other connections go on)
            if is_transient(exc):
                raise
            for item in items:
                outcomes[item.row.pk] = outbox.retry(f"{type(exc).__name__}: {exc}")

    try:
        for row in rows:
            try:
                prepared = _prepare(row, batch)
            except Exception as exc:  # noqa: BLE001 (one broken row is retried alone; the batch goes on)
                if is_transient(exc):
                    raise
                outcomes[row.pk] = outbox.retry(f"{type(exc).__name__}: {exc}")
                continue
            if not isinstance(prepared, _Item):
                outcomes[row.pk] = prepared
                continue
            waiting = pending.get(prepared.key[0], [])
            if any(item.key == prepared.key for item in waiting):  # a later notice of a shipment in this batch
                flush(prepared.key[0])
                prepared = _prepare(row, batch)  # against what the first notice left
                if not isinstance(prepared, _Item):
                    outcomes[row.pk] = prepared
                    continue
            pending.setdefault(prepared.key[0], []).append(prepared)
        for connection_id in list(pending):
            flush(connection_id)
    finally:
        remember_confirmations(list(batch.changed.values()))
        for connection in batch.connections.values():
            if connection.pk in batch.errors:
                _note(connection, "confirm", batch.errors[connection.pk], ok=connection.pk in batch.sent)
            elif connection.pk in batch.sent and not _confirmed_lately(connection):
                _note(connection, "confirm")
    return outcomes


# ---- cancellation notices: the handlers of channel.cancel and channel.lines_cancel rows ---------------------

_NOTICE_VERBS = {
    CHANNEL_CANCEL: ("cancel_notice", "cancellations"),
    CHANNEL_LINES_CANCEL: ("lines_cancel_notice", "cancelled lines"),
}


def _notice_one(row: OutboxMessage, connections: dict[int, ChannelConnection]) -> outbox.Outcome:
    notice = {**(row.payload or {}), "key": row.key}
    verb, what = _NOTICE_VERBS[row.kind]
    connection = connections.get(notice.get("channel"))
    if connection is None:
        return outbox.skipped("The channel has no connection: nothing is sent back.")
    if not (connection.active and connection.cancel_notices):
        return outbox.skipped("Cancellation notices are off for this channel.")
    adapter = adapter_for(connection.platform)
    if adapter is None or not adapter.supports(verb):
        return outbox.skipped(f"No connector sends {what} to {connection.channel.get_platform_display()}.")
    try:
        getattr(adapter, verb)(connection, notice=notice)
    except ConnectorError as exc:
        return _outcome(exc)
    return outbox.sent()


def send_cancel_notices(rows: list[OutboxMessage]) -> dict[int, outbox.Outcome]:
    """The outbox handler of ``channel.cancel`` rows (orders/channel_notices.py): each cancelled order told
    to its platform once (an order the platform shows cancelled already counts as told), and of
    ``channel.lines_cancel`` rows (a partial cancellation: the lines and quantities, once)."""
    channel_ids = {r.payload.get("channel") for r in rows if isinstance(r.payload, dict)}
    connections = {
        c.channel_id: c for c in ChannelConnection.objects.select_related("channel").filter(channel_id__in=channel_ids)
    }
    outcomes: dict[int, outbox.Outcome] = {}
    for row in rows:
        try:
            outcomes[row.pk] = _notice_one(row, connections)
        except Exception as exc:  # noqa: BLE001 (one broken row is retried alone; the batch goes on)
            if is_transient(exc):
                raise
            outcomes[row.pk] = outbox.retry(f"{type(exc).__name__}: {exc}")
    return outcomes


# ---- push stock: the pusher orders/atp.py calls for connected channels -------------------------------------


def push_stock(channel: Channel, figures: list[dict]) -> bool:
    """Set ``figures`` (our SKUs) on the channel's platform; False when the channel is not connected for stock.
    The channel's own SKU is used where the SKU map has one."""
    connection = connection_of(channel.pk)
    if connection is None or not (connection.active and connection.push_stock):
        return False
    adapter = adapter_for(connection.platform)
    if adapter is None or not adapter.supports("push_stock"):
        return False
    theirs = dict(
        ChannelSku.objects.filter(channel=channel, product__sku__in=[f["sku"] for f in figures])
        .order_by("external_sku")
        .values_list("product__sku", "external_sku")
    )
    mapped = [{"sku": theirs.get(f["sku"], f["sku"]), "quantity": f["quantity"]} for f in figures]
    try:
        result = adapter.push_stock(connection, figures=mapped)
    except ConnectorError as exc:
        _note(connection, "push", str(exc))
        if isinstance(exc, RetryLater):
            raise atp.PushRetryAfter(str(exc), exc.after_seconds) from None
        if isinstance(exc, Refused | Rejected | NotSupported):
            raise atp.PushRefused(str(exc)) from None
        raise atp.PushFailed(str(exc)) from None
    unknown = msg(words.NOT_ON_PLATFORM, skus=", ".join(result.unknown_skus[:20])) if result.unknown_skus else ""
    refused = msg(words.PUSH_REFUSED, errors="; ".join(result.errors[:20])) if result.errors else ""
    _note(connection, "push", words.NOTE_SEPARATOR.join(p for p in (unknown, refused) if p))
    return True


# ---- pull orders into the order inbox ------------------------------------------------------------------------


def connection_pull(*, connection_id: int, max_pages: int = MAX_PULL_PAGES) -> int:
    """Pull the orders updated since the connection's cursor into the order inbox (source ``pull:<platform>``),
    page by page; each page's messages and the cursor move in one transaction. Returns how many were stored.
    An order already stored at the cursor's very time is not stored again; any other replay is harmless (the
    inbox applies a known order as an update that changes nothing)."""
    connection = ChannelConnection.objects.select_related("channel").get(pk=connection_id)
    if not (connection.active and connection.pull_orders and connection.channel.active):
        return 0
    adapter = adapter_for(connection.platform)
    if adapter is None or not adapter.supports("pull_orders"):
        return 0
    start, page, stored = connection.pull_cursor, "", 0
    try:
        for _page in range(max_pages):
            result = adapter.pull_orders(connection, cursor=start, page=page)
            stored += _store_page(connection, result)
            if not result.has_next or not result.next_page:
                break
            page = result.next_page
    except ConnectorError as exc:
        _note(connection, "pull", str(exc))
        ChannelConnection.objects.filter(pk=connection.pk).update(last_pull_count=stored)
        return stored
    _note(connection, "pull")
    ChannelConnection.objects.filter(pk=connection.pk).update(last_pull_count=stored)
    return stored


def _store_page(connection: ChannelConnection, result) -> int:
    with transaction.atomic():
        current = ChannelConnection.objects.select_for_update().get(pk=connection.pk)
        seen = set(current.pull_cursor_ids or []) if current.pull_cursor else set()
        cursor = current.pull_cursor
        messages = []
        stamps = result.stamps or [(str(o.get("id") or ""), str(o.get("updatedAt") or "")) for o in result.orders]
        for order, (oid, updated) in zip(result.orders, stamps, strict=True):
            if updated == cursor and oid in seen:
                continue
            body = json.dumps(order, ensure_ascii=False, sort_keys=True).encode()
            messages.append(
                InboundMessage(
                    channel=connection.channel,
                    source=f"pull:{connection.platform}",
                    body=body.decode(),
                    raw=body,
                    headers={"X-OMS-Pulled-Updated-At": updated},
                    status=InboundStatus.RECEIVED,
                )
            )
            if updated > cursor:
                cursor, seen = updated, set()
            if updated == cursor:
                seen.add(oid)
        if messages:
            insert_messages(messages)
            nudge(APPLY_TASK)
        ChannelConnection.objects.filter(pk=connection.pk).update(pull_cursor=cursor, pull_cursor_ids=sorted(seen))
        connection.pull_cursor, connection.pull_cursor_ids = cursor, sorted(seen)
    return len(messages)


def pull_due_connections() -> list[int]:
    """The connections the scheduled pull asks."""
    return list(
        ChannelConnection.objects.filter(active=True, pull_orders=True, channel__active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# ---- the sync page's actions -------------------------------------------------------------------------------


def sync_retry(*, channel: Channel, ids=None) -> int:
    """Send this channel's dead or retrying confirmations, stock pushes and cancellation notices again now (all,
    or ``ids``)."""
    rows = OutboxMessage.objects.filter(
        kind__in=SYNC_KINDS,
        destination=f"channel:{channel.slug}",
        status__in=[OutboxStatus.DEAD, OutboxStatus.PENDING],
    )
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return outbox.outbox_retry(ids=list(rows.values_list("pk", flat=True)))
