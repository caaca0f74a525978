"""Packing notes from classification rules: stored on the order (one-by-one intake, reclassify, bulk intake)
and shown on the order page, the pick list page and at the pack station."""

import pytest
from django.urls import reverse

from fulfillment import services as fulfillment_services
from oms.roles import MANAGER, WAREHOUSE
from orders import services
from orders.intake.bulk import create_batch
from orders.models import ClassificationRule, Order
from orders.rules.classification import DEFAULT_RULES
from orders.status import EventKind
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock

pytestmark = pytest.mark.django_db

FRAGILE = next(r["packing_note"] for r in DEFAULT_RULES if r.get("packing_note"))


@pytest.fixture
def world():
    sha = LocationFactory(code="sha")
    glass = ProductFactory(sku="GLASS", handling_class="fragile")
    std = ProductFactory(sku="STD")
    stock(sha, glass, 20)
    stock(sha, std, 20)
    # The default fragile rule comes with the migrations; a second rule with a note of its own.
    assert ClassificationRule.objects.filter(packing_note=FRAGILE).exists()
    ClassificationRule.objects.create(
        name="Gift wrap", position=40, requested_service="gift", add_tags="gift", packing_note="Gift wrap, no invoice."
    )
    return {"sha": sha, "channel": ChannelFactory(slug="web")}


def _create(world, cb, ext, lines, **kw):
    with cb(execute=True):
        order = services.order_create(
            channel=world["channel"], data=canonical(ext, lines=lines, **kw), source="test"
        ).order
    order.refresh_from_db()
    return order


def test_matching_rules_notes_are_joined_on_the_order(world, django_capture_on_commit_callbacks):
    plain = _create(world, django_capture_on_commit_callbacks, "E0", (("STD", 1),))
    fragile = _create(world, django_capture_on_commit_callbacks, "E1", (("GLASS", 1),))
    both = _create(world, django_capture_on_commit_callbacks, "E2", (("GLASS", 1),), requested_service="gift")
    assert plain.packing_notes == ""
    assert fragile.packing_notes == FRAGILE
    assert both.packing_notes == f"{FRAGILE}\nGift wrap, no invoice."  # in rule order, one per line
    # Still in the CLASSIFIED event too.
    assert fragile.events.filter(kind=EventKind.CLASSIFIED, data__packing_note=FRAGILE).exists()


def test_reclassify_replaces_the_notes(world, django_capture_on_commit_callbacks):
    order = _create(world, django_capture_on_commit_callbacks, "E1", (("GLASS", 1),))
    rule = ClassificationRule.objects.get(packing_note=FRAGILE)
    rule.packing_note = "Bubble wrap twice."
    rule.save()
    order = services.order_reclassify(order=order)
    assert order.packing_notes == "Bubble wrap twice."
    ClassificationRule.objects.filter(pk=rule.pk).update(active=False)
    order = services.order_reclassify(order=order)
    assert order.packing_notes == ""


def test_bulk_intake_sets_the_notes_as_one_by_one(world):
    items = [(1, canonical("B1", lines=(("GLASS", 2),))), (2, canonical("B2", lines=(("STD", 1),)))]
    outcomes = create_batch(channel=world["channel"], items=items, source="file:test")
    assert [o.status for o in outcomes] == ["created", "created"]
    notes = dict(Order.objects.filter(channel=world["channel"]).values_list("external_id", "packing_notes"))
    assert notes == {"B1": FRAGILE, "B2": ""}


def test_notes_on_the_order_page_pick_list_and_pack_station(world, django_capture_on_commit_callbacks, client):
    order = _create(world, django_capture_on_commit_callbacks, "E1", (("GLASS", 1),))
    plain = _create(world, django_capture_on_commit_callbacks, "E2", (("STD", 1),))
    picklist = fulfillment_services.picklist_create(location=world["sha"])
    client.force_login(make_user("boss", MANAGER))
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "Packing note" in page and "wrap each item" in page
    assert "Packing note" not in client.get(reverse("orders:order_detail", args=[plain.number])).content.decode()
    page = client.get(reverse("fulfillment:picklist_detail", args=[picklist.pk])).content.decode()
    assert page.count('class="card packnotes"') == 1  # one card per note, naming the shipments that need it
    assert "wrap each item" in page and "⚠ packing note" in page
    assert f"{order.shipments.get().number} (order {order.number})" in page
    client.force_login(make_user("packer", WAREHOUSE))
    station = client.get(reverse("fulfillment:pack_shipment_station", args=[order.shipments.get().number]))
    assert station.status_code == 200
    assert b'data-packing-note="1"' in station.content and FRAGILE.encode() in station.content
    station = client.get(reverse("fulfillment:pack_shipment_station", args=[plain.shipments.get().number]))
    assert b"data-packing-note" not in station.content
