"""Shopify confirms a batch of shipments in two requests (issue 16): one ``nodes(ids:)`` read of the orders and one
document with an aliased ``fulfillmentCreate`` per shipment, each answered with its own userErrors. A refused row
never fails the others; THROTTLED, a 429, a 5xx or a lost answer fail the document's rows alike, and their retry
sends nothing twice."""

import pytest
from django.db import transaction

from connectors.models import RemoteShipment
from connectors.shopify import adapter as shopify_adapter
from connectors.shopify import reads
from fulfillment.models import Shipment
from fulfillment.split import shipment_split
from logistics.channel_notices import shipments_channel_notice
from logistics.models import Parcel
from logistics.tracking_numbers import make_s10

from .conftest import dispatch, make_order, ship, shipment_rows

pytestmark = pytest.mark.django_db

ORDERS = (5001, 5002, 5003, 5004)
READ = reads.orders_fulfillment_cost(1)  # the read of one order (61 points)
SIZES = {"fulfillments": reads.READ_FULFILLMENTS, "fos": reads.READ_FOS, "lines": reads.READ_FO_LINES}
NEW = make_s10("LC", 12345678, "CN")  # a relabel's number


def _shipped(fake, world, capture, ids=ORDERS, *, on_shopify=ORDERS):
    """One order per id, each shipped in one parcel (the outbox not run); Shopify knows the ``on_shopify`` ones.
    Returns {order gid: the parcel's tracking number}."""
    numbers = {}
    for legacy_id in ids:
        if legacy_id in on_shopify:
            fake.shop.add_fulfillable_order(legacy_id, [("SKU-A", 2), ("SKU-B", 1)])
        order = make_order(capture, world, external_id=str(legacy_id))
        numbers[f"gid://shopify/Order/{legacy_id}"] = ship(capture, order.shipments.get()).tracking_number
    fake.shop.requests.clear()
    return numbers


def _made(fake):
    """(order gid, tracking numbers, quantities) of every fulfillment Shopify holds, sorted."""
    return sorted(
        (f["order"], tuple(f["trackingInfo"]["numbers"]), tuple(sorted(q for _i, q in f["lines"])))
        for f in fake.shop.fulfillments.values()
    )


def test_a_batch_of_confirmations_is_one_read_and_one_document(fake, world, django_capture_on_commit_callbacks):
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks)

    assert dispatch() == {"sent": len(ORDERS)}

    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment", "FulfillmentsCreate"]
    assert fake.shop.requests[0][1] == {"ids": list(numbers), **SIZES}
    assert fake.shop.costs[0] == ("OrdersFulfillment", len(ORDERS) * READ)  # the adapter's figure is Shopify's
    assert sorted(fake.shop.requests[1][1]) == [f"f{i}" for i in range(len(ORDERS))]
    assert _made(fake) == sorted((gid, (number,), (1, 2)) for gid, number in numbers.items())
    held = {r.remote_id: r.tracking_numbers for r in RemoteShipment.objects.all()}
    assert held == {fid: f["trackingInfo"]["numbers"] for fid, f in fake.shop.fulfillments.items()}
    assert shipment_rows() == [("sent", 1, "")] * len(ORDERS)


def test_documents_hold_at_most_max_aliases(fake, world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(shopify_adapter, "MAX_ALIASES", 3)
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks, ids=(*ORDERS, 5005), on_shopify=(*ORDERS, 5005))

    assert dispatch() == {"sent": 5}

    names = [name for name, _v in fake.shop.requests]
    assert names == ["OrdersFulfillment", "FulfillmentsCreate"] * 2
    assert [len(v) for name, v in fake.shop.requests if name == "FulfillmentsCreate"] == [3, 2]
    assert [len(v["ids"]) for name, v in fake.shop.requests if name == "OrdersFulfillment"] == [3, 2]
    assert len(_made(fake)) == len(numbers)


