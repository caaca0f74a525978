"""The order inbox (issue 14, "Inbox → batch apply"): the API accepts with one INSERT and a 202, the
batch endpoint takes up to 500 orders, and the consumer applies waiting messages in batches with
isolation per message."""

import json

import pytest
from django.test import TestCase

from oms import background
from oms.models import ApiToken, OutboxMessage
from orders.intake import inbox
from orders.intake.signing import sign
from orders.models import Channel, InboundMessage, Order
from orders.status import EventKind
from tests import journey
from tests.factories import ChannelFactory, ProductFactory
from tests.orders.test_api import payload
from tests.orders.test_intake_webhooks import woo_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    journey.world()
    users = journey.users()
    return ApiToken.issue(users["manager"])[1]


def post(client, url, body, key, *, run_after_commit=True):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    with TestCase.captureOnCommitCallbacks(execute=run_after_commit):
        return client.post(url, data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")


def test_accepting_stores_one_received_message_and_nothing_else(client, key):
    response = post(client, "/api/v1/orders/", payload("IN-1"), key, run_after_commit=False)

    assert response.status_code == 202
    message = InboundMessage.objects.get()
    assert (message.status, message.source, message.channel.slug) == ("received", "api", "web")
    assert message.user.username == "manager"
    assert json.loads(bytes(message.raw)) == payload("IN-1")
    assert not Order.objects.exists()
    assert client.get(response["Location"], HTTP_AUTHORIZATION=f"Token {key}").json()["status"] == "received"

    assert inbox.apply_pending() == 1

    message.refresh_from_db()
    order = Order.objects.get(external_id="IN-1")
    assert (message.status, message.result) == ("processed", {"order": order.number, "created": True})
    created = order.events.get(kind=EventKind.CREATED)
    assert created.user.username == "manager" and created.data["source"] == "api"
    # The confirmation notice, as one-by-one intake wrote it: an outbox row in the batch's transaction.
    confirmed = order.events.get(kind=EventKind.STATUS, data__to="confirmed")
    notice = OutboxMessage.objects.get(subject=f"order:{order.pk}")
    assert (notice.kind, notice.payload["notice"], notice.payload["event"]) == (
        "notification",
        "confirmed",
        confirmed.pk,
    )
    assert notice.destination.endswith("han@example.com")


def test_the_batch_endpoint_judges_each_order_alone(client, key):
    assert post(client, "/api/v1/orders/", payload("B-0"), key).status_code == 202
    bad = payload("B-2", lines=[{"sku": "SKU-A", "quantity": 0}])
    body = {"orders": [payload("B-1"), bad, payload("B-0"), payload("B-3"), "not an order"]}

    response = post(client, "/api/v1/orders/batch/", body, key)

    assert response.status_code == 202
    answer = response.json()
    assert (answer["accepted"], answer["exists"], answer["rejected"]) == (2, 1, 2)
    results = answer["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "exists", "accepted", "rejected"]
    assert results[2]["order"] == Order.objects.get(external_id="B-0").number
    assert "lines[1].quantity" in [e["field"] for e in results[1]["errors"]]
    assert results[4]["error"] == "Body must be a JSON object."
    assert sorted(Order.objects.values_list("external_id", flat=True)) == ["B-0", "B-1", "B-3"]
    for result in (results[0], results[3]):
        outcome = client.get(result["status_url"], HTTP_AUTHORIZATION=f"Token {key}").json()
        assert outcome["status"] == "processed" and outcome["created"] is True
    assert InboundMessage.objects.filter(source="api", status="rejected").count() == 2
    assert not InboundMessage.objects.filter(status="received").exists()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"orders": []}, "'orders' must be a non-empty list of orders."),
        ({"orders": {"a": 1}}, "'orders' must be a non-empty list of orders."),
        ({"orders": [payload(f"X-{i}") for i in range(501)]}, "At most 500 orders per request, got 501."),
        ([1, 2], "Body must be a JSON object."),
    ],
)
def test_a_batch_that_cannot_be_read_is_400_and_kept_as_one_rejected_message(client, key, body, error):
    response = post(client, "/api/v1/orders/batch/", body, key)
    assert response.status_code == 400
    answer = response.json()
    assert answer["error"] == error
    # Nothing applied, but the request has its row and its outcome, like a single order's bad body.
    assert not Order.objects.exists()
    message = InboundMessage.objects.get()
    assert (message.pk, message.source, message.status, message.error) == (answer["message"], "api", "rejected", error)
    sent = body if isinstance(body, bytes) else json.dumps(body).encode()
    assert bytes(message.raw) == sent
    status = client.get(f"/api/v1/inbound/{message.pk}/", HTTP_AUTHORIZATION=f"Token {key}")
    assert status.status_code == 200 and status.json()["status"] == "rejected"


def test_a_batch_body_that_is_not_json_is_kept_as_it_came(client, key):
    response = post(client, "/api/v1/orders/batch/", b'{"orders": [\xff', key)
    assert response.status_code == 400 and response.json()["error"].startswith("Body is not valid JSON")
    message = InboundMessage.objects.get(pk=response.json()["message"])
    assert bytes(message.raw) == b'{"orders": [\xff' and message.status == "rejected"


