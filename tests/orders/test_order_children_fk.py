"""Order lines', events' and holds' foreign keys to their order are checked at once on PostgreSQL
(migration orders 0029): a row for an order that does not exist is refused by its own statement, the
batch path still writes orders before their rows, and deleting an order still deletes its rows first."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from orders.intake.bulk import create_batch
from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import Order, OrderEvent, OrderHold, OrderLine
from orders.status import HoldReason
from tests.factories import ChannelFactory, ProductFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TABLES = ("orders_orderline", "orders_orderevent", "orders_orderhold")


def _deferral() -> dict[str, tuple[bool, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.condeferrable, c.condeferred FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'f' AND c.confrelid = 'orders_order'::regclass AND a.attname = 'order_id'
            """
        )
        return {table: (deferrable, deferred) for table, deferrable, deferred in cursor.fetchall()}


def test_the_order_keys_of_lines_events_and_holds_are_checked_at_once():
    found = _deferral()
    assert {t: found[t] for t in TABLES} == dict.fromkeys(TABLES, (False, False))
    assert found["fulfillment_shipment"] == (True, True)  # the others keep Django's deferral


@pytest.mark.parametrize(
    "make",
    [
        lambda: OrderLine.objects.create(order_id=987654321, line_no=1, sku="X", quantity=1, unit_price=1),
        lambda: OrderEvent.objects.create(order_id=987654321, kind="note", message="x"),
        lambda: OrderHold.objects.create(order_id=987654321, reason="manual", note="x"),
    ],
)
def test_a_row_for_a_missing_order_is_refused_by_its_own_statement(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()  # raised here, not at the commit
    assert not OrderLine.objects.filter(order_id=987654321).exists()


def test_the_batch_path_and_deleting_an_order_work_with_keys_checked_at_once():
    channel = ChannelFactory(slug="fk")
    ProductFactory(sku="FK-1")
    items = [
        (
            n,
            CanonicalOrder(
                external_id=f"FK-{n}",
                ship_to=CanonicalAddress(name="Ann", country="DE", city="Berlin", address1="Str 1", postcode="10115"),
                lines=[CanonicalLine("FK-1", 1, Decimal("1")), CanonicalLine("FK-404", 1)],
            ),
        )
        for n in range(3)
    ]
    outcomes = create_batch(channel=channel, items=items, source="file:test")
    assert [(o.status, o.held) for o in outcomes] == [("created", True)] * 3
    order = Order.objects.get(channel=channel, external_id="FK-0")
    assert order.lines.count() == 2 and order.events.exists()
    assert order.holds.filter(reason=HoldReason.UNKNOWN_SKU).count() == 1
    order.delete()
    assert not OrderLine.objects.filter(order_id=order.pk).exists()
    assert not OrderEvent.objects.filter(order_id=order.pk).exists()
    assert not OrderHold.objects.filter(order_id=order.pk).exists()
    assert Order.objects.filter(channel=channel).count() == 2
