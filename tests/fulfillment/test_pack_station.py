"""The pack station: scan checks (right, wrong, surplus, unknown, short), mismatches recorded for pick
accuracy, completion with weight and package type, and the pages driven like a keyboard-wedge scanner."""

import pytest

from fulfillment import packing
from fulfillment.models import PackMismatch, Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Product
from logistics.models import Parcel
from oms.errors import DomainError
from orders import services as order_services
from orders.models import OrderEvent
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    make_user,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipment(django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="TEA-1", barcode="6901234567892", name="龙井茶"), 10)
    stock(location, ProductFactory(sku="CUP-2", barcode=""), 10)
    ProductFactory(sku="OTHER-9", barcode="4006381333931")
    ServiceLevelFactory(code="std")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=ChannelFactory(slug="web"), data=canonical(lines=[("TEA-1", 2), ("CUP-2", 1)]), source="t"
        ).order
    return order.shipments.get()


def progress(shipment):
    return [
        (r["sku"], r["scanned"], r["quantity"]) for r in packing.expected_items(Shipment.objects.get(pk=shipment.pk))
    ]


def test_scans_by_barcode_or_sku_until_complete(shipment):
    assert packing.pack_scan(shipment=shipment, code=" 6901234567892 ").message == "TEA-1 1/2"
    assert packing.pack_scan(shipment=shipment, code="cup-2").kind == "ok"
    last = packing.pack_scan(shipment=shipment, code="6901234567892")
    assert (last.kind, last.message) == ("complete", "TEA-1 2/2 — all items scanned.")
    assert progress(shipment) == [("TEA-1", 2, 2), ("CUP-2", 1, 1)]
    assert not PackMismatch.objects.exists()


def test_wrong_surplus_and_unknown_items_are_refused_and_recorded(shipment):
    packing.pack_scan(shipment=shipment, code="CUP-2")
    wrong = packing.pack_scan(shipment=shipment, code="4006381333931")
    surplus = packing.pack_scan(shipment=shipment, code="CUP-2")
    unknown = packing.pack_scan(shipment=shipment, code="XYZ")

    assert wrong.message == f"WRONG ITEM: OTHER-9 Product OTHER-9 is not in shipment {shipment.number}. Put it aside."
    assert surplus.message == "SURPLUS: CUP-2 — all 1 already scanned. Put it aside."
    assert unknown.message == f"WRONG ITEM: unknown code XYZ is not in shipment {shipment.number}. Put it aside."
    assert [
        (m.kind, m.scanned_code, m.product.sku if m.product else None, m.expected)
        for m in PackMismatch.objects.order_by("id")
    ] == [
        ("wrong", "4006381333931", "OTHER-9", "TEA-1 ×2"),
        ("surplus", "CUP-2", "CUP-2", "CUP-2 ×1"),
        ("wrong", "XYZ", None, "TEA-1 ×2"),
    ]
    assert progress(shipment) == [("TEA-1", 0, 2), ("CUP-2", 1, 1)]  # nothing counted for them


def test_incomplete_shipment_cannot_be_packed_and_nothing_changes(shipment):
    packing.pack_scan(shipment=shipment, code="CUP-2")
    with pytest.raises(DomainError, match="not complete; still to scan: TEA-1 ×2"):
        packing.pack_complete(shipment=shipment, weight_g=900, package_type="box-s")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_g, shipment.package_type) == ("reserved", None, "")


def test_complete_packs_with_weight_and_package_type(shipment):
    for code in ("TEA-1", "TEA-1", "CUP-2"):
        packing.pack_scan(shipment=shipment, code=code)
    packing.pack_complete(shipment=shipment, weight_g=1250, package_type="box-s")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_g, shipment.package_type) == ("packed", 1250, "box-s")
    with pytest.raises(DomainError, match="is Packed: nothing to pack"):
        packing.pack_scan(shipment=shipment, code="TEA-1")


def test_short_report_records_the_missing_units_and_an_event(shipment):
    packing.pack_scan(shipment=shipment, code="TEA-1")
    rows = packing.pack_report_short(shipment=shipment, note="bin empty")
    assert [(r.kind, r.product_id, r.expected, r.quantity) for r in rows] == [
        ("short", Product.objects.get(sku="TEA-1").pk, "TEA-1 ×2", 1),
        ("short", Product.objects.get(sku="CUP-2").pk, "CUP-2 ×1", 1),
    ]
    assert sorted((m.scanned_code, m.quantity) for m in PackMismatch.objects.all()) == [("CUP-2", 1), ("TEA-1", 1)]
    event = OrderEvent.objects.filter(order=shipment.order, data__short__isnull=False).get()
    assert event.message == f"Shipment {shipment.number} short at packing: TEA-1 ×1, CUP-2 ×1 (bin empty)"
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.RESERVED


