"""Issue 16's "done", across a real crash: orders of a Shopify channel, packed with an EasyPost label bought in the
pack flow, shipped; the Celery worker sending the confirmations is killed with SIGKILL while Shopify is answering.
Every order is fulfilled on Shopify exactly once, with the EasyPost tracking number, and every outbox row ends
sent (the killed worker's rows come back after their lease; the next try finds the fulfillment Shopify made).

Runs in `make test`'s PostgreSQL + Redis lane (a real worker process, the embedded default has none)."""

import time
import uuid

import pytest
from django.db import connection

from connectors.services import connection_save
from fulfillment import packing
from logistics import services as logistics_services
from logistics.models import Carrier, Parcel, ServiceLevel
from oms import background
from oms.celery import app
from oms.models import OutboxMessage
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock
from tests.logistics.fake_easypost import FakeEasyPost
from tests.oms.test_celery_worker import _stop
from tests.oms.test_faults import _worker

from .fake_shopify import TOKEN
from .fake_shopify_server import FakeShopify

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.serial]
ORDERS = 4
EASYPOST_KEY = "EZTK_crash_secret_1234"
SETTLE_SECONDS = 120


def _world(shopify, easypost):
    location = LocationFactory(code="sha", name="Shanghai DC")
    stock(location, ProductFactory(sku="TEA-1", name="龙井茶", weight_g=300), ORDERS * 2)
    carrier = Carrier.objects.create(
        code="easypost", name="EasyPost USPS", adapter="easypost", api_key=EASYPOST_KEY, api_base_url=easypost.base_url
    )
    ServiceLevel.objects.create(
        carrier=carrier, code="us-priority", name="Priority", external_code="USPS:Priority", base_rate="7.00"
    )
    channel = ChannelFactory(slug="shopify-crash", name="Shopify", platform="shopify")
    channel.locations.add(location)
    connection_save(
        channel=channel,
        data={"base_url": shopify.base_url, "api_version": "2025-01", "location_ref": "gid://shopify/Location/1"},
        secret=TOKEN,
    )
    return channel


def test_confirmations_are_sent_once_across_a_killed_worker(transactional_db, client, tmp_path, settings):
    settings.OMS_NOTIFICATIONS_SUPPRESSED = True
    queue = f"oms-confirm-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    settings.OMS_STUCK_AFTER_SECONDS = 3
    easypost = FakeEasyPost(api_key=EASYPOST_KEY).start()
    worker = None
    try:
        with FakeShopify() as shopify:
            channel = _world(shopify, easypost)
            client.force_login(make_user("packer", "warehouse"))
            numbers = {}
            app.conf.task_always_eager = True  # routing inline; the confirmations wait for the worker below
            try:
                orders = []
                for i in range(ORDERS):
                    external = str(7001 + i)
                    shopify.shop.add_fulfillable_order(int(external), [("TEA-1", 1)])
                    orders.append(
                        order_services.order_create(
                            channel=channel, data=canonical(external, lines=[("TEA-1", 1)]), source="test"
                        ).order
                    )
            finally:
                app.conf.task_always_eager = False
            for order in orders:
                shipment = order.shipments.get()
                packing.pack_scan(shipment=shipment, code="TEA-1")
                done = client.post(
                    f"/logistics/pack/{shipment.number}/ship/",
                    {"weight_kg": "0.400", "package_type": "box-m", "label_size": "4x6"},
                )
                assert done.status_code == 302, done.content[:300]
                logistics_services.shipment_dispatch(shipment=shipment)
                parcel = Parcel.objects.get(shipment=shipment)
                numbers[f"gid://shopify/Order/{order.external_id}"] = parcel.tracking_number
            bought = {s.get("tracking_code") for s in easypost.shipments.values()}
            assert set(numbers.values()) <= bought  # the labels are EasyPost's, bought in the pack flow
            rows = OutboxMessage.objects.filter(kind="channel.shipment")
            assert rows.filter(status="pending").count() == ORDERS

            # Shopify answers slowly: the worker is killed while it waits, after Shopify has done it (the batch's
            # read, then its document of fulfillmentCreate, each answered 3 s after it was done).
            shopify.shop.fail_next("late", times=2, seconds=3.0)
            worker = _worker(queue, tmp_path / "worker.log", tmp_path / "mail.spool")
            app.send_task("oms.outbox_dispatch", queue=queue)
            deadline = time.monotonic() + 60
            while not shopify.shop.fulfillments and time.monotonic() < deadline:
                time.sleep(0.2)
            assert shopify.shop.fulfillments, (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
            worker.kill()  # SIGKILL: the batch's outcomes are never written
            worker.wait(10)
            made_before = len(shopify.shop.fulfillments)
            connection.close()
            assert rows.filter(status="sent").count() == 0  # nothing recorded by the killed worker

            worker = _worker(queue, tmp_path / "worker.log", tmp_path / "mail.spool")
            deadline = time.monotonic() + SETTLE_SECONDS
            while rows.exclude(status="sent").exists():
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"unsent: {list(rows.values_list('status', 'attempts', 'last_error'))}; worker log:\n"
                        + (tmp_path / "worker.log").read_text(errors="replace")[-5000:]
                    )
                background.sweep()  # beat's job, every minute in production: rows past their lease
                time.sleep(1)
                connection.close()

            fulfilled = [(f["order"], tuple(f["trackingInfo"]["numbers"])) for f in shopify.shop.fulfillments.values()]
            assert sorted(fulfilled) == sorted((gid, (number,)) for gid, number in numbers.items())
            assert len(shopify.shop.created_inputs()) == ORDERS  # none twice
            assert made_before >= 1
            # the killed worker's rows were sent again, and the fulfillments Shopify had made were found, not repeated
            assert sum(len(v["ids"]) for _n, v in shopify.shop.operations("OrdersFulfillment")) > ORDERS
    finally:
        if worker is not None:
            _stop(worker)
        easypost.stop()
        app.conf.task_default_queue = previous_queue
