"""Faults mid-stream (issue 13): orders through the API and tracking pushes through the webhook
stream in while the Celery worker is killed with SIGKILL and PostgreSQL restarts. Every accepted
order is applied exactly once and routed in the end (the sweep finds what the killed worker held),
every push is applied with each scan stored once, stock reconciles with the ledger, every stored
message has its outcome, and every outbox row (the customers' e-mails) is sent once.

Runs in `make test`'s PostgreSQL + Redis lane: scripts/lib.sh exports how to restart its server
(OMS_TEST_PG_CTL, OMS_TEST_PG_DATA).
"""

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from fulfillment.models import Shipment
from inventory.models import Stock
from logistics.models import Parcel, TrackingEvent
from logistics.providers.aftership import compute_signature
from oms import background
from oms.celery import app
from oms.models import ApiToken, OutboxMessage
from orders.models import InboundMessage, Notification, Order
from tests import journey
from tests.factories import stock
from tests.logistics.test_tracking_batch import SCANS, body
from tests.oms.test_celery_worker import _stop, _test_database_url

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.serial]

ORDERS = 45
KILL_AT, RESTART_AT = 15, 30
SETTLE_SECONDS = 180
PARCELS = 5
PUSH_SECRET = "faults-secret"


def _restart_postgres() -> None:
    pg_ctl, data = os.environ["OMS_TEST_PG_CTL"], os.environ["OMS_TEST_PG_DATA"]
    command = [pg_ctl, "-w", "-t", "60", "-D", data, "-m", "fast", "restart"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=90)


def _worker(queue: str, log_path: Path, spool: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "OMS_ROOT_WORKER_OK": "1",
        "AFTERSHIP_WEBHOOK_SECRET": PUSH_SECRET,
        "EMAIL_BACKEND": "tests.oms.mail_spool.SpoolBackend",
        "OMS_TEST_MAIL_SPOOL": str(spool),
        "OMS_OUTBOX_LEASE_SECONDS": "5",  # the rows the killed worker held come back within the test
    }
    env.pop("REPORTS_DATABASE_URL", None)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "oms", "worker", "--pool=solo", f"--queues={queue}",
             f"--hostname={queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel=INFO"],
            cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _body(i: int) -> str:
    return json.dumps(
        {
            "channel": "web",
            "external_id": f"FAULT-{i}",
            "ship_to": {"name": "Han Meimei", "phone": "13712345678", "email": f"fault{i}@example.com",
                        "country": "CN", "province": "Shanghai",
                        "city": "Shanghai", "address1": f"{i} Nanjing Road", "postcode": "200001"},
            "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "19.90"}],
        }
    )  # fmt: skip


def _post_until_accepted(client, key: str, i: int, unavailable: list) -> int:
    """A client that honours 503 + Retry-After: tries again until the order is accepted."""
    return _until_accepted(
        lambda: client.post(
            "/api/v1/orders/", _body(i), content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}"
        ),
        i,
        unavailable,
    )


def _push_until_accepted(client, data: bytes, i: int, unavailable: list) -> int:
    """A carrier that retries a push answered 503 (AfterShip and EasyPost retry non-2xx answers)."""
    signature = compute_signature(data, PUSH_SECRET)
    return _until_accepted(
        lambda: client.post(
            "/webhooks/tracking/aftership/", data, content_type="application/json", HTTP_AFTERSHIP_HMAC_SHA256=signature
        ),
        i,
        unavailable,
    )


def _until_accepted(send, i: int, unavailable: list) -> int:
    for _ in range(120):
        response = send()
        if response.status_code in (200, 201, 202):
            return response.status_code
        assert response.status_code == 503, (response.status_code, response.content[:500])
        assert response["Retry-After"]
        unavailable.append(i)
        connection.close()  # what the next request does in production (close_if_unusable_or_obsolete)
        time.sleep(0.5)
    pytest.fail(f"message {i} was never accepted")


