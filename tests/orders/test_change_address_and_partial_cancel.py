"""The back-office address change on the order's "Change…" page (stage rules, reason code, a bad postcode
refused with a clear message) and the cancellation of a partly shipped order (the part not shipped yet is
cancelled, the shipped part becomes an intercept or a return request, per the stage rules)."""

import pytest
from django.urls import reverse

from fulfillment import services as fulfillment_services
from fulfillment import split
from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.selectors import ledger_mismatches
from logistics.models import Parcel, ServiceLevel
from logistics.services import shipment_dispatch
from oms.errors import TransitionNotAllowed
from orders.models import Notification, Order, ReturnRequest
from orders.rules import stages as stage_rules
from orders.status import ChangeAction, ChangeKind, EventKind, OrderStatus, Stage
from tests.factories import make_user
from workflows.cancel import order_cancel_request

from .stage_world import place_order, reserved

pytestmark = pytest.mark.django_db


def _order(world, cb, ext="E1", lines=(("SKU-A", 2), ("SKU-B", 1))):
    return place_order(world, cb, ext, lines)


# ---- the address form ------------------------------------------------------------------------------

GUANGZHOU = {
    "name": "Li Lei",
    "phone": "+86 138 0013 8000",
    "email": "li.lei@example.com",
    "country": "CN",
    "province": "Guangdong",
    "city": "Guangzhou",
    "district": "Tianhe",
    "address1": "1 Tianhe Road",
    "address2": "",
    "postcode": "510000",
    "reason_code": "customer_request",
    "note": "moved",
}


def _post_address(client, order, **overrides):
    return client.post(
        reverse("orders:order_change_apply", args=[order.number, "address"]), {**GUANGZHOU, **overrides}, follow=True
    )


def test_the_change_page_offers_the_address_form_filled_in(world, django_capture_on_commit_callbacks, client, cs):
    order = _order(world, django_capture_on_commit_callbacks)
    client.force_login(cs)
    page = client.get(reverse("orders:order_change", args=[order.number])).content.decode()
    assert "Ship-to address" in page and "Change address" in page
    assert 'value="88 Century Avenue"' in page and 'value="200120"' in page
    assert 'name="reason_code"' in page


def test_address_change_before_picking_reroutes(world, django_capture_on_commit_callbacks, client, cs):
    order = _order(world, django_capture_on_commit_callbacks)
    assert order.shipments.get().location == world["sha"]
    client.force_login(cs)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_address(client, order)
    assert response.redirect_chain[-1][0] == reverse("orders:order_detail", args=[order.number])
    assert "Address changed: address1, city, district, postcode, province." in response.content.decode()
    order.refresh_from_db()
    assert (order.ship_city, order.ship_postcode, order.status) == ("Guangzhou", "510000", OrderStatus.ALLOCATED)
    live = order.shipments.exclude(status=ShipmentStatus.CANCELLED).get()
    assert live.location == world["can"]  # routed again, to the nearer location
    assert reserved(world["sha"], world["a"]) == 0 and reserved(world["can"], world["a"]) == 2
    event = order.events.get(kind=EventKind.ADDRESS_CHANGED)
    assert event.user == cs and event.data["reason_code"] == "customer_request"
    assert event.data["action"] == ChangeAction.REROUTE and event.data["reason"] == "moved"


def test_a_bad_postcode_is_refused_with_a_clear_message(world, django_capture_on_commit_callbacks, client, cs):
    order = _order(world, django_capture_on_commit_callbacks)
    client.force_login(cs)
    response = _post_address(client, order, postcode="5100")
    page = response.content.decode()
    assert response.status_code == 200 and not response.redirect_chain  # the form again, with what was typed
    assert "Address not changed: postcode &#x27;5100&#x27; is not valid for CN." in page
    assert 'value="Guangzhou"' in page
    response = _post_address(client, order, city="", reason_code="")
    page = response.content.decode()
    assert "This field is required." in page  # no reason code
    order.refresh_from_db()
    assert (order.ship_city, order.ship_postcode) == ("Shanghai", "200120")
    assert not order.events.filter(kind=EventKind.ADDRESS_CHANGED).exists()
    assert order.shipments.get().location == world["sha"]


