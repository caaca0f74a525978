"""Split and merge of shipments (fulfillment/split.py, fulfillment/merge.py) and the cascade through the
one status door; pages checked with the test client."""

import pytest
from django.urls import reverse

from fulfillment import merge, services, split
from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from logistics.models import Parcel
from logistics.services import shipment_dispatch
from oms.errors import DomainError
from oms.roles import CUSTOMER_SERVICE, MANAGER
from orders import services as order_services
from orders.models import OrderEvent
from orders.status import EventKind, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, make_user
from tests.factories import stock as receive
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sha = LocationFactory(code="sha", name="Shanghai DC", latitude=31.23, longitude=121.47)
    far = LocationFactory(code="far", name="Far DC", city="Urumqi", latitude=43.8, longitude=87.6)
    a = ProductFactory(sku="SKU-A", weight_g=500)
    b = ProductFactory(sku="SKU-B", weight_g=1500)
    for loc in (sha, far):
        receive(loc, a, 20)
        receive(loc, b, 20)
    ServiceLevelFactory(code="std")
    return {"sha": sha, "far": far, "a": a, "b": b, "channel": ChannelFactory(slug="web")}


def _order(world, cb, ext, lines=(("SKU-A", 2), ("SKU-B", 1)), **kw):
    with cb(execute=True):
        result = order_services.order_create(
            channel=world["channel"], data=canonical(ext, lines=lines, **kw), source="test"
        )
    result.order.refresh_from_db()
    assert result.order.status == OrderStatus.ALLOCATED
    return result.order


def _row(loc, product):
    row = Stock.objects.get(location=loc, product=product)
    return row.on_hand, row.reserved


# ---- split -----------------------------------------------------------------------------------------


def test_split_at_the_same_location_moves_lines_and_keeps_stock(world, django_capture_on_commit_callbacks):
    order = _order(world, django_capture_on_commit_callbacks, "S1")
    shipment = order.shipments.get()
    line_a = shipment.lines.get(product=world["a"])
    new = split.shipment_split(shipment=shipment, quantities={line_a.pk: 1}, reason_code="capacity", note="box")
    assert new.location == world["sha"] and new.number.startswith("SH")
    assert [(ln.product.sku, ln.quantity) for ln in new.lines.all()] == [("SKU-A", 1)]
    assert shipment.lines.get(product=world["a"]).quantity == 1
    assert _row(world["sha"], world["a"]) == (20, 2)  # nothing moved in stock
    event = order.events.get(kind=EventKind.SPLIT)
    assert event.data["reason_code"] == "capacity" and event.data["new_shipment"] == new.number


def test_split_to_another_location_releases_here_and_reserves_there(world, django_capture_on_commit_callbacks):
    order = _order(world, django_capture_on_commit_callbacks, "S2")
    shipment = order.shipments.get()
    line_b = shipment.lines.get(product=world["b"])
    new = split.shipment_split(
        shipment=shipment, quantities={line_b.pk: 1}, location=world["far"], reason_code="out_of_stock"
    )
    assert new.location == world["far"]
    assert not shipment.lines.filter(product=world["b"]).exists()
    assert _row(world["sha"], world["b"]) == (20, 0)
    assert _row(world["far"], world["b"]) == (20, 1)
    assert ledger_mismatches() == []


def test_split_to_a_short_location_changes_nothing(world, django_capture_on_commit_callbacks):
    order = _order(world, django_capture_on_commit_callbacks, "S3", lines=(("SKU-A", 2), ("SKU-B", 5)))
    shipment = order.shipments.get()
    Stock.objects.filter(location=world["far"], product=world["b"]).update(reserved=18)
    line_b = shipment.lines.get(product=world["b"])
    with pytest.raises(DomainError, match="far cannot take it"):
        split.shipment_split(
            shipment=shipment, quantities={line_b.pk: 5}, location=world["far"], reason_code="capacity"
        )
    assert order.shipments.count() == 1
    assert _row(world["sha"], world["b"]) == (20, 5)
    assert not order.events.filter(kind=EventKind.SPLIT).exists()