def test_a_refused_row_is_dead_with_shopifys_message_and_the_others_are_sent(
    fake, world, django_capture_on_commit_callbacks
):
    ids = (*ORDERS, 5009)  # 5009: Shopify has no such order
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks, ids=ids)
    on_hold = "Fulfillment order is on hold."
    fake.shop.fail_next("user_error", operation="FulfillmentsCreate", alias="f1", message=on_hold)

    assert dispatch() == {"sent": 3, "dead": 2}

    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment", "FulfillmentsCreate"]
    rows = shipment_rows()
    assert rows[1] == ("dead", 1, f"Rejected: Shopify refused the fulfillment: fulfillment: {on_hold}")
    assert rows[4] == ("dead", 1, "Rejected: Shopify has no order 5009.")
    assert [rows[i][0] for i in (0, 2, 3)] == ["sent"] * 3
    refused = "gid://shopify/Order/5002"
    sent = [gid for gid in numbers if gid not in (refused, "gid://shopify/Order/5009")]
    assert _made(fake) == sorted((gid, (numbers[gid],), (1, 2)) for gid in sent)
    assert fake.shop.open_quantities(refused) == {"SKU-A": 2, "SKU-B": 1}


@pytest.mark.parametrize(
    "failure",
    [
        {"kind": "429", "retry_after": "7"},
        {"kind": "throttled"},
        {"kind": "500"},
    ],
)
def test_a_failed_document_retries_every_row_in_it_and_sends_nothing_twice(
    fake, world, django_capture_on_commit_callbacks, failure
):
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks)
    fake.shop.fail_next(operation="FulfillmentsCreate", **failure)

    assert dispatch() == {"retry": len(ORDERS)}
    assert fake.shop.fulfillments == {}
    assert {status for status, _a, _e in shipment_rows()} == {"pending"}

    assert dispatch(later_seconds=3600) == {"sent": len(ORDERS)}
    assert _made(fake) == sorted((gid, (n,), (1, 2)) for gid, n in numbers.items())
    assert len(fake.shop.created_inputs()) == 2 * len(ORDERS)  # the refused document's, then the retry's


def test_an_empty_bucket_is_throttled_and_the_rows_wait_for_its_restore_time(
    fake, world, django_capture_on_commit_callbacks
):
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks)
    # The read (4 x 61) fits, the 4 creates (48) not.
    fake.shop.set_bucket(maximum=1000.0, restore_rate=50.0, available=len(ORDERS) * READ + 20.0)

    assert dispatch() == {"retry": len(ORDERS)}
    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment", "FulfillmentsCreate"]
    errors = {error for _s, _a, error in shipment_rows()}
    assert len(errors) == 1 and errors.pop().startswith("RetryLater: Shopify throttled the request")
    assert fake.shop.fulfillments == {}

    fake.shop.set_bucket(maximum=1000.0, restore_rate=50.0)  # refilled
    assert dispatch(later_seconds=3600) == {"sent": len(ORDERS)}
    assert _made(fake) == sorted((gid, (n,), (1, 2)) for gid, n in numbers.items())
    assert fake.shop.bucket["available"] < 1000.0  # the documents were charged


def test_a_lost_answer_is_adopted_on_retry_and_nothing_is_fulfilled_twice(
    fake, world, django_capture_on_commit_callbacks
):
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks)
    fake.shop.fail_next("drop", operation="FulfillmentsCreate")  # Shopify fulfils, the answer never arrives

    assert dispatch() == {"retry": len(ORDERS)}
    made = _made(fake)
    assert made == sorted((gid, (n,), (1, 2)) for gid, n in numbers.items())

    assert dispatch(later_seconds=3600) == {"sent": len(ORDERS)}
    assert _made(fake) == made
    assert [name for name, _v in fake.shop.requests][-1] == "OrdersFulfillment"  # the retry read, no document
    assert len(fake.shop.created_inputs()) == len(ORDERS)
    assert sorted(r.remote_id for r in RemoteShipment.objects.all()) == sorted(fake.shop.fulfillments)