def test_a_refused_stage_is_a_message_and_changes_nothing(world, django_capture_on_commit_callbacks, client, cs, boss):
    order = _order(world, django_capture_on_commit_callbacks)
    fulfillment_services.shipment_pack(shipment=order.shipments.get(), weight_g=800)
    client.force_login(cs)
    page = _post_address(client, order).content.decode()
    assert "Packed: changing the address needs a manager&#x27;s approval." in page
    stage_rules.rule_set(stage=Stage.PACKED, change=ChangeKind.ADDRESS, action=ChangeAction.REFUSED, note="sealed")
    client.force_login(boss)
    page = _post_address(client, order).content.decode()
    assert "Packed: the address can no longer be changed." in page
    order.refresh_from_db()
    assert order.ship_city == "Shanghai" and not order.events.filter(kind=EventKind.ADDRESS_CHANGED).exists()


def test_after_shipping_the_form_asks_for_an_intercept(world, django_capture_on_commit_callbacks, client, cs):
    order = _order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    shipment_dispatch(shipment=shipment)
    client.force_login(cs)
    page = _post_address(client, order).content.decode()
    assert "the carrier is asked to redirect the parcel" in page
    order.refresh_from_db()
    assert order.ship_city == "Shanghai"  # the order keeps its address; the carrier is asked
    event = order.events.get(kind=EventKind.INTERCEPT)
    assert event.data["change"] == "address" and event.data["address"]["city"] == "Guangzhou"
    assert Shipment.objects.get(pk=shipment.pk).intercept_requested_at is not None


def test_the_address_form_needs_the_change_permission(world, django_capture_on_commit_callbacks, client):
    order = _order(world, django_capture_on_commit_callbacks)
    client.force_login(make_user("packer", "warehouse"))
    assert _post_address(client, order).status_code == 403
    order.refresh_from_db()
    assert order.ship_city == "Shanghai"


# ---- cancelling a partly shipped order ------------------------------------------------------------


def _partly_shipped(world, cb, *, open_status="picking"):
    """SKU-A ×2 shipped in one parcel; SKU-B ×1 in a second shipment, picking (or packed)."""
    order = _order(world, cb)
    first = order.shipments.get()
    second = split.shipment_split(
        shipment=first, quantities={first.lines.get(product=world["b"]).pk: 1}, reason_code="capacity"
    )
    fulfillment_services.shipment_pack(shipment=first, weight_g=800)
    with cb(execute=True):
        parcel = shipment_dispatch(shipment=first)
    picklist = fulfillment_services.picklist_create(location=world["sha"], shipment_ids=[second.pk])
    if open_status == "packed":
        fulfillment_services.shipment_pack(shipment=second, weight_g=300)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    return order, first, second, parcel, picklist