def test_reset_starts_again(shipment):
    packing.pack_scan(shipment=shipment, code="TEA-1")
    packing.pack_reset(shipment=shipment)
    assert progress(shipment) == [("TEA-1", 0, 2), ("CUP-2", 0, 1)]


def test_pick_accuracy_counts(shipment):
    packing.pack_scan(shipment=shipment, code="XYZ")
    packing.pack_scan(shipment=shipment, code="XYZ")
    result = packing.pick_accuracy(PackMismatch.objects.all(), shipments_packed=4)
    assert result == {"by_kind": {"wrong": 2, "surplus": 0, "short": 0}, "shipments_with_mismatch": 1, "accuracy": 0.75}


# ---- the pages, as a scanner drives them ---------------------------------------------------------


def test_station_flow_scan_shipment_items_then_pack_and_print(shipment, client):
    client.force_login(make_user("packer", "warehouse"))
    start = client.get("/fulfillment/pack/", {"code": shipment.number.lower()})
    assert start.status_code == 302 and start.url == f"/fulfillment/pack/{shipment.number}/"
    page = client.get(start.url).content.decode()
    assert 'id="scan-code"' in page and "autofocus" in page and "龙井茶" in page

    htmx = {"HTTP_HX_REQUEST": "true"}
    bad = client.post(f"/fulfillment/pack/{shipment.number}/scan/", {"code": "4006381333931"}, **htmx).content.decode()
    assert 'data-scan="error"' in bad and "WRONG ITEM: OTHER-9" in bad and "<html" not in bad
    for code in ("TEA-1", "6901234567892", "CUP-2"):
        part = client.post(f"/fulfillment/pack/{shipment.number}/scan/", {"code": code}, **htmx).content.decode()
    assert "all items scanned" in part and "Pack &amp; print label" in part

    done = client.post(
        f"/logistics/pack/{shipment.number}/ship/", {"weight_kg": "1.250", "package_type": "box-m", "label_size": "zpl"}
    )
    parcel = Parcel.objects.get()
    assert done.status_code == 302
    assert done.url == (
        f"/fulfillment/pack/?done={shipment.number}&label=%2Flogistics%2Fparcels%2F{parcel.pk}%2Flabel.zpl"
    )
    shipment.refresh_from_db()
    assert (shipment.status, shipment.weight_g, shipment.package_type) == ("shipped", 1250, "box-m")
    zpl = client.get(f"/logistics/parcels/{parcel.pk}/label.zpl")
    assert zpl["Content-Type"] == "application/zpl; charset=utf-8"
    assert zpl.content.decode().startswith("^XA\n^CI28\n")


def test_station_unknown_shipment_is_a_red_banner_not_a_500(shipment, client):
    client.force_login(make_user("packer", "warehouse"))
    response = client.get("/fulfillment/pack/", {"code": "SH999"})
    assert response.status_code == 200
    assert 'data-scan="error"' in response.content.decode() and "No shipment SH999." in response.content.decode()


def test_pack_and_ship_of_an_incomplete_shipment_changes_nothing(shipment, client):
    client.force_login(make_user("packer", "warehouse"))
    response = client.post(
        f"/logistics/pack/{shipment.number}/ship/",
        {"weight_kg": "1", "package_type": "box-m", "label_size": "4x6"},
        follow=True,
    )
    assert "still to scan: TEA-1 ×2, CUP-2 ×1" in response.content.decode()
    shipment.refresh_from_db()
    assert shipment.status == "reserved" and not Parcel.objects.exists()


def test_station_needs_the_pack_permission(shipment, client):
    client.force_login(make_user("cs", "customer_service"))
    assert client.get("/fulfillment/pack/").status_code == 403
    assert client.post(f"/fulfillment/pack/{shipment.number}/scan/", {"code": "TEA-1"}).status_code == 403
    assert progress(shipment) == [("TEA-1", 0, 2), ("CUP-2", 0, 1)]
