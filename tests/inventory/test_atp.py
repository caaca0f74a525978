"""Available to promise: the arithmetic, per channel, and publishing through the adapters."""

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from inventory import services
from inventory.selectors import AtpPart, atp_arithmetic, atp_for_locations
from inventory.services import StockRequest
from oms import outbox
from oms.models import OutboxMessage
from orders import atp
from orders.models import ChannelStockFigure, ChannelStockPublication, StockAdapter
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, stock
from tests.inventory.test_pages import role_users

pytestmark = pytest.mark.django_db


def part(available, safety=0, code="x"):
    return AtpPart(1, code, available, 0, safety)


@pytest.mark.parametrize(
    ("parts", "percent", "units", "expected"),
    [
        ([part(10), part(5)], 0, 0, (15, 0, 15)),
        ([part(10, safety=3), part(5, safety=8)], 0, 0, (7, 0, 7)),  # a location below its safety offers 0
        ([part(10)], 15, 0, (10, 2, 8)),  # 1.5 kept back, rounded up
        ([part(10)], 10, 0, (10, 1, 9)),
        ([part(10)], Decimal("12.5"), 1, (10, 3, 7)),  # ceil(1.25) + 1
        ([part(3)], 0, 5, (3, 3, 0)),  # the buffer never takes the figure below 0
        ([part(0)], 50, 2, (0, 0, 0)),
        ([], 0, 0, (0, 0, 0)),
    ],
)
def test_atp_arithmetic(parts, percent, units, expected):
    assert atp_arithmetic(parts, buffer_percent=percent, buffer_units=units) == expected


@pytest.fixture
def w():
    sha, can, bj = LocationFactory(code="sha"), LocationFactory(code="can"), LocationFactory(code="bj")
    a, b = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B")
    stock(sha, a, 10)
    stock(can, a, 6)
    stock(bj, a, 100)  # not a location of the channel
    stock(sha, b, 4)
    services.stock_reserve(requests=[StockRequest(sha.pk, a.pk, 3)], reference="O1")
    services.stock_rule_set(location=can, product=a, safety_stock=2)
    channel = ChannelFactory(slug="tmall", buffer_percent=Decimal("10"), buffer_units=1)
    channel.locations.set([sha, can])
    return {"sha": sha, "can": can, "bj": bj, "a": a, "b": b, "channel": channel}


def test_atp_per_location_subtracts_reserved_and_safety_stock(w):
    figures = atp_for_locations(location_ids=[w["sha"].pk, w["can"].pk])
    a = figures[w["a"].pk]
    assert [(p.location, p.on_hand, p.reserved, p.safety_stock, p.contributes) for p in a.parts] == [
        ("can", 6, 0, 2, 4),
        ("sha", 10, 3, 0, 7),
    ]
    assert (a.pooled, a.buffer, a.quantity) == (11, 0, 11)
    assert figures[w["b"].pk].quantity == 4


def test_channel_figures_use_its_locations_and_buffer(w):
    figures = atp.channel_figures(w["channel"])
    a = figures[w["a"].pk]
    assert (a.pooled, a.buffer, a.quantity) == (11, 3, 8)  # ceil(1.1) + 1 = 3
    b = figures[w["b"].pk]
    assert (b.pooled, b.buffer, b.quantity) == (4, 2, 2)  # ceil(0.4) + 1
    w["bj"].channels.add(w["channel"])
    assert atp.channel_figures(w["channel"])[w["a"].pk].quantity == 98  # 111 - ceil(11.1) - 1
    w["bj"].active = False
    w["bj"].save()
    assert atp.channel_figures(w["channel"])[w["a"].pk].quantity == 8  # an inactive location sells nothing


def test_publish_feed_records_changed_rows_and_then_only_changes(w):
    channel = w["channel"]
    first = atp.channel_stock_publish(channel=channel)
    assert first.outcome == "published" and first.adapter == "feed"
    assert first.rows == [{"sku": "SKU-A", "old": None, "new": 8}, {"sku": "SKU-B", "old": None, "new": 2}]
    assert dict(ChannelStockFigure.objects.values_list("product__sku", "quantity")) == {"SKU-A": 8, "SKU-B": 2}
    assert atp.channel_stock_publish(channel=channel) is None  # nothing changed: nothing sent, nothing recorded
    services.stock_receive(location=w["sha"], product=w["b"], quantity=6)
    second = atp.channel_stock_publish(channel=channel)
    assert second.rows == [{"sku": "SKU-B", "old": 2, "new": 8}]  # 10 - ceil(1.0) - 1
    assert ChannelStockPublication.objects.count() == 2
    channel.locations.remove(w["sha"])  # SKU-B is no longer stocked anywhere for the channel: goes to 0
    third = atp.channel_stock_publish(channel=channel)
    assert {r["sku"]: (r["old"], r["new"]) for r in third.rows} == {"SKU-A": (8, 2), "SKU-B": (8, 0)}