def test_a_rejected_single_order_answer_names_its_stored_message(client, key):
    response = post(client, "/api/v1/orders/", b"not json", key)
    assert response.status_code == 400
    message = InboundMessage.objects.get(pk=response.json()["message"])
    assert message.status == "rejected" and bytes(message.raw) == b"not json"


def test_a_bad_message_in_a_batch_is_set_aside_and_the_batch_goes_on(key):
    web = Channel.objects.get(slug="web")

    def waiting(body: bytes, channel=web):
        return InboundMessage.objects.create(source="api", channel=channel, raw=body, body=body.decode())

    good = [waiting(json.dumps(payload(f"G-{i}")).encode()) for i in range(3)]
    broken = waiting(b'{"channel": "web", "external_id": ')
    unknown = waiting(json.dumps(payload("U-1", channel="gone")).encode())
    twice = waiting(json.dumps(payload("G-0")).encode())  # the same order twice in one batch

    assert inbox.apply_pending() == 6

    states = dict(InboundMessage.objects.values_list("pk", "status"))
    assert [states[m.pk] for m in good] == ["processed"] * 3
    assert (states[broken.pk], states[unknown.pk], states[twice.pk]) == ("rejected", "rejected", "processed")
    broken.refresh_from_db()
    unknown.refresh_from_db()
    twice.refresh_from_db()
    assert broken.error.startswith("not JSON:")
    assert unknown.result["errors"] == [{"row": None, "field": "channel", "message": "unknown channel 'gone'."}]
    assert twice.result == {"order": Order.objects.get(external_id="G-0").number, "created": False}
    assert Order.objects.count() == 3
    assert inbox.apply_pending() == 0


def test_an_update_of_an_order_the_batch_creates_waits_for_the_next_batch(client):
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")
    woo = ChannelFactory(slug="woo", platform="woocommerce", webhook_secret="woo-secret-123456")
    moved = dict(json.loads(woo_body())["shipping"], city="Cupertino", postcode="95014")
    _store_woo(client, woo_body(), "order.created")
    _store_woo(client, woo_body(shipping=moved), "order.updated")
    assert InboundMessage.objects.filter(status="received").count() == 2

    assert inbox.apply_pending() == 1  # the creation; the update waits, in order
    order = Order.objects.get(channel=woo, external_id="727")
    assert order.ship_city == "San Francisco"
    with TestCase.captureOnCommitCallbacks(execute=True):  # the update goes on to workflows' task after commit
        assert inbox.apply_pending() == 1
    assert inbox.apply_pending() == 0  # handed over: no batch takes it again
    order.refresh_from_db()
    assert (order.ship_city, order.ship_postcode) == ("Cupertino", "95014")
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}


def _store_woo(client, body: bytes, topic: str) -> None:
    with TestCase.captureOnCommitCallbacks(execute=False):
        response = client.post(
            "/webhooks/orders/woo/",
            data=body,
            content_type="application/json",
            HTTP_X_WC_WEBHOOK_TOPIC=topic,
            HTTP_X_WC_WEBHOOK_RESOURCE="order",
            HTTP_X_WC_WEBHOOK_EVENT=topic.split(".")[1],
            HTTP_X_WC_WEBHOOK_SIGNATURE=sign(body, "woo-secret-123456"),
        )
    assert response.status_code == 200


def test_a_channel_switched_off_is_seen_at_once(client, key):
    Channel.objects.filter(slug="web").update(active=False)  # no save(): the cache may still hold it
    inbox.channels_forget()
    channel = Channel.objects.get(slug="web")
    assert post(client, "/api/v1/orders/", payload("C-1"), key).status_code == 400
    channel.active = True
    channel.save()  # save() forgets the cached channels in this process
    assert post(client, "/api/v1/orders/", payload("C-2"), key).status_code == 202
    channel.active = False
    channel.save()
    response = post(client, "/api/v1/orders/", payload("C-3"), key)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": None, "field": "channel", "message": "unknown channel 'web'."}]


def test_a_revoked_token_is_refused_at_once(client, key):
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    ApiToken.objects.get(key_hash=ApiToken.hash_key(key)).delete()
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_another_users_message_is_not_shown(client, key):
    web = Channel.objects.get(slug="web")
    theirs = InboundMessage.objects.create(source="api", channel=web, body="{}")
    hook = InboundMessage.objects.create(source="webhook:shopify", channel=web, body="{}")
    users = journey.users()
    _, cs_key = ApiToken.issue(users["warehouse"])  # may list orders, not read the intake monitor
    for pk in (theirs.pk, hook.pk, 999999):
        assert client.get(f"/api/v1/inbound/{pk}/", HTTP_AUTHORIZATION=f"Token {cs_key}").status_code == 404


def test_nudges_in_one_window_send_one_task(monkeypatch, settings):
    from oms.celery import app

    sent = []
    task = app.tasks[inbox.APPLY_TASK]
    monkeypatch.setattr(task, "apply_async", lambda **kw: sent.append(kw))
    background._nudged.clear()
    app.conf.task_always_eager = False
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            for _ in range(5):
                background.nudge(inbox.APPLY_TASK, window=60)
    finally:
        app.conf.task_always_eager = True
        background._nudged.clear()
    assert sent == [{"countdown": 60}]
