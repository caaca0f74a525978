"""The bulk intake's SQL helpers (orders/intake/bulk_features.py) and the batch path
(orders/intake/bulk.py): ``among`` finds exactly the rows whose value is among the given ones however the
values are passed, ``copy_rows`` writes what it is given (defaults, shared JSON objects) or nothing, and
a batch that fails half way through its loop is created one by one, each order once."""

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from orders import services
from orders.intake import bulk
from orders.intake.bulk_features import among, copy_rows
from orders.models import Customer, Order, OrderEvent
from orders.status import EventKind
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = pytest.mark.django_db

AWKWARD = ['a"b', "back\\slash", "com,ma", "{braces}", "NULL", "", " spaced ", "上海 世纪大道", "it's", "tab\there"]


def an_order() -> Order:
    return services.order_create(channel=ChannelFactory(), data=canonical("ONE"), source="test").order


def test_among_finds_exactly_the_rows_whose_text_is_among_the_values():
    for n, email in enumerate(AWKWARD):
        Customer.objects.create(name=f"c{n}", email=email)
    Customer.objects.create(name="other", email="not-asked@example.com")
    Customer.objects.create(name="prefix", email="com")  # a part of an asked value is not a match
    asked = AWKWARD[:6] + ["absent@example.com"]
    found = set(among(Customer.objects.all(), "email", asked).values_list("email", flat=True))
    assert found == set(AWKWARD[:6])


def test_among_with_ids_and_with_several_fields():
    a, b, c = (Customer.objects.create(name=n, email=f"{n}@example.com", phone=f"138{i}") for i, n in enumerate("abc"))
    assert set(among(Customer.objects.all(), "id", [a.pk, c.pk, 10**9])) == {a, c}
    found = among(Customer.objects.all(), ("email", "phone"), (["a@example.com"], ["1382"]))
    assert set(found) == {a, c}
    assert set(among(Customer.objects.all(), "phone", ["1381"])) == {b}
    assert list(among(Customer.objects.all(), "email", [])) == []  # no values: no rows


@pytest.mark.postgres
def test_copy_rows_writes_the_rows_with_defaults_and_each_shared_object_as_itself():
    order = an_order()
    shared = {"reason": "payment", "note": 'say "hi"'}
    now = timezone.now()
    before = OrderEvent.objects.count()
    with transaction.atomic(), copy_rows(OrderEvent, ("order_id", "kind", "message", "data", "created_at")) as write:
        write((order.pk, EventKind.HELD, "first", shared, now))
        write((order.pk, EventKind.HELD, "second", shared, now))
        write((order.pk, EventKind.NOTE, "third", {"other": [1, "二"]}, now))
    rows = list(
        OrderEvent.objects.filter(order=order, message__in=["first", "second", "third"])
        .order_by("message")
        .values_list("message", "data", "words")
    )
    assert OrderEvent.objects.count() == before + 3
    # words, left out, is the model's default (a JSON column's default is written as JSON too)
    assert rows == [("first", shared, {}), ("second", shared, {}), ("third", {"other": [1, "二"]}, {})]


@pytest.mark.postgres
def test_copy_rows_writes_nothing_when_the_block_fails():
    order = an_order()
    before = OrderEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        with copy_rows(OrderEvent, ("order_id", "kind", "message", "data", "words", "created_at")) as write:
            write((order.pk, EventKind.NOTE, "written first", {}, {}, timezone.now()))
            raise RuntimeError("the caller failed half way")
    assert OrderEvent.objects.count() == before
    with connection.cursor() as cursor:  # the connection is usable again
        cursor.execute("SELECT 1")


@pytest.mark.postgres
def test_a_batch_failing_half_way_is_created_one_by_one(monkeypatch):
    ProductFactory(sku="STD", price=Decimal("10.00"))
    channel = ChannelFactory(slug="stream", name="Stream shop")
    items = [(n, canonical(f"S{n}", lines=(("STD", n),))) for n in range(1, 6)]
    real = bulk.classification_evaluate
    calls = {"n": 0}

    def fails_on_the_fourth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # three orders of the batch are worked out already
            raise RuntimeError("a value the checks let through")
        return real(*args, **kwargs)

    monkeypatch.setattr(bulk, "classification_evaluate", fails_on_the_fourth)
    outcomes = bulk.create_batch(channel=channel, items=items, source="file:test")
    assert calls["n"] >= 4
    assert sorted((o.row, o.status) for o in outcomes) == [(n, "created") for n in range(1, 6)]
    orders = Order.objects.filter(channel=channel).order_by("external_id")
    assert [o.external_id for o in orders] == [f"S{n}" for n in range(1, 6)]
    assert [list(o.lines.values_list("quantity", flat=True)) for o in orders] == [[n] for n in range(1, 6)]
    assert all(o.events.filter(kind=EventKind.CREATED).count() == 1 for o in orders)
