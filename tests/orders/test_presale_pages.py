"""预售 pages: the presale queue (days, counts, routing order), marking a channel listing, the order page's panel
and early release, the care panel's promise, the customer tracking page, the product page's marking."""

import pytest
from django.utils import timezone

from inventory.models import Product
from oms.roles import CUSTOMER_SERVICE, MANAGER, WAREHOUSE
from orders.care.tracking_links import tracking_token
from orders.models import ChannelSku, Order
from orders.status import EventKind, OrderStatus
from tests.factories import ProductFactory, make_user, presale_order, presale_world
from tests.factories import presale_day as day

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return presale_world(batch=2, on_hand=5)


def _order(world, external_id, sku, hour, qty=1):
    return presale_order(world, external_id, hour, lines=((sku, qty),), waiting=False)


def test_the_queue_shows_days_counts_and_the_routing_order(client, world):
    late = _order(world, "A", "PRE-1", 11, qty=2)
    early = _order(world, "B", "PRE-1", 9)
    other = _order(world, "C", "PRE-2", 8)
    client.force_login(make_user("cs", CUSTOMER_SERVICE))

    page = client.get("/orders/presale/")

    assert page.status_code == 200
    assert [(d["day"], d["orders"], d["units"]) for d in page.context["days"]] == [(day(10), 2, 3), (day(20), 1, 1)]
    assert [o.number for o in page.context["orders"]] == [early.number, late.number, other.number]
    products = {p.sku: (p.waiting, p.over_batch) for p in page.context["products"]}
    assert products == {"PRE-1": (3, True), "PRE-2": (1, False)}
    html = page.content.decode()
    assert early.number in html and "Mark a listing presale" not in html  # customer service cannot mark

    one_day = client.get(f"/orders/presale/?day={day(20).isoformat()}")
    assert [o.number for o in one_day.context["orders"]] == [other.number]
    bad = client.get("/orders/presale/?day=next-week")
    assert bad.status_code == 200 and bad.context["bad_day"] is True


