"""Changes and cancellation by stage (orders/rules/stages.py, orders/services/stage_changes.py)."""

import pytest

from fulfillment import services as fulfillment_services
from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.selectors import ledger_mismatches
from logistics.models import Parcel
from logistics.services import shipment_dispatch
from oms.errors import TransitionNotAllowed
from orders.intake.canonical import CanonicalAddress
from orders.models import Notification, ReturnRequest, StageRule
from orders.rules import stages as stage_rules
from orders.status import ChangeAction, ChangeKind, EventKind, OrderStatus, Stage
from workflows.cancel import order_cancel_request
from workflows.changes import order_change_address, order_change_lines, order_change_service

from .stage_world import place_order, reserved

pytestmark = pytest.mark.django_db


def test_defaults_and_back_office_override(world):
    assert stage_rules.action_for(Stage.ALLOCATED, ChangeKind.ADDRESS) == ChangeAction.REROUTE
    assert stage_rules.action_for(Stage.SHIPPED, ChangeKind.CANCEL) == ChangeAction.INTERCEPT
    assert stage_rules.action_for(Stage.DELIVERED, ChangeKind.CANCEL) == ChangeAction.RETURN
    stage_rules.rule_set(stage=Stage.PICKING, change=ChangeKind.CANCEL, action=ChangeAction.REFUSED, note="x")
    assert stage_rules.action_for(Stage.PICKING, ChangeKind.CANCEL) == ChangeAction.REFUSED
    with pytest.raises(ValueError):
        stage_rules.rule_set(stage=Stage.PACKED, change=ChangeKind.LINES, action=ChangeAction.REROUTE)
    stage_rules.rule_set(stage=Stage.PICKING, change=ChangeKind.CANCEL, action=ChangeAction.ALLOWED)
    assert not StageRule.objects.exists()  # back to the default: no row


def test_address_change_before_picking_reroutes(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks)
    assert order.shipments.get().location == world["sha"]
    new = CanonicalAddress(
        name="Li Lei",
        phone="+86 138 0013 8000",
        email="li.lei@example.com",
        country="CN",
        province="Guangdong",
        city="Guangzhou",
        district="Tianhe",
        address1="1 Tianhe Road",
        postcode="510000",
    )
    with django_capture_on_commit_callbacks(execute=True):
        order_change_address(order=order, address=new, user=cs, reason_code="customer_request")
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    live = order.shipments.exclude(status=ShipmentStatus.CANCELLED).get()
    assert live.location == world["can"]  # routed again, to the nearer location
    assert reserved(world["sha"], world["a"]) == 0 and reserved(world["can"], world["a"]) == 2
    event = order.events.get(kind=EventKind.ADDRESS_CHANGED)
    assert event.data["reason_code"] == "customer_request" and event.data["action"] == ChangeAction.REROUTE
    assert Notification.objects.filter(order=order, kind="changed").exists()
    assert ledger_mismatches() == []


def test_lines_change_before_picking_reroutes_and_refused_while_picking(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks, lines=(("SKU-A", 2), ("SKU-B", 1)))
    line_b = order.lines.get(sku="SKU-B")
    with django_capture_on_commit_callbacks(execute=True):
        changes = order_change_lines(
            order=order, quantities={line_b.pk: 0}, add=[("SKU-A", 1)], reason_code="customer_request", user=cs
        )
    assert changes == {"SKU-B": [1, 0], "SKU-A": [2, 3]}
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    live = order.shipments.exclude(status=ShipmentStatus.CANCELLED).get()
    assert [(ln.product.sku, ln.quantity) for ln in live.lines.all()] == [("SKU-A", 3)]
    assert reserved(world["sha"], world["b"]) == 0 and reserved(world["sha"], world["a"]) == 3
    assert order.events.filter(kind=EventKind.CHANGED, data__reason_code="customer_request").exists()
    fulfillment_services.picklist_create(location=world["sha"])
    with pytest.raises(TransitionNotAllowed, match="can no longer be changed"):
        order_change_lines(order=order, add=[("SKU-B", 1)], reason_code="customer_request", user=cs)


