"""The workflow actions (workflows/): one transaction each, result objects instead of signal replies, and a
failure in a later step rolls back every earlier one (nothing half-done)."""

import pytest
from django.urls import reverse

from fulfillment import services as fulfillment_services
from fulfillment import split
from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from inventory.selectors import ledger_mismatches
from logistics.services import shipment_dispatch
from oms.errors import DomainError
from orders import services as order_services
from orders.models import Order, OrderEvent, ReturnRequest
from orders.status import EventKind, OrderStatus
from tests.orders.stage_world import place_order
from workflows.cancel import order_cancel, order_cancel_request
from workflows.changes import order_change_lines
from workflows.results import CancelResult

pytestmark = pytest.mark.django_db


def _stock(world):
    return {
        (s.location.code, s.product.sku): (s.on_hand, s.reserved)
        for s in Stock.objects.select_related("location", "product").filter(location__in=[world["sha"], world["can"]])
    }


def _split_order(world, cb):
    """SKU-A ×2 and SKU-B ×1, split in two reserved shipments at sha."""
    order = place_order(world, cb, "W1", (("SKU-A", 2), ("SKU-B", 1)))
    first = order.shipments.get()
    second = split.shipment_split(
        shipment=first, quantities={first.lines.get(product=world["b"]).pk: 1}, reason_code="capacity"
    )
    return order, first, second


def test_cancel_returns_what_it_cancelled_and_releases_everything(world, django_capture_on_commit_callbacks, cs):
    order, first, second = _split_order(world, django_capture_on_commit_callbacks)
    assert _stock(world)[("sha", "SKU-A")] == (10, 2) and _stock(world)[("sha", "SKU-B")] == (10, 1)
    result = order_cancel(order=order, reason="customer asked", user=cs)
    assert isinstance(result, CancelResult)
    assert result.outcome == "cancelled"
    assert result.shipments_cancelled == [first.number, second.number]
    assert result.order.status == OrderStatus.CANCELLED
    assert set(Shipment.objects.filter(order=order).values_list("status", flat=True)) == {ShipmentStatus.CANCELLED}
    assert _stock(world)[("sha", "SKU-A")] == (10, 0) and _stock(world)[("sha", "SKU-B")] == (10, 0)
    assert order.events.filter(kind=EventKind.CANCELLED).count() == 1
    assert ledger_mismatches() == []


def test_a_failing_later_step_of_a_cancel_rolls_back_the_earlier_ones(
    world, django_capture_on_commit_callbacks, cs, monkeypatch
):
    """Both shipments are released (stock, events), then voiding their labels fails (injected: the carrier
    step raises): the releases, the stock and the events are rolled back too."""
    order, first, second = _split_order(world, django_capture_on_commit_callbacks)
    before_stock, before_events = _stock(world), OrderEvent.objects.filter(order=order).count()
    seen = []

    def failing_void(*, shipment_ids, user=None):
        seen.append(sorted(Shipment.objects.filter(pk__in=shipment_ids).values_list("status", flat=True)))
        raise DomainError("the carrier refused to void")

    monkeypatch.setattr("workflows.release.shipments_labels_void", failing_void)
    with pytest.raises(DomainError, match="the carrier refused to void"):
        order_cancel(order=order, reason="customer asked", user=cs)
    assert seen == [[ShipmentStatus.CANCELLED, ShipmentStatus.CANCELLED]]  # the earlier step had run
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    assert list(Shipment.objects.filter(order=order).order_by("pk").values_list("status", flat=True)) == [
        ShipmentStatus.RESERVED,
        ShipmentStatus.RESERVED,
    ]
    assert _stock(world) == before_stock
    assert OrderEvent.objects.filter(order=order).count() == before_events
    assert ledger_mismatches() == []


def test_a_refused_cancel_changes_nothing(world, django_capture_on_commit_callbacks, cs):
    order, first, second = _split_order(world, django_capture_on_commit_callbacks)
    before_stock, before_events = _stock(world), OrderEvent.objects.filter(order=order).count()
    with pytest.raises(DomainError, match="needs a reason"):
        order_cancel(order=order, reason="", user=cs)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    assert set(Shipment.objects.filter(order=order).values_list("status", flat=True)) == {ShipmentStatus.RESERVED}
    assert _stock(world) == before_stock
    assert OrderEvent.objects.filter(order=order).count() == before_events


