"""卖家备注 from WooCommerce: the pull reads each pulled order's private notes
(``GET /orders/<id>/notes?type=internal``, ``customer_note: false``); the notes a person wrote become the order's
seller memo, oldest first; customer notes and WooCommerce's own system notes stay out; a later private note
updates the memo on the next pull."""

import json

import pytest

from connectors import services
from orders.intake import woocommerce_json, woocommerce_pull
from orders.intake.canonical import OrderRejected
from orders.models import InboundMessage, Order
from orders.models.memo_tags import MESSAGE_MAX

from ..fake_woocommerce import woo_order

pytestmark = pytest.mark.django_db


def _pull(capture, world):
    with capture(execute=True):
        return services.connection_pull(connection_id=world["connection"].pk)


def test_private_notes_by_a_person_become_the_seller_memo(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.add_order(woo_order(7001, modified="2026-12-05T10:00:00", customer_note="请周末送"))
    woo.store.add_note(7001, "VIP 客户，加急", at="2026-12-05T09:00:01")
    woo.store.add_note(7001, "Order status changed from Pending payment to Processing.", author="system")
    woo.store.add_note(7001, "Thanks for your order!", customer_note=True)
    woo.store.add_note(7001, "送  保温袋\n\n别忘了", at="2026-12-05T09:30:00")
    woo.store.add_order(woo_order(7002, modified="2026-12-05T10:01:00"))  # no notes

    assert _pull(django_capture_on_commit_callbacks, woo_world) == 2

    first, second = Order.objects.order_by("external_id")
    assert (first.buyer_message, first.seller_memo) == ("请周末送", "VIP 客户，加急\n送 保温袋\n别忘了")
    assert (second.buyer_message, second.seller_memo) == ("", "")
    asked = [(p, q) for _m, p, q, _b in woo.store.calls("GET", "/notes$")]
    assert asked == [
        ("/wp-json/wc/v3/orders/7001/notes", {"type": "internal"}),
        ("/wp-json/wc/v3/orders/7002/notes", {"type": "internal"}),
    ]
    stored = json.loads(InboundMessage.objects.get(body__contains='"id": 7001').body)
    assert [n["note"] for n in stored[woocommerce_pull.PRIVATE_NOTES]] == ["送  保温袋\n\n别忘了", "VIP 客户，加急"]


def test_a_later_private_note_updates_the_memo_on_the_next_pull(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.add_order(woo_order(7001, modified="2026-12-05T10:00:00"))
    woo.store.add_note(7001, "加急")
    _pull(django_capture_on_commit_callbacks, woo_world)
    assert Order.objects.get().seller_memo == "加急"

    woo.store.add_note(7001, "改发顺丰")
    woo.store.orders[7001]["date_modified_gmt"] = "2026-12-05T11:00:00"  # a note changes the order's time
    _pull(django_capture_on_commit_callbacks, woo_world)

    order = Order.objects.get()
    assert order.seller_memo == "加急\n改发顺丰"
    event = order.events.get(kind="memo")
    assert event.message == "Update from Woo CN (pull:woocommerce): seller memo: 加急 改发顺丰"


def test_an_order_deleted_before_its_notes_are_read_is_stored_without_them(
    woo, woo_world, django_capture_on_commit_callbacks, monkeypatch
):
    woo.store.add_order(woo_order(7001, modified="2026-12-05T10:00:00"))
    original = woo.store.notes_of

    def gone(oid, body=None, q=None):
        return (404, {"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.", "data": {}}, {})

    monkeypatch.setattr(woo.store, "notes_of", gone)
    assert _pull(django_capture_on_commit_callbacks, woo_world) == 1
    assert Order.objects.get().seller_memo == ""
    assert woocommerce_pull.PRIVATE_NOTES not in json.loads(InboundMessage.objects.get().body)
    monkeypatch.setattr(woo.store, "notes_of", original)


def test_a_failing_notes_call_keeps_the_cursor_and_stores_nothing(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.add_order(woo_order(7001, modified="2026-12-05T10:00:00"))
    woo.store.add_note(7001, "加急")
    original = woo.store.notes_of
    woo.store.notes_of = lambda oid, body=None, q=None: (500, {"code": "internal", "message": "Boom"}, {})

    assert _pull(django_capture_on_commit_callbacks, woo_world) == 0
    assert InboundMessage.objects.count() == 0 and Order.objects.count() == 0
    woo_world["connection"].refresh_from_db()
    assert woo_world["connection"].pull_cursor == ""
    woo.store.notes_of = original
    assert _pull(django_capture_on_commit_callbacks, woo_world) == 1  # the next pull gets it, memo and all
    assert Order.objects.get().seller_memo == "加急"


def test_the_webhook_body_has_no_seller_memo_and_bad_notes_are_a_clear_error():
    body = woo_order(7001, modified="2026-12-05T10:00:00")
    raw = json.dumps(body).encode()
    assert woocommerce_pull.parse(raw) == woocommerce_json.parse(raw)
    assert woocommerce_pull.parse(raw).seller_memo == ""
    body[woocommerce_pull.PRIVATE_NOTES] = "加急"
    with pytest.raises(OrderRejected) as caught:
        woocommerce_pull.parse(json.dumps(body).encode())
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("oms_private_notes", "must be a list of WooCommerce order notes.")
    ]


def test_a_memo_longer_than_a_memo_keeps_the_newest_notes():
    notes = [
        {"id": i, "author": "a", "date_created_gmt": f"2026-12-05T09:00:{i:02d}", "note": f"{i:02d}" + "x" * 598}
        for i in range(5)
    ]
    memo = woocommerce_pull.seller_memo(notes)
    assert len(memo) <= MESSAGE_MAX
    assert [line[:2] for line in memo.split("\n")] == ["02", "03", "04"]
