"""The feature steps of the bulk intake path (``bulk.create_batch``) that only some batches need: gifts
(赠品), presale days, invoice requests, auto-merge (自动合单), and the plain SQL helpers the batch writes
with. Each step costs nothing for a batch it does not apply to: no gift rule active, no order asking for
an invoice, no order confirmed, merging switched off; the timeline rows these steps ask for are written
by ``bulk`` with the order's other events.
"""

import json

from django.db import connection
from django.db.models import Q

from .. import services
from ..models import InvoiceRequest
from ..rules.gifts import GiftInput, current_gift_rules, gift_plan
from ..services.presale import presale_dates
from ..status import InvoiceState


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


def insert_rows(model, attnames: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows given as tuples of ``attnames``: COPY on PostgreSQL, bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(attnames, values, strict=True))) for values in rows])
        return
    fields = {f.attname: f for f in model._meta.concrete_fields}
    # Columns the caller leaves out get the model's default, as an ORM insert would (the database
    # has no defaults of its own: a NOT NULL column left out of the COPY would be NULL).
    defaults = [
        (name, f.get_default())
        for name, f in fields.items()
        if name not in attnames and not f.primary_key and f.get_default() is not None
    ]
    if defaults:
        attnames = attnames + tuple(name for name, _ in defaults)
        tail = tuple(value for _, value in defaults)
        rows = [values + tail for values in rows]
    columns = ", ".join(connection.ops.quote_name(fields[name].column) for name in attnames)
    json_at = [i for i, name in enumerate(attnames) if fields[name].get_internal_type() == "JSONField"]
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    dumps = json.dumps
    with connection.cursor() as cursor:
        with cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            if json_at:
                # One object in several rows (a batch's shared event data or words) is dumped once; the
                # rows hold every object while this runs, so an id names one object.
                dumped: dict[int, str] = {}
                for values in rows:
                    values = list(values)
                    for i in json_at:
                        value = values[i]
                        text = dumped.get(id(value))
                        if text is None:
                            text = dumped[id(value)] = dumps(value, ensure_ascii=False)
                        values[i] = text
                    write(values)
            else:
                for values in rows:
                    write(values)


def among(queryset, fields, values):
    """Rows whose ``fields`` is among ``values`` (several fields: any of them among its values).
    PostgreSQL gets one array parameter per field (``= ANY(%s)``): a batch's thousand values as
    parameters cost the ORM more than the query."""
    if isinstance(fields, str):
        fields, values = (fields,), (values,)
    model = queryset.model
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(model._meta.db_table)
        sql = " OR ".join(
            f"{table}.{connection.ops.quote_name(model._meta.get_field(f).column)} = ANY(%s)" for f in fields
        )
        # Column names come from the model, the values go as parameters.
        return queryset.extra(where=[f"({sql})"], params=[list(v) for v in values])  # noqa: S610
    condition = Q(pk__in=[])
    for f, v in zip(fields, values, strict=True):
        condition |= Q(**{f"{f}__in": list(v)})
    return queryset.filter(condition)


def reserve_ids(model, n: int) -> list[int]:
    """``n`` ids from the model's sequence in one round trip (PostgreSQL)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
        return [r[0] for r in cursor.fetchall()]
