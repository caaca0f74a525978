"""The feature steps of the bulk intake path (``bulk.create_batch``) that only some batches need: gifts
(赠品), presale days, invoice requests, auto-merge (自动合单); the batch's caches of values many orders
share (``memo``, ``Words``); and the plain SQL helpers the batch writes with (``copy_rows`` streams rows
into a COPY, ``among`` asks for rows among a batch's values). Each step costs nothing
for a batch it does not apply to: no gift rule active, no order asking for an invoice, no order
confirmed, merging switched off; the timeline rows these steps ask for are written by ``bulk`` with the
order's other events.
"""

import json
from contextlib import contextmanager

from django.db import connection
from django.db.models import Q

from oms.wording import event_words

from .. import services
from ..models import InvoiceRequest
from ..rules.gifts import GiftInput, current_gift_rules, gift_plan
from ..services.presale import presale_dates
from ..status import InvoiceState
from .bulk_keys import checked_copy


def batch_gifts(channel, fresh, customers, products, now) -> list[list]:
    """赠品 for the whole batch: the gift decisions of each order (in ``fresh`` order). One rule query,
    and no per-order work at all when no gift rule is active."""
    rules = current_gift_rules()
    if not rules:
        return [[] for _ in fresh]
    return gift_plan(
        [
            GiftInput(
                channel_id=channel.pk,
                customer_id=customer.pk if customer is not None else None,
                placed_at=d.placed_at or now,
                lines=[(products.get(ln.sku), ln.sku, ln.quantity, ln.unit_price, ln.gift) for ln in d.lines],
            )
            if not d.cancelled_reason
            else GiftInput(channel_id=channel.pk, customer_id=None, placed_at=now, lines=[])
            for (_, d), customer in zip(fresh, customers, strict=True)
        ],
        rules=rules,
        now=now,
    )


def batch_presale_days(channel, products) -> dict:
    """The presale day of each SKU of the batch (``services.presale.presale_dates``: one query)."""
    return presale_dates(channel, products)


def invoice_row(pk: int, data, source: str) -> dict:
    """The InvoiceRequest columns of an order that asks for an invoice (a cancelled one: cancelled)."""
    state = InvoiceState.CANCELLED if data.cancelled_reason else InvoiceState.REQUESTED
    return services.invoice_row(pk, data.invoice, source=source, state=state)


def write_invoices(invoices: list[dict], now) -> None:
    """The batch's invoice requests in one write (nothing when no order asked for one)."""
    if invoices:
        names = (*invoices[0], "created_at", "updated_at")
        insert_rows(InvoiceRequest, names, [(*row.values(), now, now) for row in invoices])


def auto_merge(confirmed: list[int], user) -> None:
    """自动合单 of the batch's confirmed orders, before routing (a settings read; a few queries when on)."""
    if confirmed:
        services.orders_auto_merge(order_ids=confirmed, user=user)


def memo(make):
    """``make(key)``, made once per key."""
    made: dict = {}

    def get(key):
        try:
            return made[key]
        except KeyError:
            value = made[key] = make(key)
            return value

    return get


class Words:
    """``event_words(message)``, one dict per message object (a message several orders share is one
    object: its words are one dict, written once). Holds the messages, so an id is never reused."""

    def __init__(self):
        self.made: dict[int, tuple] = {}

    def __call__(self, message) -> dict:
        got = self.made.get(id(message))
        if got is None:
            got = self.made[id(message)] = (message, event_words(message))
        return got[1]


def insert_rows(model, attnames: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows given as tuples of ``attnames``: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(attnames, values, strict=True))) for values in rows])
        return
    # The rows' foreign keys checked together after the COPY where that is as strong as a trigger per row.
    with checked_copy(model, attnames, rows), copy_rows(model, attnames) as write:
        for values in rows:
            write(values)