def test_a_refused_token_kills_every_row_of_the_batch(fake, world, django_capture_on_commit_callbacks):
    _shipped(fake, world, django_capture_on_commit_callbacks)
    fake.shop.fail_next("401", operation="OrdersFulfillment")

    assert dispatch() == {"dead": len(ORDERS)}
    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment"]
    assert fake.shop.fulfillments == {}


def test_two_parcels_of_one_order_in_one_batch_share_its_open_quantities(
    fake, world, django_capture_on_commit_callbacks
):
    gid = fake.shop.add_fulfillable_order(5001, [("SKU-A", 2), ("SKU-B", 1)])
    first = make_order(django_capture_on_commit_callbacks, world).shipments.get()
    line_a = first.lines.get(product__sku="SKU-A")
    second = shipment_split(shipment=first, quantities={line_a.pk: 1}, reason_code="other", note="two parcels")
    parcels = [ship(django_capture_on_commit_callbacks, s) for s in (first, second)]
    fake.shop.requests.clear()

    assert dispatch() == {"sent": 2}

    assert [name for name, _v in fake.shop.requests] == ["OrdersFulfillment", "FulfillmentsCreate"]
    assert fake.shop.requests[0][1] == {"ids": [gid], **SIZES}
    assert fake.shop.open_quantities(gid) == {"SKU-A": 0, "SKU-B": 0}
    assert sorted(f[1][0] for f in _made(fake)) == sorted(p.tracking_number for p in parcels)


def test_documents_shrink_to_what_the_bucket_holds(fake, world, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(shopify_adapter, "MAX_ALIASES", 2)
    _shipped(fake, world, django_capture_on_commit_callbacks)
    per_shipment = READ + shopify_adapter.ALIAS_COST  # 73: one order read, one create
    # (Almost) no refill during the test: the first chunk of 2 (146 points) leaves 80, which holds one more.
    fake.shop.set_bucket(maximum=1000.0, restore_rate=0.001, available=2 * per_shipment + 80.0)

    assert dispatch() == {"sent": 3, "retry": 1}

    sizes = [(name, len(v.get("ids", v))) for name, v in fake.shop.requests]
    assert sizes == [
        ("OrdersFulfillment", 2),  # 122 points
        ("FulfillmentsCreate", 2),  # 24 points: 80 left, the client sizes the next chunk by it
        ("OrdersFulfillment", 1),  # 61 points
        ("FulfillmentsCreate", 1),  # 12 points: 7 left
        ("OrdersFulfillment", 1),  # 61 points: throttled, and the batch stops
    ]
    assert len(fake.shop.fulfillments) == 3


def test_a_relabel_in_the_same_batch_updates_what_the_first_notice_created(
    fake, world, django_capture_on_commit_callbacks
):
    numbers = _shipped(fake, world, django_capture_on_commit_callbacks, ids=(5001, 5002))
    shipment = Shipment.objects.get(order__external_id="5001")
    parcel = Parcel.objects.get(shipment=shipment)
    with transaction.atomic():  # relabelled before the consumer ran: two rows of one shipment in the batch
        Parcel.objects.filter(pk=parcel.pk).update(voided_at=parcel.created_at)
        Parcel.objects.create(shipment=shipment, service=parcel.service, tracking_number=NEW)
        shipments_channel_notice(shipment_ids=[shipment.pk])

    assert dispatch() == {"sent": 3}

    names = [name for name, _v in fake.shop.requests]
    assert names == ["OrdersFulfillment", "FulfillmentsCreate", "FulfillmentTrackingInfoUpdate"]
    assert _made(fake) == [
        ("gid://shopify/Order/5001", (NEW,), (1, 2)),
        ("gid://shopify/Order/5002", (numbers["gid://shopify/Order/5002"],), (1, 2)),
    ]
    assert sorted(r.tracking_numbers for r in RemoteShipment.objects.all()) == sorted(
        [[NEW], [numbers["gid://shopify/Order/5002"]]]
    )
