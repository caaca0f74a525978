"""财审: lines below a floor or not adding up to the total hold the order for a finance review; the queue
approves (release) or rejects (cancel); the settings page sets the floors."""

from decimal import Decimal

import pytest

from oms.errors import DomainError
from orders import services
from orders.intake.bulk import create_batch
from orders.models import FinanceSettings, Order, PriceFloor
from orders.rules import finance as finance_rules
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, canonical, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ProductFactory(sku="SKU-A", price=Decimal("100.00"))
    ProductFactory(sku="SKU-B", price=Decimal("50.00"))
    ProductFactory(sku="SKU-C", price=Decimal("0"))
    return ChannelFactory(slug="web", name="Web shop")


def order_data(external_id, prices, **overrides):
    data = canonical(external_id, lines=tuple((sku, 1) for sku, _ in prices), **overrides)
    for line, (_sku, price) in zip(data.lines, prices, strict=True):
        line.unit_price = Decimal(price)
    return data


def create(channel, external_id, prices, **overrides):
    return services.order_create(channel=channel, data=order_data(external_id, prices, **overrides), source="t").order


def active(order):
    return [(h.reason, h.note) for h in order.holds.filter(released_at__isnull=True).order_by("pk")]


def test_a_line_below_the_global_share_of_its_list_price_holds_the_order(world):
    services.finance_settings_set(floor_share=Decimal("0.6"))

    held = create(world, "E1", [("SKU-A", "59.99"), ("SKU-B", "30.00")])
    fine = create(world, "E2", [("SKU-A", "60.00")])

    assert active(held) == [
        (
            HoldReason.FINANCE_REVIEW,
            "Price below floor: line 1 SKU-A at 59.99 is below the floor 60.00 (60% of list price 100.00).",
        )
    ]
    assert (held.status, held.on_hold) == (OrderStatus.RECEIVED, True)
    assert (fine.status, fine.on_hold, active(fine)) == (OrderStatus.CONFIRMED, False, [])


def test_a_sku_floor_price_or_share_overrides_the_global_share(world):
    services.finance_settings_set(floor_share=Decimal("0.5"))
    services.price_floor_set(sku="SKU-A", floor_price=Decimal("80.00"))
    services.price_floor_set(sku="SKU-B", floor_share=Decimal("0.9"))

    order = create(world, "E1", [("SKU-A", "79.00"), ("SKU-B", "44.00"), ("SKU-C", "1.00")])

    assert active(order) == [
        (
            HoldReason.FINANCE_REVIEW,
            "Price below floor: line 1 SKU-A at 79.00 is below the floor 80.00 (SKU floor); "
            "line 2 SKU-B at 44.00 is below the floor 45.00 (90% of list price 50.00).",
        )
    ]


def test_no_floor_set_holds_nothing_and_zero_priced_lines_are_not_judged(world):
    assert create(world, "E1", [("SKU-A", "1.00")]).on_hold is False
    services.finance_settings_set(floor_share=Decimal("0.5"))
    assert create(world, "E2", [("SKU-A", "0")]).on_hold is False


def test_lines_that_do_not_add_up_to_the_total_are_a_finance_review_hold(world):
    order = create(world, "E1", [("SKU-A", "100.00")], total=Decimal("150.00"))

    assert active(order) == [
        (
            HoldReason.FINANCE_REVIEW,
            "Lines 100.00 + shipping 0.00 + tax 0.00 - discount 0.00 = 100.00, but the order total is 150.00 CNY "
            "(difference 50.00).",
        )
    ]


def test_the_batch_path_holds_the_same_with_floors_read_once_per_batch(world, django_assert_max_num_queries):
    services.finance_settings_set(floor_share=Decimal("0.6"))
    services.price_floor_set(sku="SKU-B", floor_price=Decimal("49.00"))
    one = create(world, "ONE", [("SKU-A", "10.00"), ("SKU-B", "48.00")])
    items = [(i, order_data(f"B{i}", [("SKU-A", "10.00"), ("SKU-B", "48.00")])) for i in range(1, 21)]
    items.append((21, order_data("B21", [("SKU-A", "70.00")])))

    finance_rules.forget_floors()
    with django_assert_max_num_queries(40) as captured:
        outcomes = create_batch(channel=world, items=items, source="file:test")
    floor_reads = [q["sql"] for q in captured.captured_queries if "orders_pricefloor" in q["sql"]]

    assert [o.held for o in outcomes] == [True] * 20 + [False]
    assert len(floor_reads) == 1  # 21 orders, one read of the floors
    assert {tuple(active(o)) for o in Order.objects.filter(external_id__startswith="B", on_hold=True)} == {
        tuple(active(one))
    }


def test_a_floor_change_reaches_the_cached_floors_at_once(world):
    create(world, "E1", [("SKU-A", "10.00")])  # caches "no floors"
    services.price_floor_set(sku="SKU-A", floor_price=Decimal("20.00"))
    assert create(world, "E2", [("SKU-A", "10.00")]).on_hold is True
    floor = PriceFloor.objects.get()
    services.price_floor_delete(floor_id=floor.pk)
    assert create(world, "E3", [("SKU-A", "10.00")]).on_hold is False
    assert FinanceSettings.current().version == 2


