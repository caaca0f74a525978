import pytest

from fulfillment import services
from fulfillment.models import RoutingDecision, Shipment
from fulfillment.selectors import decision_candidates
from fulfillment.status import ShipmentStatus, derive_order_status
from inventory.models import HandlingClass, MovementKind, Stock, StockMovement
from inventory.selectors import ledger_mismatches
from oms.errors import DomainError
from orders import services as order_services
from orders.status import HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    shanghai = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    guangzhou = LocationFactory(
        code="can", name="Guangzhou DC", city="Guangzhou", latitude=23.13, longitude=113.26, cold_chain=True
    )
    a = ProductFactory(sku="SKU-A")
    fresh = ProductFactory(sku="FRESH-1", handling_class=HandlingClass.FRESH)
    for loc in (shanghai, guangzhou):
        stock(loc, a, 10, bin="B-02")
        stock(loc, fresh, 5, bin="A-01")
    return {"sha": shanghai, "can": guangzhou, "a": a, "fresh": fresh, "channel": ChannelFactory(slug="web")}


def _create(world, django_capture_on_commit_callbacks, external_id="E1", lines=(("SKU-A", 2),), **kw):
    with django_capture_on_commit_callbacks(execute=True):
        result = order_services.order_create(
            channel=world["channel"], data=canonical(external_id, lines=lines, **kw), source="test"
        )
    result.order.refresh_from_db()
    return result.order


def test_confirmed_order_is_routed_to_the_nearest_location_and_reserved(world, django_capture_on_commit_callbacks):
    order = _create(
        world,
        django_capture_on_commit_callbacks,
        ship_to={"city": "Guangzhou", "province": "Guangdong", "postcode": "510000"},
    )
    assert order.status == OrderStatus.ALLOCATED
    shipment = order.shipments.get()
    assert shipment.location == world["can"]
    assert shipment.status == ShipmentStatus.RESERVED
    row = Stock.objects.get(location=world["can"], product=world["a"])
    assert (row.on_hand, row.reserved) == (10, 2)
    decision = RoutingDecision.objects.get(order=order)
    assert decision.chosen == world["can"]
    by_code = {c["location"]: c for c in decision_candidates(decision)}
    assert by_code["can"]["verdict"].startswith("chosen")
    assert by_code["sha"]["verdict"].startswith("score ") and "farther by" in by_code["sha"]["verdict"]
    assert by_code["can"]["distance_km"] < by_code["sha"]["distance_km"]
    assert ledger_mismatches() == []


def test_fresh_goods_only_go_to_a_cold_chain_location(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks, lines=(("FRESH-1", 1),))  # ships to Shanghai
    assert order.shipments.get().location == world["can"]
    decision = order.routing_decisions.get()
    sha = next(c for c in decision_candidates(decision) if c["location"] == "sha")
    assert sha["eligible"] is False
    assert "cannot handle fresh" in sha["verdict"]


def test_no_location_with_all_stock_holds_stock_short_and_reserves_nothing(world, django_capture_on_commit_callbacks):
    # 21 > the 20 units of both locations together (11 would now be split 10 + 1 over them).
    order = _create(world, django_capture_on_commit_callbacks, lines=(("SKU-A", 21),))
    assert order.status == OrderStatus.CONFIRMED
    assert order.on_hold is True
    assert order.holds.get().reason == HoldReason.STOCK_SHORT
    assert "short of SKU-A" in order.holds.get().note
    assert not Shipment.objects.exists()
    assert Stock.objects.filter(reserved__gt=0).count() == 0


def test_routing_twice_is_a_no_op(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks)
    assert services.order_route(order_id=order.pk) is None
    assert order.shipments.count() == 1
    assert StockMovement.objects.filter(kind=MovementKind.RESERVE).count() == 1


def test_cancel_releases_the_reservation(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks)
    order_cancel(order=order, reason="changed mind")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.shipments.get().status == ShipmentStatus.CANCELLED
    assert Stock.objects.filter(reserved__gt=0).count() == 0
    assert ledger_mismatches() == []


def test_picklist_pack_and_ship_move_stock_out_through_the_ledger(world, django_capture_on_commit_callbacks):
    o1 = _create(world, django_capture_on_commit_callbacks, "E1")
    o2 = _create(world, django_capture_on_commit_callbacks, "E2", lines=(("SKU-A", 1),))
    picklist = services.picklist_create(location=world["sha"])
    assert set(picklist.shipments.values_list("order_id", flat=True)) == {o1.pk, o2.pk}
    o1.refresh_from_db()
    assert o1.status == OrderStatus.PICKING

    shipment = o1.shipments.get()
    services.shipment_pack(shipment=shipment, weight_g=1200)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PACKED and shipment.weight_g == 1200
    o1.refresh_from_db()
    assert o1.status == OrderStatus.PACKED

    services.shipment_ship(shipment=shipment)
    row = Stock.objects.get(location=world["sha"], product=world["a"])
    assert (row.on_hand, row.reserved) == (8, 1)
    assert StockMovement.objects.filter(kind=MovementKind.SHIPMENT, reference=shipment.number).get().on_hand_delta == -2
    o1.refresh_from_db()
    assert o1.status == OrderStatus.SHIPPED
    assert ledger_mismatches() == []


def test_nothing_ready_to_pick_is_a_clear_error(world):
    with pytest.raises(DomainError, match="No shipments are ready"):
        services.picklist_create(location=world["sha"])


def test_shipping_an_unpacked_shipment_is_refused(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError):
        services.shipment_ship(shipment=order.shipments.get())
    assert Stock.objects.get(location=world["sha"], product=world["a"]).on_hand == 10


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], OrderStatus.CONFIRMED),
        (["reserved"], OrderStatus.ALLOCATED),
        (["reserved", "picking"], OrderStatus.PICKING),
        (["packed", "packed"], OrderStatus.PACKED),
        (["shipped", "reserved"], OrderStatus.PARTIALLY_SHIPPED),
        (["in_transit", "delivered"], OrderStatus.SHIPPED),
        (["delivered", "cancelled"], OrderStatus.DELIVERED),
    ],
)
def test_order_progress_is_derived_from_shipments(statuses, expected):
    assert derive_order_status(statuses) == expected