def test_the_order_local_step_refuses_an_order_whose_shipments_are_still_open(
    world, django_capture_on_commit_callbacks, cs
):
    """orders cannot release fulfillment's shipments: its own step refuses instead of leaving stock reserved."""
    order = place_order(world, django_capture_on_commit_callbacks, "W2")
    with pytest.raises(DomainError, match="still has shipments or backorders: cancel it with workflows.cancel"):
        order_services.order_mark_cancelled(order=order, reason="customer asked", user=cs)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ALLOCATED
    assert _stock(world)[("sha", "SKU-A")] == (10, 2)


def test_a_failing_return_after_the_open_part_was_cancelled_rolls_back_the_cancel(
    world, django_capture_on_commit_callbacks, cs, monkeypatch
):
    """Partly shipped, the shipped part delivered: the cancellation cancels the open part first (shipment,
    stock, event), then the return request fails (injected: the last step raises); the open part, its stock,
    the order's status and its events stay as they were, and no return exists."""
    cb = django_capture_on_commit_callbacks
    order, first, second = _split_order(world, cb)
    fulfillment_services.shipment_pack(shipment=first, weight_g=800)
    with cb(execute=True):
        shipment_dispatch(shipment=first)
    fulfillment_services.shipment_advance(shipment=first, target=ShipmentStatus.DELIVERED)
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    before_stock, before_events = _stock(world), OrderEvent.objects.filter(order=order).count()
    steps = []

    def failing_return(order, **kwargs):
        steps.append(Shipment.objects.get(pk=second.pk).status)  # the open part is cancelled by now
        raise DomainError("the return desk is closed")

    monkeypatch.setattr("workflows.partial_cancel.return_for_cancel", failing_return)
    with pytest.raises(DomainError, match="the return desk is closed"):
        order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert steps == [ShipmentStatus.CANCELLED]
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert Shipment.objects.get(pk=second.pk).status == ShipmentStatus.RESERVED
    assert _stock(world) == before_stock
    assert OrderEvent.objects.filter(order=order).count() == before_events
    assert not ReturnRequest.objects.filter(order=order).exists()


def test_cancel_by_stage_results(world, django_capture_on_commit_callbacks, cs):
    order = place_order(world, django_capture_on_commit_callbacks, "W3")
    result = order_cancel_request(order=order, reason_code="customer_request", user=cs)
    assert (result.outcome, result.detail.pk, result.shipments_cancelled) == (
        "cancelled",
        order.pk,
        [order.shipments.get().number],
    )
    outcome, detail = result  # the (outcome, detail) pair of the former service
    assert outcome == "cancelled" and detail.status == OrderStatus.CANCELLED


def test_a_refused_line_change_releases_nothing(world, django_capture_on_commit_callbacks, cs):
    """An unknown line id is found before the shipments are released: nothing changes."""
    order = place_order(world, django_capture_on_commit_callbacks, "W4", (("SKU-A", 2), ("SKU-B", 1)))
    before_stock = _stock(world)
    with pytest.raises(DomainError, match="has no line 999999"):
        order_change_lines(order=order, quantities={999999: 1}, reason_code="customer_request", user=cs)
    assert _stock(world) == before_stock
    assert order.shipments.get().status == ShipmentStatus.RESERVED


def test_the_pages_keep_their_urls(world, django_capture_on_commit_callbacks, client, cs):
    """The verbs moved to workflows/urls/ keep their names and paths."""
    assert reverse("orders:order_cancel", args=["SO1"]) == "/orders/SO1/cancel/"
    assert reverse("orders:order_change_apply", args=["SO1", "address"]) == "/orders/SO1/change/address/"
    assert reverse("public:track_cancel", args=["tok"]) == "/track/tok/cancel/"
    assert reverse("public:track_change_address", args=["tok"]) == "/track/tok/address/"
    assert reverse("logistics:case_address", args=["C1"]) == "/logistics/cases/C1/address/"
    order = place_order(world, django_capture_on_commit_callbacks, "W5")
    client.force_login(cs)
    response = client.post(reverse("orders:order_cancel", args=[order.number]), {"reason": "customer asked"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.shipments.get().status == ShipmentStatus.CANCELLED
    assert _stock(world)[("sha", "SKU-A")] == (10, 0)