def test_service_change_needs_approval_while_picking(world, django_capture_on_commit_callbacks, cs, boss):
    order = place_order(world, django_capture_on_commit_callbacks)
    fulfillment_services.picklist_create(location=world["sha"])
    with pytest.raises(TransitionNotAllowed, match="approval"):
        order_change_service(order=order, requested_service="express", reason_code="customer_request", user=cs)
    assert (
        order_change_service(order=order, requested_service="express", reason_code="customer_request", user=boss)
        == ChangeAction.APPROVAL
    )
    order.refresh_from_db()
    assert order.requested_service == "express" and order.status == OrderStatus.PICKING


def test_reason_code_is_required(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks)
    with pytest.raises(TransitionNotAllowed, match="reason code"):
        order_cancel_request(order=order, reason_code="", user=cs)


def test_cancel_while_picking_takes_it_off_the_pick_list(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks)
    other = place_order(world, django_capture_on_commit_callbacks, "E2")
    picklist = fulfillment_services.picklist_create(location=world["sha"])
    with django_capture_on_commit_callbacks(execute=True):
        outcome, _ = order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert outcome == "cancelled"
    shipment = Shipment.objects.get(order=order)
    assert shipment.status == ShipmentStatus.CANCELLED
    assert shipment.picklist is None and shipment.removed_from_picklist == picklist
    assert list(picklist.shipments.all()) == [other.shipments.get()]
    assert reserved(world["sha"], world["a"]) == 2  # only the other order's
    assert order.events.filter(kind=EventKind.CANCELLED, data__reason_code="customer_request").exists()
    notice = Notification.objects.get(order=order, kind="cancelled")
    assert "cancelled" in notice.subject or "已取消" in notice.subject


def test_cancel_when_packed_needs_approval(world, django_capture_on_commit_callbacks, cs, boss):
    order = place_order(world, django_capture_on_commit_callbacks)
    fulfillment_services.shipment_pack(shipment=order.shipments.get(), weight_g=800)
    with pytest.raises(TransitionNotAllowed, match="approval"):
        order_cancel_request(order=order, reason_code="customer_request", user=cs)
    outcome, _ = order_cancel_request(order=order, reason_code="customer_request", user=boss)
    assert outcome == "cancelled"


def test_cancelled_shipment_voids_its_label(world, django_capture_on_commit_callbacks, boss):
    order = place_order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    # A label bought before the hand-over (as a label-first flow would): LC + valid S10 check digit.
    from logistics.models import ServiceLevel

    parcel = Parcel.objects.create(
        shipment=shipment, service=ServiceLevel.objects.get(code="std"), tracking_number="LC473124829CN", weight_g=800
    )
    order_cancel_request(order=order, reason_code="fraud", user=boss)
    parcel.refresh_from_db()
    assert parcel.voided_at is not None
    assert order.events.filter(data__void="voided", data__tracking_number="LC473124829CN").exists()