def test_partly_shipped_cancel_cancels_the_rest_and_intercepts_the_shipped(
    world, django_capture_on_commit_callbacks, cs
):
    order, first, second, parcel, picklist = _partly_shipped(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        outcome, summary = order_cancel_request(order=order, reason_code="customer_request", user=cs, note="too late")
    assert outcome == "partial"
    assert summary == {"cancelled": [second.number], "shipped": [first.number], "return": None, "outcome": "intercept"}
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == ShipmentStatus.CANCELLED
    assert second.picklist is None and second.removed_from_picklist == picklist  # off the pick list
    assert reserved(world["sha"], world["b"]) == 0  # stock released
    assert first.status == ShipmentStatus.SHIPPED and first.intercept_requested_at is not None
    parcel.refresh_from_db()
    assert parcel.voided_at is not None  # not on a manifest yet: the shipped parcel's label is voided
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # what is left has shipped
    changed = order.events.get(kind=EventKind.CHANGED, data__change="cancel")
    assert changed.data["reason_code"] == "customer_request"
    assert changed.data["changes"] == {"cancelled": [second.number], "shipped": [first.number]}
    assert order.events.get(kind=EventKind.INTERCEPT).data["reason_code"] == "customer_request"
    assert not order.events.filter(kind=EventKind.CANCELLED).exists()  # the order itself is not cancelled
    notices = set(Notification.objects.filter(order=order, kind="changed").values_list("context__change", flat=True))
    assert {"cancel", "intercept_cancel"} <= notices
    assert ledger_mismatches() == []


def test_partly_shipped_with_a_packed_rest_needs_approval_and_voids_its_label(
    world, django_capture_on_commit_callbacks, cs, boss
):
    order, first, second, _parcel, _ = _partly_shipped(world, django_capture_on_commit_callbacks, open_status="packed")
    # A label bought for the packed rest before the hand-over.
    label = Parcel.objects.create(
        shipment=second, service=ServiceLevel.objects.get(code="std"), tracking_number="LC473124829CN", weight_g=300
    )
    with pytest.raises(TransitionNotAllowed, match=f"partly shipped and {second.number} is packed: .*approval"):
        order_cancel_request(order=order, reason_code="customer_request", user=cs)
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.status == ShipmentStatus.PACKED and first.intercept_requested_at is None  # all or nothing
    assert not order.events.filter(kind__in=[EventKind.CHANGED, EventKind.INTERCEPT]).exists()

    outcome, summary = order_cancel_request(order=order, reason_code="customer_request", user=boss)
    assert outcome == "partial" and summary["cancelled"] == [second.number]
    label.refresh_from_db()
    assert label.voided_at is not None
    assert Shipment.objects.get(pk=second.pk).status == ShipmentStatus.CANCELLED


def test_partly_shipped_refused_when_the_rule_for_the_rest_refuses(world, django_capture_on_commit_callbacks, cs):
    order, first, second, _parcel, _ = _partly_shipped(world, django_capture_on_commit_callbacks)
    stage_rules.rule_set(stage=Stage.PICKING, change=ChangeKind.CANCEL, action=ChangeAction.REFUSED, note="x")
    with pytest.raises(TransitionNotAllowed, match="can no longer be cancelled"):
        order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert Shipment.objects.get(pk=second.pk).status == ShipmentStatus.PICKING
    stage_rules.rule_set(stage=Stage.PICKING, change=ChangeKind.CANCEL, action=ChangeAction.ALLOWED)
    stage_rules.rule_set(stage=Stage.SHIPPED, change=ChangeKind.CANCEL, action=ChangeAction.REFUSED, note="x")
    with pytest.raises(TransitionNotAllowed, match="can no longer be cancelled"):
        order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert Shipment.objects.get(pk=second.pk).status == ShipmentStatus.PICKING


def test_delivered_part_becomes_a_return_of_its_lines_only(world, django_capture_on_commit_callbacks, cs):
    order, first, second, _parcel, _ = _partly_shipped(world, django_capture_on_commit_callbacks)
    fulfillment_services.shipment_advance(shipment=first, target=ShipmentStatus.DELIVERED)
    outcome, summary = order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert outcome == "partial" and summary["outcome"] == "return"
    ret = ReturnRequest.objects.get(order=order)
    assert summary["return"] == ret
    assert [(ln.order_line.sku, ln.quantity) for ln in ret.lines.all()] == [("SKU-A", 2)]  # not the cancelled B
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert Shipment.objects.get(pk=second.pk).status == ShipmentStatus.CANCELLED


def test_partly_shipped_cancel_from_the_page(world, django_capture_on_commit_callbacks, client, cs):
    order, first, second, _parcel, _ = _partly_shipped(world, django_capture_on_commit_callbacks)
    client.force_login(cs)
    page = client.get(reverse("orders:order_change", args=[order.number]))
    assert page.status_code == 200
    response = client.post(
        reverse("orders:order_change_apply", args=[order.number, "cancel"]),
        {"reason_code": "customer_request"},
        follow=True,
    )
    text = response.content.decode()
    assert (
        f"Cancelled what had not shipped yet ({second.number}). Shipped ({first.number}): intercept requested." in text
    )
