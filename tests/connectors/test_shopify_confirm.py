"""Confirm shipment (issue 16, "Channels"): a shipped shipment of a Shopify order is fulfilled on Shopify once,
with its tracking number, through the outbox; relabels update it, voids take it back; Shopify's failures
become retries or a dead letter a person can retry."""

from pathlib import Path

import pytest
from django.db import transaction

from connectors.models import RemoteShipment
from connectors.services import sync_retry
from fulfillment.merge import shipments_merge
from fulfillment.split import shipment_split
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from logistics.tracking_numbers import make_s10
from logistics.voids import parcel_void
from oms import outbox
from oms.models import OutboxMessage
from orders.intake.signing import sign
from orders.models import Order

from .conftest import dispatch, make_order, ship, shipment_rows

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent / "orders" / "fixtures"
NEW = make_s10("LC", 12345678, "CN")  # a relabel's number from the local carrier


def _fulfillments(fake):
    return [
        (f["order"], f["status"], f["trackingInfo"]["numbers"], sorted(q for _i, q in f["lines"]))
        for f in fake.shop.fulfillments.values()
    ]


def test_a_shipped_shipment_is_fulfilled_on_shopify_once_with_its_tracking_number(
    fake, world, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    assert _fulfillments(fake) == [(gid, "SUCCESS", [parcel.tracking_number], [1, 2])]
    create = fake.shop.created_inputs()[0]
    assert create["trackingInfo"]["numbers"] == [parcel.tracking_number]
    assert create["trackingInfo"]["company"] == parcel.carrier_display
    assert create["trackingInfo"]["urls"] == [parcel.tracking_url]
    assert fake.shop.open_quantities(gid) == {"SKU-A": 0, "SKU-B": 0}
    assert shipment_rows() == [("sent", 1, "")]
    remote = RemoteShipment.objects.get()
    assert (remote.remote_id, remote.tracking_numbers) == (next(iter(fake.shop.fulfillments)), [parcel.tracking_number])

    # The consumer runs again, and the notice is written again: nothing new reaches Shopify.
    with transaction.atomic():
        shipments_channel_notice(shipment_ids=[order.shipments.get().pk])
    dispatch(later_seconds=3600)
    assert len(fake.shop.created_inputs()) == 1
    assert OutboxMessage.objects.filter(kind="channel.shipment").count() == 1


def test_a_worker_that_dies_after_shopify_answered_does_not_fulfil_twice(
    fake, world, django_capture_on_commit_callbacks, monkeypatch
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get())
    assert shipment_rows() == [("pending", 0, "")]

    class WorkerKilled(BaseException):  # like SIGKILL: nothing after the send runs, no outcome is written
        pass

    def die(records):
        raise WorkerKilled

    monkeypatch.setattr("connectors.services.remember_confirmations", die)
    with pytest.raises(WorkerKilled):
        dispatch()
    assert len(fake.shop.fulfillments) == 1  # Shopify did it
    assert RemoteShipment.objects.count() == 0  # and we never heard
    assert shipment_rows() == [("pending", 1, "")]  # leased: it comes back when the lease ends
    monkeypatch.undo()

    assert dispatch() == {}  # still leased
    assert dispatch(later_seconds=outbox.lease().total_seconds() + 1) == {"sent": 1}

    assert len(fake.shop.created_inputs()) == 1
    assert _fulfillments(fake) == [(gid, "SUCCESS", [parcel.tracking_number], [1, 2])]
    assert RemoteShipment.objects.get().remote_id == next(iter(fake.shop.fulfillments))


def test_partial_shipments_fulfil_only_their_own_lines(fake, world, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    first = order.shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    second = shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two parcels")

    parcel_1 = ship(django_capture_on_commit_callbacks, first, run_outbox=True)
    assert fake.shop.open_quantities(gid) == {"SKU-A": 1, "SKU-B": 0}
    parcel_2 = ship(django_capture_on_commit_callbacks, second, run_outbox=True)

    assert fake.shop.open_quantities(gid) == {"SKU-A": 0, "SKU-B": 0}
    assert sorted(f[2][0] for f in _fulfillments(fake)) == sorted([parcel_1.tracking_number, parcel_2.tracking_number])
    created = [v["lineItemsByFulfillmentOrder"] for v in fake.shop.created_inputs()]
    assert [sum(i["quantity"] for g in c for i in g["fulfillmentOrderLineItems"]) for c in created] == [2, 1]
    assert shipment_rows() == [("sent", 1, ""), ("sent", 1, "")]


def test_a_relabel_updates_the_tracking_and_a_void_cancels_the_fulfillment(
    fake, world, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)
    (fid,) = fake.shop.fulfillments

    # A relabel (the carriers' work adds the new parcel; this is what it must call in its transaction).
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=NEW)
        shipments_channel_notice(shipment_ids=[shipment.pk])
    assert len(fake.shop.created_inputs()) == 1
    assert fake.shop.operations("FulfillmentTrackingInfoUpdate")[0][1] == {
        "fulfillmentId": fid,
        "trackingInfoInput": {
            "company": parcel.carrier_display,
            "numbers": [NEW],
            "urls": [f"https://track.example/{NEW}"],
        },
    }
    assert fake.shop.fulfillments[fid]["trackingInfo"]["numbers"] == [NEW]

    # The label is voided (an intercept at the dock): Shopify's fulfillment is cancelled, the items open again.
    new = Parcel.objects.get(tracking_number=NEW)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        parcel_void(new, why="test")
    assert fake.shop.fulfillments[fid]["status"] == "CANCELLED"
    assert fake.shop.open_quantities(gid) == {"SKU-A": 2, "SKU-B": 1}
    assert RemoteShipment.objects.get().cancelled is True
    assert [s for s, _a, _e in shipment_rows()] == ["sent", "sent", "sent"]


def test_an_older_notice_retried_after_a_newer_one_changes_nothing(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment)
    with transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=NEW)
        shipments_channel_notice(shipment_ids=[shipment.pk])
    first, second = OutboxMessage.objects.filter(kind="channel.shipment").order_by("pk")
    OutboxMessage.objects.filter(pk=first.pk).update(next_attempt_at=second.next_attempt_at.replace(year=2099))

    assert dispatch() == {"sent": 1}  # the newer one: created with the new number
    assert dispatch(later_seconds=10**10) == {"skipped": 1}
    (f,) = fake.shop.fulfillments.values()
    assert f["trackingInfo"]["numbers"] == [NEW]
    assert len(fake.shop.requests) == 2  # the order's fulfillment orders, then one fulfillmentCreate


