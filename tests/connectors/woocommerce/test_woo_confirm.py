"""Confirm shipment to WooCommerce (issue 16): a tracking item (Shipment Tracking extension) or a customer
note per number, once even across a crash; ``completed`` only when the whole order has shipped; relabels and
voids; WooCommerce's failures become retries or a dead letter a person can retry."""

import json
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from connectors import services
from connectors.models import ChannelConnection, RemoteShipment
from connectors.services import sync_retry
from fulfillment.split import shipment_split
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from logistics.tracking_numbers import make_s10
from logistics.voids import parcel_void
from oms import outbox
from oms.models import OutboxMessage
from orders.intake.signing import sign
from orders.models import Order

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_woocommerce import woo_order

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent.parent.parent / "orders" / "fixtures"
NEW = make_s10("LC", 12345678, "CN")


def _order(woo, oid=5001, lines=(("SKU-A", 2), ("SKU-B", 1))):
    return woo.store.add_order(woo_order(oid, modified="2026-12-05T10:00:00", lines=lines))


def _numbers(woo, oid=5001):
    return [t["tracking_number"] for t in woo.store.trackings.get(oid, [])]


def test_a_shipped_order_gets_one_tracking_item_and_is_completed(woo, woo_world, django_capture_on_commit_callbacks):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    (item,) = woo.store.trackings[5001]
    assert (item["tracking_number"], item["tracking_provider"], item["tracking_link"]) == (
        parcel.tracking_number,
        parcel.carrier_display,
        parcel.tracking_url,
    )
    posted = woo.store.calls("POST", "shipment-trackings")[0][3]
    assert set(posted) == {"custom_tracking_provider", "custom_tracking_link", "tracking_number", "date_shipped"}
    assert woo.store.orders[5001]["status"] == "completed"
    assert woo.store.calls("PUT") == [("PUT", "/wp-json/wc/v3/orders/5001", {}, {"status": "completed"})]
    assert woo.store.notes == {}
    assert shipment_rows() == [("sent", 1, "")]
    remote = RemoteShipment.objects.get()
    assert (remote.remote_id, remote.tracking_numbers) == ("5001", [parcel.tracking_number])

    # The notice written again and the consumer run again: nothing new reaches WooCommerce.
    with transaction.atomic():
        shipments_channel_notice(shipment_ids=[order.shipments.get().pk])
    dispatch(later_seconds=3600)
    assert len(woo.store.calls("POST")) == 1
    assert len(woo.store.calls("PUT")) == 1


def test_a_worker_that_dies_after_woocommerce_answered_adds_nothing_twice(
    woo, woo_world, django_capture_on_commit_callbacks, monkeypatch
):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get())

    class WorkerKilled(BaseException):
        pass

    def die(records):
        raise WorkerKilled

    monkeypatch.setattr("connectors.services.remember_confirmations", die)
    with pytest.raises(WorkerKilled):
        dispatch()
    assert _numbers(woo) == [parcel.tracking_number]
    assert RemoteShipment.objects.count() == 0
    monkeypatch.undo()

    assert dispatch(later_seconds=outbox.lease().total_seconds() + 1) == {"sent": 1}
    assert _numbers(woo) == [parcel.tracking_number]  # found, not added again
    assert len(woo.store.calls("POST", "shipment-trackings")) == 1
    assert len(woo.store.calls("PUT")) == 1  # the second try saw "completed"
    assert RemoteShipment.objects.get().remote_id == "5001"


def test_a_partial_shipment_is_not_completed_until_all_has_shipped(woo, woo_world, django_capture_on_commit_callbacks):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    first = order.shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    second = shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two parcels")

    parcel_1 = ship(django_capture_on_commit_callbacks, first, run_outbox=True)
    assert _numbers(woo) == [parcel_1.tracking_number]
    assert woo.store.orders[5001]["status"] == "processing"
    assert woo.store.calls("PUT") == []

    parcel_2 = ship(django_capture_on_commit_callbacks, second, run_outbox=True)
    assert _numbers(woo) == [parcel_1.tracking_number, parcel_2.tracking_number]
    assert woo.store.orders[5001]["status"] == "completed"
    assert shipment_rows() == [("sent", 1, ""), ("sent", 1, "")]