@contextmanager
def stream_rows(model, attnames: tuple[str, ...], rows: list[tuple]):
    """``insert_rows`` for rows written as the caller makes them: ``write(values)`` for each, every one of them also
    in ``rows`` by the time the block ends (their foreign keys are checked then, as ``insert_rows`` checks them)."""
    with checked_copy(model, attnames, rows), copy_rows(model, attnames) as write:
        yield write


@contextmanager
def copy_rows(model, attnames: tuple[str, ...]):
    """PostgreSQL: ``write(values)`` for rows given as tuples of ``attnames``, streamed into one COPY as
    they are written (the server stores the first rows while the caller still works out the next ones);
    the COPY ends when the block does (an exception in the block fails it, and its transaction)."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    # Columns the caller leaves out get the model's default, as an ORM insert would (the database
    # has no defaults of its own: a NOT NULL column left out of the COPY would be NULL).
    defaults = [
        (name, f.get_default())
        for name, f in fields.items()
        if name not in attnames and not f.primary_key and f.get_default() is not None
    ]
    tail = tuple(value for _, value in defaults)
    attnames = attnames + tuple(name for name, _ in defaults)
    columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in attnames)
    json_at = [i for i, name in enumerate(attnames) if fields[name].get_internal_type() == "JSONField"]
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        write_row = copy.write_row
        if not json_at:
            if tail:
                yield lambda values: write_row(values + tail)
            else:
                yield write_row
            return
        # One object in several rows (a batch's shared event data or words) is dumped once: kept here
        # with its text, so its id names that object for as long as the COPY runs.
        dumped: dict[int, tuple] = {}

        def write(values) -> None:
            values = [*values, *tail]
            for i in json_at:
                value = values[i]
                got = dumped.get(id(value))
                if got is None:
                    got = dumped[id(value)] = (value, _dumps(value))
                values[i] = got[1]
            write_row(values)

        yield write


def among(queryset, fields, values):
    """Rows whose ``fields`` is among ``values`` (several fields: any of them among its values).
    PostgreSQL gets one array parameter per field (``= ANY(%s)``): a batch's thousand values as
    parameters cost the ORM more than the query."""
    if isinstance(fields, str):
        fields, values = (fields,), (values,)
    model = queryset.model
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        parts, params = [], []
        for name, given in zip(fields, values, strict=True):
            column = f"{table}.{connection.ops.quote_name(model._meta.get_field(name).column)}"
            given = list(given)
            kind = _array_kind(given)
            if kind is None:
                parts.append(f"{column} = ANY(%s)")
                params.append(given)
            else:
                # One array literal for the whole list (psycopg dumps a list parameter value by value in Python):
                # a constant when the query is planned, so PostgreSQL looks each row up in a hash of the values
                # whatever plan it picks. (Until 2026-12-08 the values went as JSON unpacked by a subquery, an
                # array the planner could not see: on a table without statistics yet it compared every order of
                # the channel with each of the thousand values, in turn.)
                parts.append(f"{column} = ANY(%s::{kind}[])")
                params.append(_array_literal(given, kind))
        # Column names come from the model, the values go as parameters.
        return queryset.extra(where=[f"({' OR '.join(parts)})"], params=params)  # noqa: S610
    condition = Q(pk__in=[])
    for f, v in zip(fields, values, strict=True):
        condition |= Q(**{f"{f}__in": list(v)})
    return queryset.filter(condition)


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _array_kind(values: list) -> str | None:
    """How ``among`` passes these values as one array literal: "text", "bigint", or None (empty, mixed or other
    types: a plain array parameter)."""
    if not values:
        return None
    if all(type(v) is str for v in values):
        return "text"
    if all(type(v) is int for v in values):
        return "bigint"
    return None


def _array_literal(values: list, kind: str) -> str:
    """PostgreSQL's text form of an array of these values: ``{1,2}``, ``{"a","b \\"c\\""}``."""
    if kind == "bigint":
        return "{" + ",".join(map(str, values)) + "}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def reserve_ids(model, n: int) -> list[int]:
    """``n`` ids from the model's sequence in one round trip (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
        return [r[0] for r in cursor.fetchall()]