def test_cancel_after_shipping_is_an_intercept(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    with django_capture_on_commit_callbacks(execute=True):
        parcel = shipment_dispatch(shipment=shipment)
    with django_capture_on_commit_callbacks(execute=True):
        outcome, _ = order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert outcome == "intercept"
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED  # not cancelled: the carrier is asked to stop it
    shipment.refresh_from_db()
    assert shipment.intercept_requested_at is not None
    event = order.events.get(kind=EventKind.INTERCEPT)
    assert event.data["reason_code"] == "customer_request" and event.data["handled"]
    parcel.refresh_from_db()
    assert parcel.voided_at is not None  # not on a manifest yet: the label is voided
    assert Notification.objects.filter(order=order, kind="changed", context__change="intercept_cancel").exists()


def test_cancel_after_handover_opens_an_intercept_case_for_a_person(world, django_capture_on_commit_callbacks, cs):
    from django.utils import timezone

    from logistics.cases.types import CaseType
    from logistics.models import ExceptionCase, Manifest

    order = place_order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    with django_capture_on_commit_callbacks(execute=True):
        parcel = shipment_dispatch(shipment=shipment)
    manifest = Manifest.objects.create(
        carrier=parcel.service.carrier, location=shipment.location, date=timezone.localdate()
    )
    Parcel.objects.filter(pk=parcel.pk).update(manifest=manifest)  # handed over to the carrier

    with django_capture_on_commit_callbacks(execute=True):
        outcome, _ = order_cancel_request(order=order, reason_code="customer_request", user=cs)

    assert outcome == "intercept"
    parcel.refresh_from_db()
    assert parcel.voided_at is None  # with the carrier: cannot be voided, must be stopped
    case = ExceptionCase.objects.get(order=order, type=CaseType.INTERCEPT)
    assert case.status == "open" and parcel.tracking_number in case.summary and case.parcel_id == parcel.pk
    event = order.events.get(kind=EventKind.INTERCEPT)
    assert case.number in event.message or case.number in str(event.data)


def test_cancel_after_delivery_is_a_return_request(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    shipment_dispatch(shipment=shipment)
    fulfillment_services.shipment_advance(shipment=shipment, target=ShipmentStatus.DELIVERED)
    outcome, ret = order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert outcome == "return"
    assert ReturnRequest.objects.get(order=order) == ret and ret.lines.get().quantity == 2


def test_address_refused_for_a_customer_after_shipping(world, django_capture_on_commit_callbacks):
    order = place_order(world, django_capture_on_commit_callbacks)
    shipment = order.shipments.get()
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    shipment_dispatch(shipment=shipment)
    new = CanonicalAddress(name="Li Lei", country="CN", province="Beijing", city="Beijing", address1="1 Road")
    with pytest.raises(TransitionNotAllowed, match="can no longer be changed"):
        order_change_address(order=order, address=new, source="customer via tracking page")


def test_pages(world, django_capture_on_commit_callbacks, client, cs, boss):
    from django.urls import reverse

    order = place_order(world, django_capture_on_commit_callbacks)
    other = place_order(world, django_capture_on_commit_callbacks, "E2")
    picklist = fulfillment_services.picklist_create(location=world["sha"])
    client.force_login(cs)
    assert client.get(reverse("orders:stage_rule_list")).status_code == 403
    page = client.get(reverse("orders:order_change", args=[order.number]))
    assert page.status_code == 200 and b"Cancel by stage" in page.content
    response = client.post(
        reverse("orders:order_change_apply", args=[order.number, "lines"]),
        {"add_sku": "SKU-B", "add_qty": "1", "reason_code": "customer_request"},
        follow=True,
    )
    assert b"can no longer be changed" in response.content  # picking: refused, as a message
    response = client.post(
        reverse("orders:order_change_apply", args=[order.number, "cancel"]),
        {"reason_code": "customer_request", "note": "wrong size"},
        follow=True,
    )
    assert b"Order cancelled." in response.content
    detail = client.get(reverse("fulfillment:picklist_detail", args=[picklist.pk]))
    assert b"Removed after printing" in detail.content and other.number.encode() in detail.content
    client.force_login(boss)
    page = client.get(reverse("orders:stage_rule_list"))
    assert page.status_code == 200 and b"Needs approval" in page.content
    response = client.post(reverse("orders:stage_rule_list"), {"picking__cancel": "approval"})
    assert response.status_code == 302
    assert stage_rules.action_for(Stage.PICKING, ChangeKind.CANCEL) == ChangeAction.APPROVAL
    response = client.post(reverse("orders:stage_rule_list"), {"packed__lines": "reroute"}, follow=True)
    assert b"Not saved" in response.content