def test_bad_floors_are_refused_and_change_nothing(world):
    with pytest.raises(DomainError, match="No product with SKU 'NOPE'"):
        services.price_floor_set(sku="NOPE", floor_price=Decimal("1"))
    with pytest.raises(DomainError, match="either a floor price or a floor share"):
        services.price_floor_set(sku="SKU-A", floor_price=Decimal("1"), floor_share=Decimal("0.5"))
    with pytest.raises(DomainError, match="0 to 100 %, got 150"):
        services.finance_settings_set(floor_share=Decimal("1.5"))
    assert PriceFloor.objects.count() == 0
    assert FinanceSettings.current().floor_share is None


def test_approve_releases_the_finance_hold_with_an_event_and_the_order_goes_on(world):
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = create(world, "E1", [("SKU-A", "10.00")])
    boss = make_user("boss", "manager")

    with pytest.raises(DomainError, match="needs a note"):
        services.finance_approve(order=order, note=" ", user=boss)
    order = services.finance_approve(order=order, note="clearance sale", user=boss)

    assert (order.status, order.on_hold, active(order)) == (OrderStatus.CONFIRMED, False, [])
    released = order.events.get(kind=EventKind.RELEASED)
    assert (released.message, released.user) == ("Released: Finance review. finance approved: clearance sale", boss)


# ---- the pages --------------------------------------------------------------------------------------------


def test_the_queue_shows_the_offending_lines_and_approve_releases(client, world):
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = create(world, "E1", [("SKU-A", "10.00"), ("SKU-B", "45.00")])
    other = create(world, "E2", [("SKU-A", "99.00")])
    client.force_login(make_user("boss", "manager"))

    html = client.get("/orders/finance-review/").content.decode()
    assert order.number in html and other.number not in html
    assert "<b>10.00</b>" in html and '60.00 <span class="muted">60% of list price 100.00</span>' in html
    assert "<b>45.00</b>" not in html  # 45.00 is above SKU-B's floor 30.00

    answer = client.post(f"/orders/{order.number}/finance-approve/", {"note": "VIP price"}, follow=True)
    assert f"{order.number} approved and released." in answer.content.decode()
    order.refresh_from_db()
    assert (order.on_hold, order.status) == (False, OrderStatus.CONFIRMED)
    assert order.number not in client.get("/orders/finance-review/").content.decode()


def test_reject_cancels_with_the_reason_and_needs_one(client, world):
    order = create(world, "E1", [("SKU-A", "100.00")], total=Decimal("1.00"))
    client.force_login(make_user("boss", "manager"))

    answer = client.post(f"/orders/{order.number}/finance-reject/", {"reason": " "}, follow=True)
    assert "A rejection needs a reason." in answer.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED

    client.post(f"/orders/{order.number}/finance-reject/", {"reason": "price typo on the channel"})
    order.refresh_from_db()
    assert (order.status, order.on_hold) == (OrderStatus.CANCELLED, False)
    assert order.events.get(kind=EventKind.CANCELLED).message == (
        "Cancelled: finance review rejected: price typo on the channel"
    )


def test_customer_service_may_not_approve(client, world):
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = create(world, "E1", [("SKU-A", "10.00")])
    client.force_login(make_user("cs", "customer_service"))
    assert client.post(f"/orders/{order.number}/finance-approve/", {"note": "x"}).status_code == 403
    assert client.post(f"/orders/{order.number}/finance-reject/", {"reason": "x"}).status_code == 403
    order.refresh_from_db()
    assert order.on_hold is True


def test_the_floors_page_sets_and_deletes_floors_and_refuses_bad_input(client, world):
    client.force_login(make_user("boss", "manager"))

    client.post("/orders/finance-review/floors/", {"action": "global", "floor_share": "55"})
    client.post("/orders/finance-review/floors/", {"action": "floor", "sku": "SKU-A", "floor_price": "70"})
    bad = client.post(
        "/orders/finance-review/floors/", {"action": "floor", "sku": "SKU-B", "floor_share": "150"}, follow=True
    )
    assert "Floor: a share is 0 to 100 %." in bad.content.decode()
    bad = client.post("/orders/finance-review/floors/", {"action": "global", "floor_share": "abc"}, follow=True)
    assert "Floor: &#x27;abc&#x27; is not a number." in bad.content.decode()

    assert FinanceSettings.current().floor_share == Decimal("0.5500")
    assert list(PriceFloor.objects.values_list("product__sku", "floor_price", "floor_share")) == [
        ("SKU-A", Decimal("70.00"), None)
    ]
    html = client.get("/orders/finance-review/floors/").content.decode()
    assert 'value="55"' in html and "70.00" in html
    client.post("/orders/finance-review/floors/", {"action": "delete", "floor": PriceFloor.objects.get().pk})
    assert PriceFloor.objects.count() == 0


def test_the_generic_release_of_a_finance_hold_needs_finance(world):
    order = create(world, "E1", [("SKU-A", "100.00")], total=Decimal("1.00"))
    with pytest.raises(DomainError, match="only finance may release a finance review hold"):
        services.order_release(
            order=order, reason=HoldReason.FINANCE_REVIEW, note="ok", user=make_user("cs", "customer_service")
        )
    order.refresh_from_db()
    assert order.on_hold is True
    services.order_release(order=order, reason=HoldReason.FINANCE_REVIEW, note="ok", user=make_user("boss", "manager"))
    order.refresh_from_db()
    assert order.on_hold is False
