"""The pack station with merged shipments (fulfillment/merge.py): scanning the lead expects the lead's lines
and every member's, progress and mismatches are kept for them, packing the lead packs them all, and a
member's number sends the packer to the lead."""

import pytest

from fulfillment import merge, packing
from fulfillment.models import PackMismatch, Shipment
from fulfillment.status import ShipmentStatus
from logistics.models import Parcel
from oms.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderEvent
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, make_user
from tests.factories import stock as receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(django_capture_on_commit_callbacks):
    """Lead SH(a): SKU-A ×2, SKU-B ×1; member SH(b), another order of the same customer: SKU-A ×1, SKU-C ×1."""
    sha = LocationFactory(code="sha", latitude=31.23, longitude=121.47)
    for sku, weight in (("SKU-A", 500), ("SKU-B", 1500), ("SKU-C", 200)):
        receive(sha, ProductFactory(sku=sku, weight_g=weight), 20)
    ProductFactory(sku="OTHER-9")
    ServiceLevelFactory(code="std")
    channel = ChannelFactory(slug="web")
    shipments = []
    for ext, lines in (("M1", (("SKU-A", 2), ("SKU-B", 1))), ("M2", (("SKU-A", 1), ("SKU-C", 1)))):
        with django_capture_on_commit_callbacks(execute=True):
            order = order_services.order_create(channel=channel, data=canonical(ext, lines=lines), source="t").order
        shipments.append(order.shipments.get())
    lead = merge.shipments_merge(shipment_ids=[s.pk for s in shipments])
    member = next(s for s in shipments if s.pk != lead.pk)
    return Shipment.objects.get(pk=lead.pk), Shipment.objects.get(pk=member.pk)


def rows(lead):
    return [
        (r["sku"], r["scanned"], r["quantity"], [(p["shipment"], p["scanned"], p["quantity"]) for p in r["parts"]])
        for r in packing.expected_items(Shipment.objects.get(pk=lead.pk))
    ]


def test_the_lead_expects_its_lines_and_every_members(merged):
    lead, member = merged
    assert packing.pack_find(lead.number.lower()) == lead
    assert rows(lead) == [
        ("SKU-A", 0, 3, [(lead.number, 0, 2), (member.number, 0, 1)]),
        ("SKU-B", 0, 1, [(lead.number, 0, 1)]),
        ("SKU-C", 0, 1, [(member.number, 0, 1)]),
    ]
    for code in ("SKU-A", "SKU-C", "SKU-A", "SKU-B"):
        assert packing.pack_scan(shipment=lead, code=code).kind == "ok"
    last = packing.pack_scan(shipment=lead, code="sku-a")
    assert last.kind == "complete"
    assert rows(lead)[0] == ("SKU-A", 3, 3, [(lead.number, 2, 2), (member.number, 1, 1)])
    assert not PackMismatch.objects.exists()


def test_a_members_number_sends_the_packer_to_the_lead(merged):
    lead, member = merged
    with pytest.raises(DomainError, match=f"travels with {lead.number}: scan {lead.number} instead"):
        packing.pack_find(member.number)
    with pytest.raises(DomainError, match=f"scan {lead.number} instead"):
        packing.pack_scan(shipment=member, code="SKU-A")
    assert Shipment.objects.get(pk=member.pk).pack_progress in ({}, None)


def test_wrong_and_surplus_items_are_recorded_on_the_parcel(merged):
    lead, member = merged
    wrong = packing.pack_scan(shipment=lead, code="OTHER-9")
    assert wrong.kind == "wrong"
    assert f"is not in shipment {lead.number} (merged with {member.number})" in wrong.message
    packing.pack_scan(shipment=lead, code="SKU-C")
    assert packing.pack_scan(shipment=lead, code="SKU-C").kind == "surplus"
    assert [(m.shipment_id, m.kind, m.expected) for m in PackMismatch.objects.order_by("id")] == [
        (lead.pk, "wrong", "SKU-A ×3, SKU-B ×1, SKU-C ×1"),
        (lead.pk, "surplus", "SKU-C ×1"),
    ]