def test_feed_and_csv_serve_the_published_figures_with_a_token(client, w):
    channel = w["channel"]
    channel.stock_feed_token = "s3cret"
    channel.save()
    atp.channel_stock_publish(channel=channel)
    assert client.get("/orders/channels/tmall/stock.json").status_code == 401
    assert client.get("/orders/channels/tmall/stock.json?token=wrong").status_code == 401
    body = client.get("/orders/channels/tmall/stock.json", HTTP_AUTHORIZATION="Token s3cret").json()
    assert [(f["sku"], f["quantity"]) for f in body["figures"]] == [("SKU-A", 8), ("SKU-B", 2)]
    response = client.get("/orders/channels/tmall/stock.csv?token=s3cret")
    lines = response.content.decode().splitlines()
    assert lines[0] == "sku,quantity,updated_at" and lines[1].startswith("SKU-A,8,")


class _Receiver(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    _Receiver.received = []
    _Receiver.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _Receiver
    server.shutdown()
    server.server_close()


def test_push_is_an_outbox_row_sent_after_commit_and_a_failure_is_recorded_and_retried(
    w, receiver, django_capture_on_commit_callbacks
):
    server, handler = receiver
    channel = w["channel"]
    channel.stock_adapter = StockAdapter.PUSH
    channel.stock_push_url = f"http://127.0.0.1:{server.server_port}/stock"
    channel.save()

    handler.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        queued = atp.channel_stock_publish(channel=channel)
        assert queued.outcome == "queued" and handler.received == []  # nothing sent inside the transaction
        [row] = OutboxMessage.objects.filter(kind="stock_push")
        assert (row.destination, row.payload, row.status) == ("channel:tmall", {"publication": queued.pk}, "pending")
    queued.refresh_from_db()
    row.refresh_from_db()
    assert queued.outcome == "queued" and "500" in queued.error  # the try failed: recorded, tried again later
    assert (row.status, row.attempts) == ("pending", 1) and "500" in row.last_error
    assert not ChannelStockFigure.objects.exists()  # nothing counts as published
    assert atp.channel_stock_publish(channel=channel) == queued  # the next run waits for the queued push
    assert OutboxMessage.objects.filter(kind="stock_push").count() == 1

    handler.status = 200
    assert outbox.outbox_dispatch(now=row.next_attempt_at) == {"sent": 1}
    queued.refresh_from_db()
    assert (queued.outcome, queued.rows_changed, queued.error) == ("published", 2, "")
    assert handler.received[-1]["figures"] == [{"sku": "SKU-A", "quantity": 8}, {"sku": "SKU-B", "quantity": 2}]
    assert handler.received[-1]["channel"] == "tmall"
    assert len(handler.received) == 2
    assert dict(ChannelStockFigure.objects.values_list("product__sku", "quantity")) == {"SKU-A": 8, "SKU-B": 2}
    assert atp.channel_stock_publish(channel=channel) is None


def test_a_push_that_keeps_failing_goes_dead_and_the_next_run_queues_it_again(
    w, receiver, settings, django_capture_on_commit_callbacks
):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 1
    server, handler = receiver
    channel = w["channel"]
    channel.stock_adapter = StockAdapter.PUSH
    channel.stock_push_url = f"http://127.0.0.1:{server.server_port}/stock"
    channel.save()
    handler.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        first = atp.channel_stock_publish(channel=channel)
    first.refresh_from_db()
    assert first.outcome == "failed" and "503" in first.error
    assert OutboxMessage.objects.get(kind="stock_push").status == "dead"
    handler.status = 200
    with django_capture_on_commit_callbacks(execute=True):
        second = atp.channel_stock_publish(channel=channel)
    second.refresh_from_db()
    assert second.pk != first.pk and second.outcome == "published" and second.rows_changed == 2
    assert [r.status for r in OutboxMessage.objects.filter(kind="stock_push").order_by("pk")] == ["dead", "sent"]


def test_a_channel_without_a_push_url_is_dead_at_once(w, django_capture_on_commit_callbacks):
    channel = w["channel"]
    channel.stock_adapter = StockAdapter.PUSH
    channel.stock_push_url = ""
    channel.save()
    with django_capture_on_commit_callbacks(execute=True):
        publication = atp.channel_stock_publish(channel=channel)
    publication.refresh_from_db()
    row = OutboxMessage.objects.get(kind="stock_push")
    assert (publication.outcome, publication.error) == ("failed", "PushMisconfigured: The channel has no push URL.")
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, publication.error)


def test_publish_all_channels_runs_each_published_channel(w):
    ChannelFactory(slug="quiet", stock_adapter=StockAdapter.NONE)
    assert atp.publish_all_channels() == {"tmall": "published"}
    assert atp.publish_all_channels() == {"tmall": "unchanged"}