def test_split_refuses_moving_everything_and_picked_shipments(world, django_capture_on_commit_callbacks):
    order = _order(world, django_capture_on_commit_callbacks, "S4", lines=(("SKU-A", 2),))
    shipment = order.shipments.get()
    line = shipment.lines.get()
    with pytest.raises(DomainError, match="Nothing would stay"):
        split.shipment_split(shipment=shipment, quantities={line.pk: 2}, reason_code="capacity")
    with pytest.raises(DomainError, match="reason code"):
        split.shipment_split(shipment=shipment, quantities={line.pk: 1}, reason_code="")
    services.picklist_create(location=world["sha"])
    with pytest.raises(DomainError, match="already being picked"):
        split.shipment_split(shipment=shipment, quantities={line.pk: 1}, reason_code="capacity")


# ---- merge -----------------------------------------------------------------------------------------


def _pair(world, cb):
    one = _order(world, cb, "M1")
    # Same customer by name and phone, the address written differently.
    two = _order(world, cb, "M2", lines=(("SKU-A", 1),), ship_to={"address1": "88  century avenue", "email": ""})
    other = _order(
        world, cb, "M3", ship_to={"name": "Han Meimei", "phone": "+86 139 0000 0000", "email": "han@example.com"}
    )
    return one.shipments.get(), two.shipments.get(), other.shipments.get()


def test_merge_suggestion_shows_the_cost_saved(world, django_capture_on_commit_callbacks):
    s1, s2, other = _pair(world, django_capture_on_commit_callbacks)
    suggestions = merge.merge_suggestions()
    assert len(suggestions) == 1
    sug = suggestions[0]
    assert sug.shipment_ids == [s1.pk, s2.pk]  # not the other customer's
    assert sug.weight_g == 2500 + 500
    # Rated by logistics (registered): base 8 + 2/kg started -> 8+6 and 8+2 apart, 8+6 together.
    assert sug.basis == "rated"
    assert sug.separate_cost == pytest.approx(24) and sug.merged_cost == pytest.approx(14)
    assert sug.saved == pytest.approx(10)


def test_weight_only_estimate_without_logistics(world, django_capture_on_commit_callbacks):
    s1, s2, _ = _pair(world, django_capture_on_commit_callbacks)
    saved = merge._estimator
    merge.register_parcel_cost_estimator(None)
    try:
        sug = merge.merge_suggestions()[0]
    finally:
        merge.register_parcel_cost_estimator(saved)
    assert sug.basis == "weight only"
    assert sug.separate_cost == merge.weight_only_cost(2500) + merge.weight_only_cost(500)
    assert sug.saved == merge.weight_only_cost(500)  # 3 kg together cost what 2500 g alone cost