def test_a_manager_marks_and_unmarks_a_listing(client, world):
    listing = ChannelSku.objects.create(channel=world["web"], external_sku="TM-9", product=world["pre2"])
    client.force_login(make_user("boss", MANAGER))

    response = client.post(
        "/orders/presale/listing/",
        {"channel": world["web"].pk, "external_sku": "TM-9", "ship_from": day(5).isoformat()},
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.presale_ship_from == day(5)
    page = client.get("/orders/presale/")
    assert "TM-9" in page.content.decode()

    client.post("/orders/presale/listing/", {"channel": world["web"].pk, "external_sku": "TM-9"})
    listing.refresh_from_db()
    assert listing.presale_ship_from is None


@pytest.mark.parametrize(
    ("sku", "ship_from", "field", "message"),
    [
        ("NOPE", day(5), "external_sku", "NOPE is not in the SKU map of Web shop"),
        ("TM-9", day(0), "ship_from", "The ship-from date must be after today."),
    ],
)
def test_marking_a_listing_wrongly_is_refused_and_changes_nothing(client, world, sku, ship_from, field, message):
    listing = ChannelSku.objects.create(channel=world["web"], external_sku="TM-9", product=world["pre2"])
    client.force_login(make_user("boss", MANAGER))

    response = client.post(
        "/orders/presale/listing/", {"channel": world["web"].pk, "external_sku": sku, "ship_from": ship_from}
    )

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    listing.refresh_from_db()
    assert listing.presale_ship_from is None


def test_customer_service_may_not_mark_a_listing(client, world):
    ChannelSku.objects.create(channel=world["web"], external_sku="TM-9", product=world["pre2"])
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    response = client.post(
        "/orders/presale/listing/", {"channel": world["web"].pk, "external_sku": "TM-9", "ship_from": day(5)}
    )
    assert response.status_code == 403
    assert ChannelSku.objects.get(external_sku="TM-9").presale_ship_from is None


def test_the_order_page_shows_the_presale_and_releases_it_early(client, world, django_capture_on_commit_callbacks):
    order = _order(world, "A", "PRE-1", 9)
    client.force_login(make_user("cs", CUSTOMER_SERVICE))

    html = client.get(f"/orders/{order.number}/").content.decode()
    assert f"Presale until {day(10).isoformat()}" in html
    assert "Release now" in html
    assert f"Promised to the customer: <strong>{day(10).isoformat()}</strong>" in html  # the care panel
    assert "Not routed yet" not in html  # the shipments panel does not call it stuck

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{order.number}/presale-release/", {"note": "batch came early"})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.presale_released_at is not None
    assert order.status == OrderStatus.ALLOCATED
    event = order.events.filter(kind=EventKind.PRESALE).last()
    assert event.message == f"Presale released early (was until {day(10).isoformat()}): batch came early"
    # Twice: a clear message, nothing changes.
    again = client.post(f"/orders/{order.number}/presale-release/", follow=True)
    assert f"{order.number} is not waiting for a presale day." in again.content.decode()
    assert order.events.filter(kind=EventKind.PRESALE).count() == 2


def test_the_warehouse_may_not_release_a_presale(client, world):
    order = _order(world, "A", "PRE-1", 9)
    client.force_login(make_user("wh", WAREHOUSE))
    assert client.post(f"/orders/{order.number}/presale-release/").status_code == 403
    order.refresh_from_db()
    assert order.presale_waiting


def test_the_tracking_page_tells_the_customer_when_a_pre_order_ships(client, world):
    order = _order(world, "A", "PRE-1", 9)
    assert order.status == OrderStatus.CONFIRMED

    html = client.get(f"/track/{tracking_token(order.number)}/").content.decode()

    assert f"Pre-order: ships from {day(10).isoformat()}" in html
    assert f"Promised by <strong>{day(10).isoformat()}</strong>" in html
    Order.objects.filter(pk=order.pk).update(presale_released_at=timezone.now(), updated_at=timezone.now())
    html = client.get(f"/track/{tracking_token(order.number)}/").content.decode()
    assert "Pre-order" not in html


def test_a_manager_marks_a_product_presale_on_its_page(client, world):
    plain = ProductFactory(sku="PLAIN")
    client.force_login(make_user("boss", MANAGER))

    page = client.get("/inventory/products/PLAIN/")
    assert "Sold from stock (not presale)." in page.content.decode()
    response = client.post("/inventory/products/PLAIN/presale/", {"ship_from": day(9).isoformat(), "batch_qty": "50"})
    assert response.status_code == 302
    plain.refresh_from_db()
    assert (plain.presale_ship_from, plain.presale_batch_qty) == (day(9), 50)
    assert f"Presale until {day(9).isoformat()}" in client.get("/inventory/products/PLAIN/").content.decode()

    client.post("/inventory/products/PLAIN/presale/", {"ship_from": ""})
    plain.refresh_from_db()
    assert (plain.presale_ship_from, plain.presale_batch_qty) == (None, None)


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"ship_from": "", "batch_qty": "5"}, "An expected batch needs a ship-from date."),
        ({"ship_from": "2020-01-01"}, "The ship-from date must be after today."),
        ({"ship_from": "soon"}, "Ship from: Enter a valid date."),
        ({"ship_from": "2099-01-01", "batch_qty": "0"}, "Expected batch: Ensure this value is greater than"),
    ],
)
def test_marking_a_product_wrongly_is_refused_and_changes_nothing(client, world, post, message):
    client.force_login(make_user("boss", MANAGER))

    response = client.post("/inventory/products/PRE-1/presale/", post, follow=True)

    assert message in response.content.decode()
    assert Product.objects.filter(sku="PRE-1").values_list("presale_ship_from", "presale_batch_qty").get() == (
        day(10),
        2,
    )


def test_the_warehouse_may_not_mark_a_product(client, world):
    client.force_login(make_user("wh", WAREHOUSE))
    assert client.post("/inventory/products/PRE-1/presale/", {"ship_from": ""}).status_code == 403
    assert Product.objects.get(sku="PRE-1").presale_ship_from == day(10)


def test_a_manager_says_the_batch_arrived_from_the_queue(client, world, django_capture_on_commit_callbacks):
    order = _order(world, "A", "PRE-1", 9)
    client.force_login(make_user("boss", MANAGER))
    assert "Batch arrived" in client.get("/orders/presale/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/orders/presale/batch/PRE-1/", follow=True)

    assert "Batch of PRE-1 arrived: 1 presale order(s) are routed now, first paid first." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    again = client.post("/orders/presale/batch/PRE-1/", follow=True)
    assert "PRE-1 is not presale and no presale order waits for it." in again.content.decode()
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    assert client.post("/orders/presale/batch/PRE-2/").status_code == 403
    assert Product.objects.get(sku="PRE-2").presale_ship_from == day(20)