def test_short_is_recorded_on_the_shipment_and_order_it_is_missing_from(merged):
    lead, member = merged
    for code in ("SKU-A", "SKU-A", "SKU-B"):  # the lead's own goods are all there; the member's are not
        packing.pack_scan(shipment=lead, code=code)
    rows_ = packing.pack_report_short(shipment=lead, note="bin empty")
    assert sorted((r.shipment_id, r.expected, r.quantity) for r in rows_) == [
        (member.pk, "SKU-A ×1", 1),
        (member.pk, "SKU-C ×1", 1),
    ]
    event = OrderEvent.objects.get(order=member.order, data__short__isnull=False)
    assert event.message == (
        f"Shipment {member.number} (in the parcel of {lead.number}) short at packing: SKU-A ×1, SKU-C ×1 (bin empty)"
    )
    assert not OrderEvent.objects.filter(order=lead.order, data__short__isnull=False).exists()
    assert {Shipment.objects.get(pk=s.pk).status for s in merged} == {ShipmentStatus.RESERVED}


def test_packing_the_lead_packs_every_member(merged):
    lead, member = merged
    with pytest.raises(DomainError, match="not complete; still to scan: SKU-A ×3, SKU-B ×1, SKU-C ×1"):
        packing.pack_complete(shipment=lead, weight_g=3000)
    for code in ("SKU-A", "SKU-A", "SKU-A", "SKU-B", "SKU-C"):
        packing.pack_scan(shipment=lead, code=code)
    packing.pack_complete(shipment=lead, weight_g=2800, package_type="box-m")
    lead.refresh_from_db()
    member.refresh_from_db()
    assert (lead.status, lead.weight_g, member.status) == ("packed", 2800, "packed")
    assert Order.objects.get(pk=member.order_id).status == OrderStatus.PACKED
    assert OrderEvent.objects.filter(order=member.order, kind=EventKind.PACKED).exists()


def test_a_member_on_hold_stops_the_parcel(merged):
    lead, member = merged
    order_services.order_hold(order=member.order, reason=HoldReason.MANUAL, note="check")
    with pytest.raises(DomainError, match=f"Order {member.order.number} .*merged into {lead.number}.* on hold"):
        packing.pack_find(lead.number)


# ---- the pages, as a scanner drives them ---------------------------------------------------------


def test_station_pages_for_a_merged_parcel(merged, client):
    lead, member = merged
    client.force_login(make_user("packer", "warehouse"))
    page = client.get(f"/fulfillment/pack/{lead.number}/").content.decode()
    assert 'data-merged="1"' in page and f"{member.number} (order {member.order.number})" in page
    assert "0 / 5" in page  # 2 + 1 of the lead, 1 + 1 of the member

    # The member's number, as the first scan or in the middle of packing the lead: go to the lead.
    first = client.get("/fulfillment/pack/", {"code": member.number}).content.decode()
    assert 'data-scan="error"' in first and f"scan {lead.number} instead" in first
    direct = client.get(f"/fulfillment/pack/{member.number}/").content.decode()
    assert f"scan {lead.number} instead" in direct and f"Pack {member.number}" not in direct
    htmx = {"HTTP_HX_REQUEST": "true"}
    part = client.post(f"/fulfillment/pack/{lead.number}/scan/", {"code": member.number}, **htmx).content.decode()
    assert f"Shipment {member.number} is packed in this parcel: scan its items." in part

    for code in ("SKU-A", "SKU-A", "SKU-A", "SKU-B", "SKU-C"):
        part = client.post(f"/fulfillment/pack/{lead.number}/scan/", {"code": code}, **htmx).content.decode()
    assert "all items scanned" in part and "Pack &amp; print label" in part
    assert 'value="3.2"' in part  # the weight offered: the lead's 2500 g and the member's 700 g

    done = client.post(
        f"/logistics/pack/{lead.number}/ship/", {"weight_kg": "3.3", "package_type": "box-m", "label_size": "4x6"}
    )
    assert done.status_code == 302, done.content.decode()[:500]
    parcel = Parcel.objects.get()
    assert parcel.shipment_id == lead.pk and parcel.weight_g == 3300
    member.refresh_from_db()
    assert member.status == ShipmentStatus.SHIPPED
    assert Order.objects.get(pk=member.order_id).status == OrderStatus.SHIPPED