def test_without_the_extension_each_number_is_a_customer_note_once(woo, woo_world, django_capture_on_commit_callbacks):
    ChannelConnection.objects.update(tracking_extension=False)
    woo.store.tracking_extension = False
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)

    ((note),) = woo.store.notes[5001]
    assert note["customer_note"] is True
    assert note["note"] == (
        f"Shipped with {parcel.carrier_display}, tracking number {parcel.tracking_number}: {parcel.tracking_url}"
    )
    assert woo.store.orders[5001]["status"] == "completed"
    assert woo.store.calls(pattern="shipment-trackings") == []

    RemoteShipment.objects.all().delete()  # our record lost, the notice sent again: the note is found there
    row = OutboxMessage.objects.get(kind="channel.shipment")
    assert outbox.outbox_rearm(kind=row.kind, key=row.key) == 1
    assert dispatch() == {"sent": 1}
    assert len(woo.store.notes[5001]) == 1
    assert len(woo.store.calls("POST")) == 1


def test_a_relabel_replaces_the_tracking_item_and_a_void_leaves_a_note(
    woo, woo_world, django_capture_on_commit_callbacks
):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=NEW)
        shipments_channel_notice(shipment_ids=[shipment.pk])
    assert _numbers(woo) == [NEW]
    assert len(woo.store.calls("DELETE")) == 1
    assert RemoteShipment.objects.get().tracking_numbers == [NEW]

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        parcel_void(Parcel.objects.get(tracking_number=NEW), why="test")
    assert _numbers(woo) == []
    ((note),) = woo.store.notes[5001]
    assert note["note"] == f"The label {NEW} was voided: that parcel will not come."
    assert RemoteShipment.objects.get().cancelled is True
    assert [s for s, _a, _e in shipment_rows()] == ["sent", "sent", "sent"]


def test_429_waits_for_retry_after_and_5xx_retries_on_the_backoff(woo, woo_world, django_capture_on_commit_callbacks):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    woo.store.fail_next("429", retry_after="7")

    assert dispatch() == {"retry": 1}
    assert shipment_rows() == [
        ("pending", 1, "RetryLater: WooCommerce answered 429: too_many_requests: Too many requests.")
    ]
    assert dispatch(later_seconds=3) == {}
    woo.store.fail_next("500")
    assert dispatch(later_seconds=8) == {"retry": 1}
    assert shipment_rows()[0][2].startswith("Transient: WooCommerce answered 500: internal_server_error")
    assert dispatch(later_seconds=30) == {}  # the backoff, not at once
    assert dispatch(later_seconds=3600) == {"sent": 1}
    assert len(woo.store.trackings[5001]) == 1


def test_401_is_dead_with_a_clear_error_and_a_person_retries_it(woo, woo_world, django_capture_on_commit_callbacks):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    woo.store.fail_next("401")

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [
        (
            "dead",
            1,
            "Refused: WooCommerce answered 401: woocommerce_rest_cannot_view: Sorry, you cannot list resources. "
            "Check the consumer key and secret.",
        )
    ]
    assert woo.store.trackings == {}
    assert dispatch(later_seconds=10**6) == {}

    with django_capture_on_commit_callbacks(execute=True):
        assert sync_retry(channel=woo_world["channel"]) == 1
    assert shipment_rows() == [("sent", 1, "")]
    assert len(woo.store.trackings[5001]) == 1


def test_an_order_woocommerce_does_not_know_is_dead_with_its_message(
    woo, woo_world, django_capture_on_commit_callbacks
):
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [
        ("dead", 1, "Rejected: WooCommerce answered 404: woocommerce_rest_shop_order_invalid_id: Invalid ID.")
    ]
    assert woo.store.trackings == {} and woo.store.notes == {}