@pytest.mark.skipif(not os.environ.get("OMS_TEST_PG_CTL"), reason="needs the PostgreSQL that make test starts")
def test_orders_survive_a_killed_worker_and_a_postgres_restart(transactional_db, client, tmp_path, settings):
    assert app.conf.task_always_eager is False
    queue = f"oms-faults-{uuid.uuid4().hex[:10]}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    settings.OMS_STUCK_AFTER_SECONDS = 3
    settings.AFTERSHIP_WEBHOOK_SECRET = PUSH_SECRET
    world = journey.world()
    stock(world["location"], world["product"], ORDERS * 2)
    app.conf.task_always_eager = True  # the parcels to track are made before the stream, inline
    try:
        shipped = [
            journey.order_through(lambda execute: contextlib.nullcontext(), "shipped", f"TRK-{n}")
            for n in range(PARCELS)
        ]
    finally:
        app.conf.task_always_eager = False
    parcels = [Parcel.objects.get(shipment__order=order) for order in shipped]
    _, key = ApiToken.issue(journey.users()["manager"])
    log_path, spool = tmp_path / "worker.log", tmp_path / "mail.spool"
    spool.touch()
    worker = _worker(queue, log_path, spool)
    statuses, pushes, unavailable = [], [], []
    try:
        for i in range(ORDERS):
            if i == KILL_AT:
                worker.kill()  # SIGKILL: whatever it held is never acknowledged
                worker.wait(10)
                worker = _worker(queue, log_path, spool)
            if i == RESTART_AT:
                _restart_postgres()
            statuses.append(_post_until_accepted(client, key, i, unavailable))
            parcel = parcels[i % PARCELS]  # each parcel's history grows by one scan per round
            scans = list(range(min(i // PARCELS + 1, len(SCANS))))
            pushes.append(_push_until_accepted(client, body(parcel.tracking_number, scans), i, unavailable))
            if i == KILL_AT - 1:
                time.sleep(1)  # let the worker take some work before it dies

        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            connection.close()
            unrouted = Order.objects.filter(external_id__startswith="FAULT-").exclude(status="allocated").count()
            unapplied = InboundMessage.objects.filter(source="webhook:aftership", status="received").count()
            unsent = OutboxMessage.objects.filter(status="pending").count()
            if not unrouted and not unapplied and not unsent:
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{unrouted} orders never routed, {unapplied} pushes never applied, {unsent} outbox rows unsent; "
                    f"worker log:\n{log_path.read_text(errors='replace')[-5000:]}"
                )
            background.sweep()  # beat's job, every minute in production
            time.sleep(2)
    finally:
        _stop(worker)
        app.conf.task_default_queue = previous_queue

    assert statuses.count(202) == ORDERS  # accepted into the inbox; applied by the worker in batches
    assert unavailable and min(unavailable) == RESTART_AT  # the restart was met, and answered 503
    orders = Order.objects.filter(external_id__startswith="FAULT-")
    assert orders.count() == ORDERS
    assert sorted(orders.values_list("external_id", flat=True)) == sorted(f"FAULT-{i}" for i in range(ORDERS))
    assert Shipment.objects.filter(order__in=orders).exclude(status="cancelled").count() == ORDERS
    assert Stock.objects.get(location=world["location"], product=world["product"]).reserved == ORDERS
    assert not InboundMessage.objects.filter(source="api", status="received").exists()
    assert pushes == [200] * ORDERS
    pushed = InboundMessage.objects.filter(source="webhook:aftership")
    assert pushed.count() == ORDERS
    assert set(pushed.values_list("status", flat=True)) == {"processed"}
    rounds = -(-ORDERS // PARCELS)
    for parcel in parcels:  # every scan stored once, whatever was redelivered or retried
        assert TrackingEvent.objects.filter(parcel=parcel).count() == min(rounds, len(SCANS))
    call_command("reconcile_stock")  # exits 1 (SystemExit) when stock and ledger disagree
    # Every outbox row sent once: each order's confirmation left exactly once, whatever was killed or restarted.
    assert set(OutboxMessage.objects.values_list("status", flat=True)) <= {"sent", "skipped"}
    confirmations = OutboxMessage.objects.filter(kind="notification", payload__notice="confirmed", subject__in=[
        f"order:{pk}" for pk in orders.values_list("pk", flat=True)
    ])  # fmt: skip
    assert confirmations.count() == ORDERS and set(confirmations.values_list("status", flat=True)) == {"sent"}
    lines = Counter(spool.read_text(encoding="utf-8").splitlines())  # what the worker sent: (to, subject)
    assert [line for line, n in lines.items() if n > 1] == []  # nothing sent twice
    fault_lines = sorted(line.split("\t")[0] for line in lines if line.startswith("fault"))
    assert fault_lines == sorted(f"fault{i}@example.com" for i in range(ORDERS))
    assert Notification.objects.filter(to__startswith="fault", status="sent").count() == ORDERS
