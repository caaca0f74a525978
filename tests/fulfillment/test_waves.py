"""Waves: cut by carrier (planned by logistics rating), cut-off, priority and zone, within limits on orders
and lines; single-order pick lists; reprints; the pick list in bin pick-sequence order."""

import io
from datetime import time

import pytest
from pypdf import PdfReader

from fulfillment import waves
from fulfillment.documents import picklist_context, picklist_pdf
from fulfillment.models import PickList, Shipment
from fulfillment.status import PickListKind, ShipmentStatus
from inventory.models import Bin, HandlingClass
from oms.errors import DomainError
from orders import services as order_services
from orders.models import OrderEvent
from tests.factories import (
    CarrierFactory,
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(django_capture_on_commit_callbacks):
    """Five orders at one location: zone A (two bins), zone B, a fresh one in zone C; two carriers."""
    location = LocationFactory(code="sha", cold_chain=True)
    for code, zone, seq in [("A-01-02", "A", 20), ("A-01-10", "A", 10), ("B-05-01", "B", 30), ("C-01-01", "C", 40)]:
        Bin.objects.create(location=location, code=code, zone=zone, pick_sequence=seq)
    products = {
        "A1": ProductFactory(sku="A1", name="茶叶 A1"),
        "A2": ProductFactory(sku="A2"),
        "B1": ProductFactory(sku="B1"),
        "F1": ProductFactory(sku="F1", handling_class=HandlingClass.FRESH),
    }
    for sku, bin_code in [("A1", "A-01-10"), ("A2", "A-01-02"), ("B1", "B-05-01"), ("F1", "C-01-01")]:
        stock(location, products[sku], 100, bin=bin_code)
    local = CarrierFactory(code="local", pickup_cutoff="18:00")
    ServiceLevelFactory(carrier=local, code="std", base_rate="5.00")
    cold = CarrierFactory(code="coldco", name="Cold Co", pickup_cutoff="12:00")
    ServiceLevelFactory(carrier=cold, code="cold", base_rate="20.00", cold_chain=True)
    channel = ChannelFactory(slug="web")
    shipments = {}
    for ext, lines, priority in [
        ("O1", [("A1", 1)], None),
        ("O2", [("A1", 2), ("A2", 1)], None),
        ("O3", [("B1", 1)], None),
        ("O4", [("F1", 1)], None),
        ("O5", [("A2", 3)], 1),
    ]:
        data = canonical(external_id=ext, lines=lines, priority=priority)
        with django_capture_on_commit_callbacks(execute=True):
            order = order_services.order_create(channel=channel, data=data, source="t").order
        shipments[ext] = order.shipments.get()
    return {"location": location, "shipments": shipments}


def numbers(picklist):
    return sorted(s.order.external_id for s in picklist.shipments.select_related("order"))


def test_wave_by_carrier_and_zone_priority_first_within_the_order_limit(floor):
    wave = waves.wave_create(location=floor["location"], carrier="local", zone="A", max_orders=2)

    assert numbers(wave) == ["O1", "O5"]  # O5 is priority 1; O1 is older than O2
    assert (wave.kind, wave.carrier_code, wave.zone, wave.line_count) == ("wave", "local", "A", 2)
    assert wave.criteria == {
        "carrier": "local",
        "zone": "A",
        "cutoff_by": "",
        "priority_max": None,
        "max_orders": 2,
        "max_lines": 200,
        "left_out": 1,
    }
    o5 = Shipment.objects.get(pk=floor["shipments"]["O5"].pk)
    assert (o5.status, o5.planned_service, o5.planned_cutoff.strftime("%H:%M")) == ("picking", "local/std", "18:00")
    assert Shipment.objects.get(pk=floor["shipments"]["O2"].pk).status == ShipmentStatus.RESERVED


def test_line_limit_skips_a_shipment_that_does_not_fit_and_takes_a_smaller_one(floor):
    wave = waves.wave_create(location=floor["location"], carrier="local", max_lines=2)
    # O5 (1 line) first, then O1 (1 line): 2 lines; O2 (2 lines) and O3 do not fit.
    assert numbers(wave) == ["O1", "O5"]
    assert wave.line_count == 2


def test_a_shipment_bigger_than_the_line_limit_makes_a_wave_alone(floor):
    wave = waves.wave_create(
        location=floor["location"], zone="A", priority_max=5, max_lines=1, shipment_ids=[floor["shipments"]["O2"].pk]
    )
    assert numbers(wave) == ["O2"] and wave.line_count == 2


def test_cut_off_wave_takes_the_early_pickup_carrier_only(floor):
    wave = waves.wave_create(location=floor["location"], cutoff_by=time(12, 0))
    assert numbers(wave) == ["O4"]
    assert Shipment.objects.get(pk=floor["shipments"]["O4"].pk).planned_service == "coldco/cold"


def test_priority_wave(floor):
    # O5 came with priority 1; O4 is fresh, which the default classification rule makes priority 1.
    assert numbers(waves.wave_create(location=floor["location"], priority_max=1)) == ["O4", "O5"]


def test_no_matching_shipment_changes_nothing(floor):
    with pytest.raises(DomainError, match="No shipments are ready to pick at sha for carrier coldco, zone A."):
        waves.wave_create(location=floor["location"], carrier="coldco", zone="A")
    assert not PickList.objects.exists()
    assert set(Shipment.objects.values_list("status", flat=True)) == {"reserved"}
    assert set(Shipment.objects.values_list("planned_service", flat=True)) == {""}


def test_wave_plan_groups_by_carrier_and_zone_earliest_cut_off_first(floor):
    plan = waves.wave_plan(floor["location"], max_orders=2)
    assert [
        (g.carrier, g.zone, g.cutoff.strftime("%H:%M"), sorted(c.shipment.order.external_id for c in g.shipments))
        for g in plan
    ] == [
        ("coldco", "C", "12:00", ["O4"]),
        ("local", "A", "18:00", ["O1", "O5"]),
        ("local", "A", "18:00", ["O2"]),
        ("local", "B", "18:00", ["O3"]),
    ]
    assert not PickList.objects.exists()  # a preview writes nothing


def test_pick_list_walks_bins_in_pick_sequence_with_zones(floor):
    wave = waves.wave_create(location=floor["location"], carrier="local", zone="A")
    context = picklist_context(wave)
    # A-01-10 has sequence 10 and comes before A-01-02 (sequence 20), although natural order says otherwise.
    assert [(i["bin"], i["zone"], i["sku"], i["quantity"]) for i in context["items"]] == [
        ("A-01-10", "A", "A1", 3),
        ("A-01-02", "A", "A2", 4),
    ]
    pdf = picklist_pdf(wave)
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == pytest.approx(
        (595.28, 841.89), abs=0.5
    )
    assert "Wave 波次 carrier\nlocal · zone 区 A" in text
    assert text.index("A-01-10") < text.index("A-01-02")


def test_single_order_pick_list_and_reprint(floor):
    shipment = floor["shipments"]["O3"]
    single = waves.picklist_for_shipment(shipment=shipment)
    assert (single.kind, numbers(single)) == (PickListKind.SINGLE, ["O3"])
    shipment.refresh_from_db()
    with pytest.raises(DomainError, match=f"is on pick list {single.number}; reprint that one"):
        waves.picklist_for_shipment(shipment=shipment)
    assert PickList.objects.count() == 1

    waves.picklist_printed(picklist=single)
    assert not OrderEvent.objects.filter(order=shipment.order, data__printed_count__isnull=False).exists()
    again = waves.picklist_printed(picklist=single)
    assert again.printed_count == 2
    event = OrderEvent.objects.get(order=shipment.order, data__printed_count=2)
    assert event.message == f"Pick list {single.number} reprinted (print 2)."
    text = PdfReader(io.BytesIO(picklist_pdf(again))).pages[0].extract_text()
    assert "REPRINT 重印 #2" in text and "Single order 单票" in text


def test_wave_page_previews_and_creates(floor, client, django_user_model):
    from tests.factories import make_user

    client.force_login(make_user("wh", "warehouse"))
    location = floor["location"]
    preview = client.get("/fulfillment/waves/new/", {"location": location.pk, "max_orders": 2, "max_lines": 200})
    assert preview.status_code == 200
    assert [len(g.shipments) for g in preview.context["plan"]] == [1, 2, 1, 1]
    response = client.post(
        "/fulfillment/waves/new/",
        {"location": location.pk, "carrier": "local", "zone": "b", "max_orders": 50, "max_lines": 200},
    )
    wave = PickList.objects.get()
    assert response.status_code == 302 and response.url == f"/fulfillment/picklists/{wave.pk}/"
    assert numbers(wave) == ["O3"]
    empty = client.post(
        "/fulfillment/waves/new/",
        {"location": location.pk, "carrier": "nobody", "max_orders": 50, "max_lines": 200},
        follow=True,
    )
    assert "No shipments are ready to pick at sha for carrier nobody." in empty.content.decode()
    assert PickList.objects.count() == 1
