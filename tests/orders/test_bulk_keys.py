"""The bulk path's foreign keys checked per COPY (orders/intake/bulk_keys.py): a value with no row behind it is
refused as the triggers would refuse it, the triggers are back on after the COPY, and where the shortcut would not
be as strong (another trigger on the table) or is switched off, the triggers check the rows themselves."""

from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from orders import services
from orders.intake import bulk
from orders.intake.bulk_features import insert_rows
from orders.intake.bulk_keys import keys_to_check
from orders.models import Order, OrderEvent, OrderLine
from orders.status import EventKind
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.postgres]

LINE = ("order_id", "line_no", "product_id", "sku", "name", "quantity", "unit_price", "is_gift")


def an_order() -> Order:
    return services.order_create(channel=ChannelFactory(), data=canonical("ONE"), source="test").order


def role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


def test_rows_whose_keys_exist_are_written_and_the_triggers_are_back_on_after():
    order, product = an_order(), ProductFactory(sku="K-1")
    with transaction.atomic():
        assert keys_to_check(OrderLine, LINE) is not None  # the shortcut applies here (the test role is a superuser)
        assert role() == "replica"  # ... and the triggers are off until the checks
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('session_replication_role', 'origin', true)")
        insert_rows(OrderLine, LINE, [(order.pk, 9, product.pk, "K-1", "k", 2, Decimal("1.00"), False)])
        assert role() == "origin"
    assert OrderLine.objects.filter(order=order, line_no=9, product=product).exists()


@pytest.mark.parametrize("missing", ["order_id", "product_id"])
def test_a_key_with_no_row_behind_it_is_refused_and_nothing_is_written(missing):
    order, product = an_order(), ProductFactory(sku="K-2")
    values = {"order_id": order.pk, "product_id": product.pk} | {missing: 10**12}
    row = (values["order_id"], 9, values["product_id"], "K-2", "k", 1, Decimal("1.00"), False)
    before = OrderLine.objects.count()
    with pytest.raises(IntegrityError, match="orders_orderline"), transaction.atomic():
        insert_rows(OrderLine, LINE, [row])
    assert OrderLine.objects.count() == before
    assert role() == "origin"


def test_a_null_key_needs_no_row():
    order = an_order()
    with transaction.atomic():
        insert_rows(OrderLine, LINE, [(order.pk, 9, None, "NOPE", "n", 1, Decimal("0"), False)])
    assert OrderLine.objects.get(order=order, line_no=9).product_id is None


def test_the_checked_rows_are_locked_against_deletion_until_commit():
    order, product = an_order(), ProductFactory(sku="K-3")
    with transaction.atomic():
        insert_rows(OrderLine, LINE, [(order.pk, 9, product.pk, "K-3", "k", 1, Decimal("1.00"), False)])
        with connection.cursor() as cursor:  # FOR KEY SHARE taken: a delete from another session would wait
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'inventory_product' AND l.pid = pg_backend_pid() AND l.mode = 'RowShareLock'"
            )
            assert cursor.fetchone()[0] == 1


def test_switched_off_or_with_another_trigger_the_triggers_check():
    with transaction.atomic():
        with override_settings(IMPORT_BATCH_KEY_CHECK=False):
            assert keys_to_check(OrderEvent, ("order_id", "kind", "message")) is None
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION bulk_keys_noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER bulk_keys_noop BEFORE INSERT ON orders_orderevent "
                "FOR EACH ROW EXECUTE FUNCTION bulk_keys_noop()"
            )
        assert keys_to_check(OrderEvent, ("order_id", "kind", "message")) is None
        assert role() == "origin"
        transaction.set_rollback(True)
    with override_settings(IMPORT_BATCH_KEY_CHECK=False), transaction.atomic():
        order = an_order()
        # The trigger refuses it at the COPY's end (psycopg's own error: the COPY is psycopg's, not Django's).
        with pytest.raises(psycopg.errors.ForeignKeyViolation), transaction.atomic():
            insert_rows(
                OrderEvent, ("order_id", "kind", "message", "created_at"), [(10**12, "note", "x", timezone.now())]
            )
        assert OrderEvent.objects.filter(order=order).exists()


def test_a_batch_whose_keys_fail_is_created_one_by_one(monkeypatch):
    """A product deleted between the lookup and the write: the batch's check refuses it, the orders go one by one
    through the triggers, each with its real product."""
    ProductFactory(sku="STD", price=Decimal("10.00"))
    channel = ChannelFactory(slug="keys", name="Keys shop")
    items = [(n, canonical(f"K{n}", lines=(("STD", 1),))) for n in range(1, 4)]
    real = bulk.products_for_channel

    def then_gone(channel, skus):
        found = real(channel, skus)
        for product in found.values():
            product.pk = 10**12  # as if deleted after it was read
        return found

    monkeypatch.setattr(bulk, "products_for_channel", then_gone)
    outcomes = bulk.create_batch(channel=channel, items=items, source="file:test")
    assert sorted((o.row, o.status) for o in outcomes) == [(n, "created") for n in range(1, 4)]
    assert Order.objects.filter(channel=channel).count() == 3
    assert not OrderLine.objects.filter(order__channel=channel, product_id=10**12).exists()
    assert all(o.events.filter(kind=EventKind.CREATED).count() == 1 for o in Order.objects.filter(channel=channel))
