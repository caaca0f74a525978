"""Connectors benchmark: shipment confirmations delivered to Shopify and to Amazon (the fakes of the test suite,
on loopback) through the outbox, next to a bare HTTP loop that sends the same requests to the same server.

    DATABASE_URL=postgres://... python bench/connectors_bench.py [--quick]

Run by bench/run.py (``make bench``) through ``run(report, quick)``. It writes to the database: use a
throwaway one. P orders of a Shopify channel are created, routed, packed and shipped with the real services
(untimed); each shipment's ``channel.shipment`` outbox row is written with it and not sent. Timed: the outbox
consumer (``outbox_dispatch_all``, what the nudged worker runs) until every row is sent — per shipment the
order's fulfillment orders are read and ``fulfillmentCreate`` is sent, then the outcome and the fulfillment's
id are recorded. Baseline: the same two GraphQL requests per shipment from a bare ``requests`` loop (one
keep-alive session, no database). Goal (issue 16): ratio >= 0.5.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

QUICK = {"shipments": 30}
FULL = {"shipments": 150}


def _world(
    run_id: str,
    n: int,
    base_url: str,
    token: str,
    *,
    platform: str = "shopify",
    data: dict | None = None,
    first=9_000_000,
) -> list[int]:
    from connectors.services import connection_save
    from fulfillment import services as fs
    from inventory.models import Location, Product
    from inventory.services import stock_receive
    from logistics import services as ls
    from logistics.models import Carrier, ServiceLevel
    from orders import services as os_
    from orders.care import notifications
    from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
    from orders.models import Channel

    location = Location.objects.create(
        code=f"cb{run_id}",
        name=f"Bench DC {run_id}",
        city="Shanghai",
        province="Shanghai",
        latitude=31.2,
        longitude=121.4,
    )
    product = Product.objects.create(sku=f"CB-{run_id}", name="Bench product", weight_g=300)
    stock_receive(location=location, product=product, quantity=n * 2, reason="bench")
    carrier, _ = Carrier.objects.get_or_create(code="local", defaults={"name": "Local Express", "adapter": "local"})
    if not ServiceLevel.objects.filter(active=True).exists():
        ServiceLevel.objects.create(carrier=carrier, code=f"cb{run_id}", name="Standard", transit_days=3)
    channel = Channel.objects.create(slug=f"cb-{run_id}", name=f"Bench {platform} {run_id}", platform=platform)
    connection_save(channel=channel, data=data or {"base_url": base_url, "api_version": "2025-01"}, secret=token)
    ids = []
    with notifications.suppressed():
        for i in range(n):
            data = CanonicalOrder(
                external_id=str(first + i) if platform != "amazon" else f"113-{first + i:07d}-0000001",
                ship_to=CanonicalAddress(
                    name="Bench Buyer",
                    phone="13800138000",
                    email=f"b{i}@example.com",
                    country="CN",
                    province="Beijing",
                    city="Beijing",
                    district="Chaoyang",
                    address1="1 Bench Rd",
                    postcode="100020",
                ),
                lines=[CanonicalLine(sku=product.sku, quantity=1)],
                customer_email=f"b{i}@example.com",
            )
            order = os_.order_create(channel=channel, data=data, source="bench").order
            fs.order_route(order_id=order.pk)
            shipment = order.shipments.get()
            fs.shipment_pack(shipment=shipment, weight_g=400)
            ls.shipment_dispatch(shipment=shipment)
            ids.append(shipment.pk)
    return ids


def run(report, quick: bool) -> None:
    import requests

    from connectors.shopify.adapter import FULFILLMENT_CREATE, FULFILLMENT_ORDERS_QUERY
    from oms import outbox
    from oms.models import OutboxMessage
    from tests.connectors.fake_shopify import TOKEN, FakeShopify

    sizes = QUICK if quick else FULL
    n = sizes["shipments"]
    run_id = uuid.uuid4().hex[:6]
    with FakeShopify() as fake:
        for i in range(n):
            fake.shop.add_fulfillable_order(9_000_000 + i, [(f"CB-{run_id}", 1)])
            fake.shop.add_fulfillable_order(8_000_000 + i, [(f"CB-{run_id}", 1)])  # for the bare loop
        _world(run_id, n, fake.base_url, TOKEN)
        rows = OutboxMessage.objects.filter(kind="channel.shipment", destination=f"channel:cb-{run_id}")
        assert rows.filter(status="pending").count() == n, "every shipment has its pending row"

        start = time.perf_counter()
        rounds = 0
        while rows.filter(status="pending").exists() and rounds < 100:
            outbox.outbox_dispatch_all(limit=100)
            rounds += 1
        mine_s = time.perf_counter() - start
        sent = rows.filter(status="sent").count()

        session = requests.Session()
        url = f"{fake.base_url}/admin/api/2025-01/graphql.json"
        headers = {"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/json"}
        start = time.perf_counter()
        for i in range(n):
            gid = f"gid://shopify/Order/{8_000_000 + i}"
            order = session.post(
                url, json={"query": FULFILLMENT_ORDERS_QUERY, "variables": {"id": gid}}, headers=headers, timeout=20
            ).json()["data"]["order"]
            fo = order["fulfillmentOrders"]["nodes"][0]
            item = fo["lineItems"]["nodes"][0]
            fulfillment = {
                "lineItemsByFulfillmentOrder": [
                    {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": [{"id": item["id"], "quantity": 1}]}
                ],
                "notifyCustomer": False,
                "trackingInfo": {"company": "Local Express", "numbers": [f"B{i}"], "urls": []},
            }
            session.post(
                url, json={"query": FULFILLMENT_CREATE, "variables": {"fulfillment": fulfillment}}, headers=headers
            ).raise_for_status()
        bare_s = time.perf_counter() - start
        created = len(fake.shop.operations("FulfillmentCreate"))

    report.note(f"{n} shipped shipments of a Shopify channel; fake Shopify on loopback; one worker thread")
    report.figure(
        "shipment confirmations delivered",
        sent / mine_s,
        "/s",
        baseline=("bare HTTP loop, same 2 requests", n / bare_s),
        shipments=n,
        sent=sent,
        fulfillments_created=created,
    )
    run_amazon(report, quick)


def run_amazon(report, quick: bool) -> None:
    """The same for Amazon: per shipment ``getOrderItems`` and ``shipmentConfirmation`` on the fake SP-API, through
    the outbox (the LWA token fetched once), beside a bare loop of the same two requests."""
    import requests

    from oms import outbox
    from oms.models import OutboxMessage
    from tests.connectors.fake_amazon import MARKETPLACE, SECRET, FakeAmazon, amazon_item, amazon_order

    n = (QUICK if quick else FULL)["shipments"]
    run_id = uuid.uuid4().hex[:6]
    sku = f"CB-{run_id}"
    with FakeAmazon() as fake:
        for i in range(n):
            for first in (9_000_000, 8_000_000):  # the outbox's, the bare loop's
                oid = f"113-{first + i:07d}-0000001"
                fake.add_order(
                    amazon_order(oid, updated="2026-12-05T10:00:00Z"), [amazon_item(f"{oid}-1", sku, 1, "10.00")]
                )
        data = {"base_url": fake.url, "auth_url": f"{fake.url}/auth/o2/token", "marketplace_ids": MARKETPLACE}
        _world(run_id, n, fake.url, SECRET, platform="amazon", data=data)
        rows = OutboxMessage.objects.filter(kind="channel.shipment", destination=f"channel:cb-{run_id}")
        assert rows.filter(status="pending").count() == n, "every shipment has its pending row"

        start = time.perf_counter()
        rounds = 0
        while rows.filter(status="pending").exists() and rounds < 100:
            outbox.outbox_dispatch_all(limit=100)
            rounds += 1
        mine_s = time.perf_counter() - start
        sent = rows.filter(status="sent").count()

        session = requests.Session()
        token = next(iter(fake.tokens))
        headers = {"x-amz-access-token": token, "Content-Type": "application/json"}
        start = time.perf_counter()
        for i in range(n):
            oid = f"113-{8_000_000 + i:07d}-0000001"
            items = session.get(f"{fake.url}/orders/v0/orders/{oid}/orderItems", headers=headers, timeout=20).json()
            item = items["payload"]["OrderItems"][0]
            detail = {
                "packageReferenceId": str(i + 1),
                "carrierCode": "Other",
                "carrierName": "Local Express",
                "trackingNumber": f"B{i}",
                "shipDate": "2026-12-05T10:00:00Z",
                "orderItems": [{"orderItemId": item["OrderItemId"], "quantity": 1}],
            }
            session.post(
                f"{fake.url}/orders/v0/orders/{oid}/shipmentConfirmation",
                json={"marketplaceId": MARKETPLACE, "packageDetail": detail},
                headers=headers,
                timeout=20,
            ).raise_for_status()
        bare_s = time.perf_counter() - start
        confirmed = sum(len(fake.packages.get(f"113-{9_000_000 + i:07d}-0000001", [])) for i in range(n))

    report.note(f"{n} shipped shipments of an Amazon channel; fake SP-API on loopback; one worker thread")
    report.figure(
        "amazon shipment confirmations delivered",
        sent / mine_s,
        "/s",
        baseline=("bare HTTP loop, same 2 requests", n / bare_s),
        shipments=n,
        sent=sent,
        packages_confirmed=confirmed,
    )


if __name__ == "__main__":
    import django

    django.setup()
    from bench.common import Report
    from oms.celery import ensure_queue_dirs

    ensure_queue_dirs()  # the embedded queue when no broker is configured
    quick_run = "--quick" in sys.argv
    rep = Report(quick=quick_run)
    rep.section("connectors")
    run(rep, quick_run)
