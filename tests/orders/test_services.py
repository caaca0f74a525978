import pytest

from oms.errors import DomainError, TransitionNotAllowed
from orders import services
from orders.intake.canonical import OrderRejected
from orders.models import InboundMessage, Order, OrderEvent, OrderHold
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    return ChannelFactory(slug="web", name="Web shop")


@pytest.fixture
def sku_a():
    return ProductFactory(sku="SKU-A")


def test_create_confirms_a_valid_order_and_writes_events(channel, sku_a):
    result = services.order_create(channel=channel, data=canonical(), source="test")

    order = result.order
    assert result.created is True
    assert order.number == f"SO{100000 + order.pk}"
    assert order.status == OrderStatus.CONFIRMED
    assert order.on_hold is False
    assert order.lines.get().product == sku_a
    assert order.ship_country == "CN"
    assert order.ship_phone == "+8613800138000"
    assert list(order.events.values_list("kind", flat=True)) == [EventKind.CREATED, EventKind.STATUS]


def test_same_channel_and_external_id_twice_is_created_once(channel, sku_a):
    first = services.order_create(channel=channel, data=canonical(), source="test")
    second = services.order_create(channel=channel, data=canonical(), source="test")

    assert second.created is False
    assert second.order.pk == first.order.pk
    assert Order.objects.count() == 1
    assert OrderEvent.objects.filter(order=first.order).count() == 2


def test_same_external_id_on_another_channel_is_another_order(channel, sku_a):
    services.order_create(channel=channel, data=canonical(), source="test")
    other = ChannelFactory(slug="app", name="App")
    result = services.order_create(channel=other, data=canonical(), source="test")
    assert result.created is True
    assert Order.objects.count() == 2


def test_unknown_sku_creates_the_order_on_hold_with_the_raw_sku(channel):
    result = services.order_create(channel=channel, data=canonical(lines=[("NOPE-1", 2)]), source="test")

    order = result.order
    assert result.held is True
    assert order.status == OrderStatus.RECEIVED
    hold = order.holds.get()
    assert hold.reason == HoldReason.UNKNOWN_SKU
    assert "NOPE-1" in hold.note
    assert order.lines.get().sku == "NOPE-1"
    assert order.lines.get().product is None


def test_incomplete_address_holds_with_reason(channel, sku_a):
    data = canonical(ship_to={"address1": "", "city": "", "postcode": "12"})
    order = services.order_create(channel=channel, data=data, source="test").order
    hold = order.holds.get()
    assert hold.reason == HoldReason.ADDRESS_INVALID
    assert "street address missing" in hold.note
    assert "city missing" in hold.note
    assert "postcode '12' is not valid for CN" in hold.note


def test_unknown_country_holds_and_country_name_is_normalised(channel, sku_a):
    held = services.order_create(channel=channel, data=canonical("E1", ship_to={"country": "Narnia"}), source="t")
    named = services.order_create(channel=channel, data=canonical("E2", ship_to={"country": "China"}), source="t")
    assert "unknown country 'Narnia'" in held.order.holds.get().note
    assert held.order.ship_country == ""
    assert named.order.ship_country == "CN"
    assert named.order.on_hold is False


@pytest.mark.parametrize("lines", [[("SKU-A", 0)], [("SKU-A", -3)], [("", 1)], []])
def test_bad_lines_are_rejected_and_nothing_is_written(channel, sku_a, lines):
    with pytest.raises(OrderRejected):
        services.order_create(channel=channel, data=canonical(lines=lines), source="test")
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_rejection_is_recorded_on_the_inbound_message(channel, sku_a):
    message = services.inbound_store(source="api", body="{}", channel=channel)
    with pytest.raises(OrderRejected):
        services.order_create(channel=channel, data=canonical(lines=[]), source="api", inbound=message)
    message.refresh_from_db()
    assert message.status == "rejected"
    assert message.result["errors"][0]["field"] == "lines"
    assert InboundMessage.objects.count() == 1


def test_hold_and_release_returns_order_to_where_it_was(channel, sku_a, django_user_model):
    user = django_user_model.objects.create_user("cs1")
    order = services.order_create(channel=channel, data=canonical(), source="test").order

    services.order_hold(order=order, reason=HoldReason.MANUAL, note="customer called", user=user)
    order.refresh_from_db()
    assert order.on_hold is True and order.status == OrderStatus.CONFIRMED

    services.order_release(order=order, note="checked", user=user)
    order.refresh_from_db()
    hold = OrderHold.objects.get(order=order)
    assert order.on_hold is False and order.status == OrderStatus.CONFIRMED
    assert hold.released_by == user and hold.release_note == "checked"
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.HELD, EventKind.RELEASED]


def test_release_of_unknown_sku_needs_the_sku_mapped_first(channel):
    order = services.order_create(channel=channel, data=canonical(lines=[("LATER-1", 1)]), source="test").order
    with pytest.raises(DomainError, match="LATER-1"):
        services.order_release(order=order, note="try")
    order.refresh_from_db()
    assert order.on_hold is True

    ProductFactory(sku="LATER-1")
    services.order_release(order=order, note="mapped")
    order.refresh_from_db()
    assert order.on_hold is False
    assert order.status == OrderStatus.CONFIRMED
    assert order.lines.get().product.sku == "LATER-1"


def test_cancel_needs_reason_and_a_cancellable_status(channel, sku_a):
    order = services.order_create(channel=channel, data=canonical(), source="test").order
    with pytest.raises(DomainError):
        order_cancel(order=order, reason="")
    order_cancel(order=order, reason="customer asked")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    with pytest.raises(TransitionNotAllowed):
        order_cancel(order=order, reason="again")
    with pytest.raises(DomainError):
        services.order_hold(order=order, reason=HoldReason.MANUAL)


def test_status_door_refuses_a_transition_not_in_the_table(channel, sku_a):
    order = services.order_create(channel=channel, data=canonical(), source="test").order
    with pytest.raises(TransitionNotAllowed):
        services.order_set_progress(order=order, target=OrderStatus.DELIVERED)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_location_factory_is_usable():
    assert LocationFactory(code="x1").code == "x1"


def test_stock_helper_writes_ledger():
    loc, prod = LocationFactory(code="l1"), ProductFactory(sku="P1")
    row = stock(loc, prod, 5)
    assert (row.on_hand, row.reserved) == (5, 0)