def test_a_validation_error_is_dead_with_woocommerces_code_and_message(
    woo, woo_world, django_capture_on_commit_callbacks
):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())
    woo.store.fail_next("400", message="Invalid parameter(s): status")

    assert dispatch() == {"dead": 1}
    assert shipment_rows() == [
        ("dead", 1, "Rejected: WooCommerce answered 400: rest_invalid_param: Invalid parameter(s): status")
    ]
    assert woo.store.orders[5001]["status"] == "processing"
    assert woo.store.trackings == {}


def test_an_order_from_a_woocommerce_webhook_is_confirmed_back_once_and_its_pull_is_the_same_order(
    client, woo, woo_world, django_capture_on_commit_callbacks
):
    """Issue 16's "done" for WooCommerce: webhook in, routed, packed, shipped; the tracking goes back once."""
    data = json.loads((FIXTURES / "woocommerce_order_created.json").read_bytes())
    data["shipping"] |= {"country": "CN", "state": "SH", "city": "上海", "postcode": "200030"}  # the DC ships in CN
    body = json.dumps(data, ensure_ascii=False).encode()
    channel = woo_world["channel"]
    channel.webhook_secret = "woo-secret-123456"
    channel.save()
    woo.store.add_order(json.loads(body))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/webhooks/orders/{channel.slug}/",
            data=body,
            content_type="application/json",
            HTTP_X_WC_WEBHOOK_TOPIC="order.created",
            HTTP_X_WC_WEBHOOK_SIGNATURE=sign(body, "woo-secret-123456"),
        )
    assert response.status_code == 200
    order = Order.objects.get(channel=channel, external_id="727")

    parcel = ship(django_capture_on_commit_callbacks, order.shipments.get(), run_outbox=True)
    dispatch(later_seconds=3600)

    assert _numbers(woo, 727) == [parcel.tracking_number]
    assert woo.store.orders[727]["status"] == "completed"
    assert shipment_rows() == [("sent", 1, "")]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.connection_pull(connection_id=woo_world["connection"].pk) == 1
    assert Order.objects.filter(channel=channel).count() == 1


def test_a_store_without_the_extension_says_to_turn_the_setting_off(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.tracking_extension = False
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    ship(django_capture_on_commit_callbacks, order.shipments.get())

    assert dispatch() == {"dead": 1}
    ((_status, _attempts, error),) = shipment_rows()
    assert error.endswith(
        "The store has no Shipment Tracking extension: turn Tracking extension off on the connection."
    )
    assert woo.store.notes == {}


def test_a_carrier_the_store_knows_is_sent_as_its_provider(woo, woo_world, django_capture_on_commit_callbacks):
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment)  # the outbox has not run yet
    woo.store.providers = {
        "Global": {"Some Other": "https://other.example/%1$s"},
        "China": {parcel.carrier_display.upper(): "https://store.example/t/%1$s"},  # matched without case
    }
    assert dispatch() == {"sent": 1}

    ((_m, _p, _q, posted),) = woo.store.calls("POST", "shipment-trackings")
    shipment.refresh_from_db()
    assert posted == {
        "tracking_provider": parcel.carrier_display.upper(),
        "tracking_number": parcel.tracking_number,
        "date_shipped": timezone.localdate(shipment.shipped_at).isoformat(),
    }
    assert woo.store.trackings[5001][0]["tracking_link"] == f"https://store.example/t/{parcel.tracking_number}"


def test_without_the_extension_a_relabel_adds_a_note_with_the_new_number(
    woo, woo_world, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.update(tracking_extension=False)
    woo.store.tracking_extension = False
    _order(woo)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()
    parcel = ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=NEW)
        shipments_channel_notice(shipment_ids=[shipment.pk])

    first, second = (n["note"] for n in woo.store.notes[5001])
    assert parcel.tracking_number in first and NEW not in first
    assert second.startswith(f"Shipped with {parcel.carrier_display}, tracking number {NEW}")
    assert RemoteShipment.objects.get().tracking_numbers == [NEW]
    assert [s for s, _a, _e in shipment_rows()] == ["sent", "sent"]