def test_429_waits_for_retry_after_then_sends(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    fake.shop.fail_next("429", retry_after="7")

    assert dispatch() == {"retry": 1}
    row = OutboxMessage.objects.get(kind="channel.shipment")
    assert row.last_error.startswith("RetryLater: Shopify answered 429")
    assert 6 <= (row.next_attempt_at - row.created_at).total_seconds() <= 60  # 7 s, not the 1-minute backoff
    assert dispatch(later_seconds=3) == {}
    assert dispatch(later_seconds=8) == {"sent": 1}
    assert len(fake.shop.fulfillments) == 1


def test_throttled_waits_for_the_bucket_to_refill(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    fake.shop.fail_next("throttled")

    assert dispatch() == {"retry": 1}
    row = OutboxMessage.objects.get(kind="channel.shipment")
    assert row.last_error == "RetryLater: Shopify throttled the request: Throttled"
    # (752 requested - 652 available) / 50 per second = 2 s
    assert dispatch(later_seconds=1) == {}
    assert dispatch(later_seconds=3) == {"sent": 1}


def test_5xx_retries_with_backoff(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    fake.shop.fail_next("500")

    assert dispatch() == {"retry": 1}
    assert shipment_rows() == [("pending", 1, "Transient: Shopify answered 500: Internal Server Error")]
    assert dispatch(later_seconds=30) == {}
    assert dispatch(later_seconds=61) == {"sent": 1}


def test_401_is_dead_with_a_clear_error_and_a_person_retries_it(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    fake.shop.fail_next("401")

    assert dispatch() == {"dead": 1}
    ((status, attempts, error),) = shipment_rows()
    assert (status, attempts) == ("dead", 1)
    assert error.startswith("Refused: Shopify answered 401: [API] Invalid API key or access token")
    assert "Check the access token" in error
    assert fake.shop.fulfillments == {}
    world["connection"].refresh_from_db()
    assert world["connection"].last_confirm_error.endswith(error.removeprefix("Refused: "))
    assert dispatch(later_seconds=10**6) == {}  # dead stays dead

    with django_capture_on_commit_callbacks(execute=True):
        assert sync_retry(channel=world["channel"]) == 1
    assert shipment_rows() == [("sent", 1, "")]
    assert len(fake.shop.fulfillments) == 1


def test_user_errors_are_dead_with_shopifys_message(fake, world, django_capture_on_commit_callbacks):
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 1)])  # Shopify has less open than we shipped
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [("dead", 1, "Rejected: Shopify has no open quantity to fulfil for: SKU-A ×1, SKU-B ×1.")]
    fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    fake.shop.fail_next("user_error", times=2, message="Fulfillment order is on hold.")
    # (the first request, the fulfillment orders, meets the scripted failure too: a user error of a query)
    sync_retry(channel=world["channel"])
    assert dispatch() == {"dead": 1}
    assert shipment_rows()[0][2].startswith("Rejected: Shopify")
    assert fake.shop.fulfillments == {}


def test_a_channel_without_a_connection_or_the_oms_platform_sends_nothing(
    fake, world, django_capture_on_commit_callbacks
):
    world["connection"].delete()
    order = make_order(django_capture_on_commit_callbacks, world)
    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    assert shipment_rows() == [("skipped", 1, "The channel has no connection: nothing is sent back.")]
    assert fake.shop.requests == []

    world["channel"].platform = "oms"
    world["channel"].save()
    order = make_order(django_capture_on_commit_callbacks, world, external_id="5002")
    ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    assert OutboxMessage.objects.filter(kind="channel.shipment").count() == 1  # none for the OMS's own channel


def test_an_order_from_a_shopify_webhook_is_confirmed_back_once_with_its_tracking_number(
    client, fake, world, django_capture_on_commit_callbacks
):
    """Issue 16's "done": webhook in, routed, packed, shipped; Shopify gets the fulfillment with that number."""
    body = (FIXTURES / "shopify_orders_create.json").read_bytes()
    world["channel"].webhook_secret = "shpss_0123456789abcdef"
    world["channel"].save()
    gid = fake.shop.add_fulfillable_order(820982911946154508, [("SKU-A", 2), ("SKU-B", 1)])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/webhooks/orders/{world['channel'].slug}/",
            data=body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, "shpss_0123456789abcdef"),
        )
    assert response.status_code == 200
    order = Order.objects.get(external_id="820982911946154508")

    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    dispatch(later_seconds=3600)  # a second consumer run finds nothing to do

    assert _fulfillments(fake) == [(gid, "SUCCESS", [parcel.tracking_number], [1, 2])]
    assert fake.shop.operations("OrdersFulfillment")[0][1]["ids"] == [gid]
    assert shipment_rows() == [("sent", 1, "")]