def test_merge_picklist_pack_ship_cascade(world, django_capture_on_commit_callbacks):
    s1, s2, other = _pair(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        lead = merge.shipments_merge(shipment_ids=[s2.pk, s1.pk], reason_code="consolidation")
    assert lead.pk == s1.pk
    s2.refresh_from_db()
    assert s2.merged_into_id == s1.pk and s2.merged_at is not None
    assert OrderEvent.objects.filter(kind=EventKind.MERGED, order__in=[s1.order, s2.order]).count() == 2
    with pytest.raises(DomainError, match="different|not for the same customer|another address"):
        merge.shipments_merge(shipment_ids=[s1.pk, other.pk])
    # A member alone is never picked; the lead brings it.
    assert not Shipment.objects.ready_to_pick().filter(pk=s2.pk).exists()
    picklist = services.picklist_create(location=world["sha"], shipment_ids=[s1.pk, other.pk])
    s2.refresh_from_db()
    assert s2.picklist == picklist and s2.status == ShipmentStatus.PICKING
    assert s2.order.__class__.objects.get(pk=s2.order_id).status == OrderStatus.PICKING
    # Packing the member alone is refused; packing the lead packs both.
    with pytest.raises(DomainError, match="travels with"):
        services.shipment_pack(shipment=s2)
    services.shipment_pack(shipment=s1)
    s1.refresh_from_db()
    s2.refresh_from_db()
    assert s2.status == ShipmentStatus.PACKED
    assert s1.weight_g == 3000  # the one parcel weighs both
    with django_capture_on_commit_callbacks(execute=True):
        parcel = shipment_dispatch(shipment=s1)
    assert parcel.weight_g == 3000
    assert Parcel.objects.filter(shipment=s2).count() == 0  # one label: the lead's
    s2.refresh_from_db()
    assert s2.status == ShipmentStatus.SHIPPED
    member_order = s2.order.__class__.objects.get(pk=s2.order_id)
    assert member_order.status == OrderStatus.SHIPPED
    assert member_order.events.filter(kind=EventKind.SHIPPED, data__tracking_number=parcel.tracking_number).exists()
    assert member_order.notifications.filter(kind="shipped").exists()
    assert _row(world["sha"], world["a"]) == (20 - 3, 2)  # other's 2 still reserved, the merged 3 shipped
    assert ledger_mismatches() == []


def test_unmerge_before_picking_and_refused_after(world, django_capture_on_commit_callbacks):
    s1, s2, _ = _pair(world, django_capture_on_commit_callbacks)
    merge.shipments_merge(shipment_ids=[s1.pk, s2.pk])
    members = merge.shipment_unmerge(shipment=s1, reason_code="customer_request")
    assert [m.pk for m in members] == [s2.pk]
    s2.refresh_from_db()
    assert s2.merged_into is None and s2.merged_at is None
    assert s2.order.events.filter(kind=EventKind.UNMERGED, data__reason_code="customer_request").exists()
    merge.shipments_merge(shipment_ids=[s1.pk, s2.pk])
    services.picklist_create(location=world["sha"], shipment_ids=[s1.pk])
    with pytest.raises(DomainError, match="only be undone before picking"):
        merge.shipment_unmerge(shipment=s2)
    s2.refresh_from_db()
    assert s2.merged_into_id == s1.pk


def test_cancelling_the_lead_frees_its_members(world, django_capture_on_commit_callbacks):
    s1, s2, _ = _pair(world, django_capture_on_commit_callbacks)
    merge.shipments_merge(shipment_ids=[s1.pk, s2.pk])
    order_cancel(order=s1.order, reason="changed mind")
    s2.refresh_from_db()
    assert s2.merged_into is None and s2.status == ShipmentStatus.RESERVED
    assert Shipment.objects.ready_to_pick().filter(pk=s2.pk).exists()


# ---- pages -----------------------------------------------------------------------------------------


def test_pages_and_permissions(world, django_capture_on_commit_callbacks, client):
    s1, s2, _ = _pair(world, django_capture_on_commit_callbacks)
    client.force_login(make_user("cs", CUSTOMER_SERVICE))
    assert client.get(reverse("fulfillment:merge_suggestions")).status_code == 403
    assert client.post(reverse("fulfillment:merge_create"), {"shipment": [s1.pk, s2.pk]}).status_code == 403
    client.force_login(make_user("boss", MANAGER))
    page = client.get(reverse("fulfillment:merge_suggestions"))
    assert page.status_code == 200
    assert s1.number.encode() in page.content and b"saves 10" in page.content
    detail = client.get(reverse("fulfillment:shipment_detail", args=[s1.number]))
    assert b"Merge into one parcel" in detail.content and s2.number.encode() in detail.content
    response = client.post(
        reverse("fulfillment:merge_create"), {"shipment": [s1.pk, s2.pk], "reason_code": "consolidation"}
    )
    assert response.status_code == 302
    s2.refresh_from_db()
    assert s2.merged_into_id == s1.pk
    detail = client.get(reverse("fulfillment:shipment_detail", args=[s2.number]))
    assert b"Travels in one parcel with" in detail.content
    response = client.post(reverse("fulfillment:merge_undo", args=[s2.number]), {"reason_code": "other"}, follow=True)
    assert b"Unmerged" in response.content
    # Split page: a bad quantity is a message, not a 500.
    line = s1.lines.first()
    response = client.post(
        reverse("fulfillment:shipment_split", args=[s1.number]), {f"move_{line.pk}": "99", "reason_code": "capacity"}
    )
    assert response.status_code == 200 and b"move between 1 and" in response.content
    response = client.post(
        reverse("fulfillment:shipment_split", args=[s1.number]),
        {f"move_{line.pk}": "1", "reason_code": "capacity", "location": world["far"].pk},
    )
    assert response.status_code == 302
    assert s1.order.shipments.filter(location=world["far"]).exists()