def test_channel_stock_page_explains_the_figure(client, w):
    users = role_users()
    client.force_login(users["manager"])
    body = client.get("/orders/channels/tmall/stock/").content.decode()
    assert "can: 6 − 2 = 4" in body and "sha: 7 = 7" in body
    assert "10 % of the pooled figure" in body
    assert client.post("/orders/channels/tmall/stock/publish/").status_code == 302
    assert ChannelStockPublication.objects.get().user.username == "manager"
    client.force_login(users["warehouse"])
    assert client.get("/orders/channels/tmall/stock/").status_code == 403


def test_stock_on_change_publishes_only_the_products_that_moved(w, monkeypatch):
    monkeypatch.setattr(atp, "STOCK_CHANGE_OVERLAP", 0)  # the fixture's own moves are not looked at again
    channel = w["channel"]
    assert atp.publish_changed_stock() == {"tmall": "published"}  # first look: the full comparison
    channel.refresh_from_db()
    seen = channel.stock_movements_seen
    assert seen > 0 and ChannelStockPublication.objects.count() == 1
    assert atp.publish_changed_stock() == {"tmall": "unchanged"}

    services.stock_receive(location=w["sha"], product=w["b"], quantity=6)  # SKU-B moves, SKU-A does not
    # SKU-A's figure changes behind the ledger's back (no movement): the on-change path does not look at it,
    # the scheduled full comparison does
    from inventory.models import Stock

    Stock.objects.filter(location=w["can"], product=w["a"]).update(on_hand=16)
    assert atp.publish_changed_stock() == {"tmall": "published"}
    latest = ChannelStockPublication.objects.first()
    assert latest.rows == [{"sku": "SKU-B", "old": 2, "new": 8}]
    channel.refresh_from_db()
    assert channel.stock_movements_seen > seen
    assert atp.publish_all_channels() == {"tmall": "published"}
    assert ChannelStockPublication.objects.first().rows == [{"sku": "SKU-A", "old": 8, "new": 17}]


def test_stock_on_change_ignores_locations_the_channel_does_not_sell_from(w, monkeypatch):
    monkeypatch.setattr(atp, "STOCK_CHANGE_OVERLAP", 0)
    atp.publish_changed_stock()
    other = ProductFactory(sku="SKU-BJ-ONLY")
    services.stock_receive(location=w["bj"], product=other, quantity=5)  # bj is not the channel's
    services.stock_receive(location=w["bj"], product=w["a"], quantity=5)
    assert atp.publish_changed_stock() == {"tmall": "unchanged"}
    assert not ChannelStockFigure.objects.filter(product=other).exists()
    new = ProductFactory(sku="SKU-NEW")
    services.stock_receive(location=w["can"], product=new, quantity=3)  # a product new to the channel
    assert atp.publish_changed_stock() == {"tmall": "published"}
    assert ChannelStockPublication.objects.first().rows == [{"sku": "SKU-NEW", "old": None, "new": 1}]


def test_stock_on_change_waits_while_a_push_is_queued_and_then_sends_the_moves(
    w, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(atp, "STOCK_CHANGE_OVERLAP", 0)
    server, handler = receiver
    channel = w["channel"]
    channel.stock_adapter = StockAdapter.PUSH
    channel.stock_push_url = f"http://127.0.0.1:{server.server_port}/stock"
    channel.save()
    handler.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        assert atp.publish_changed_stock() == {"tmall": "queued"}  # the first push fails: stays queued
    channel.refresh_from_db()
    seen = channel.stock_movements_seen
    services.stock_receive(location=w["sha"], product=w["b"], quantity=6)
    assert atp.publish_changed_stock() == {"tmall": "queued"}  # waits for the queued push, looks again later
    channel.refresh_from_db()
    assert channel.stock_movements_seen == seen
    handler.status = 200
    row = OutboxMessage.objects.get(kind="stock_push")
    assert outbox.outbox_dispatch(now=row.next_attempt_at) == {"sent": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert atp.publish_changed_stock() == {"tmall": "queued"}  # the move of SKU-B, pushed at once
    assert handler.received[-1]["figures"] == [{"sku": "SKU-B", "quantity": 8}]
    assert ChannelStockPublication.objects.first().outcome == "published"


def test_stock_on_change_looks_again_at_recent_moves_a_late_commit_could_hide(w):
    """A ledger row committed after a newer one was seen has a lower id than the mark: the overlap window
    still finds it."""
    channel = w["channel"]
    atp.publish_changed_stock()
    services.stock_receive(location=w["sha"], product=w["b"], quantity=6)
    channel.refresh_from_db()
    from inventory.models import StockMovement

    late = StockMovement.objects.order_by("-pk").first()
    type(channel).objects.filter(pk=channel.pk).update(stock_movements_seen=late.pk + 10)  # seen "past" it
    assert atp.publish_changed_stock() == {"tmall": "published"}
    assert ChannelStockPublication.objects.first().rows == [{"sku": "SKU-B", "old": 2, "new": 8}]