def test_merged_shipments_confirm_each_order_with_the_parcels_number(fake, world, django_capture_on_commit_callbacks):
    gid_1 = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    gid_2 = fake.shop.add_fulfillable_order(5002, [("SKU-A", 1)])
    first = make_order(django_capture_on_commit_callbacks, world).shipments.get()
    second = make_order(django_capture_on_commit_callbacks, world, external_id="5002", lines=(("SKU-A", 1),))
    lead = shipments_merge(shipment_ids=[first.pk, second.shipments.get().pk])

    parcel = ship(django_capture_on_commit_callbacks, lead, run_outbox=True)

    assert sorted(_fulfillments(fake)) == sorted(
        [(gid_1, "SUCCESS", [parcel.tracking_number], [1, 2]), (gid_2, "SUCCESS", [parcel.tracking_number], [1])]
    )
    assert shipment_rows() == [("sent", 1, ""), ("sent", 1, "")]


def test_one_refused_shipment_does_not_hold_back_the_rest_of_its_batch(fake, world, django_capture_on_commit_callbacks):
    gid = fake.shop.add_fulfillable_order(5002, [("SKU-A", 1)])  # Shopify does not know order 5001
    first = make_order(django_capture_on_commit_callbacks, world, lines=(("SKU-A", 1),)).shipments.get()
    second = make_order(django_capture_on_commit_callbacks, world, external_id="5002", lines=(("SKU-A", 1),))
    ship(django_capture_on_commit_callbacks, first)
    parcel = ship(django_capture_on_commit_callbacks, second.shipments.get())

    assert dispatch() == {"dead": 1, "sent": 1}

    assert shipment_rows() == [("dead", 1, "Rejected: Shopify has no order 5001."), ("sent", 1, "")]
    assert _fulfillments(fake) == [(gid, "SUCCESS", [parcel.tracking_number], [1])]
    connection = world["connection"]
    connection.refresh_from_db()
    assert connection.last_confirm_error == f"{first.number}: Shopify has no order 5001."
    assert connection.last_confirm_ok_at is not None
    assert list(RemoteShipment.objects.values_list("shipment_id", flat=True)) == [second.shipments.get().pk]
