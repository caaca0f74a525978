"""Tracking benchmark: tracking pushes processed end to end — webhook body stored raw, signature checked,
parsed, each scan deduplicated and recorded (parcel, shipment and order moved, timeline events, expected
date refreshed) — next to a raw batched INSERT of the same number of tracking-event rows, in the same run.

    DATABASE_URL=postgres://... python bench/tracking_bench.py [--quick]

Run by bench/run.py (``make bench``) through ``run(report, quick)``. It writes to the database: use a
throwaway one. Sizes: P shipped parcels (built untimed with the real services), each receiving S updates in
provider order; as providers do, every update carries the parcel's whole history so far, so each records one
new scan and skips the earlier ones as duplicates. Measured for AfterShip (JSON, HMAC header) and Kdniao (form,
DataSign).

The pushes are sent as the providers send them: AfterShip posts one tracking per webhook; Kdniao's push
(轨迹推送, RequestType 101) carries many parcels' traces in one request (``Count`` and the ``Data`` array;
`KDNIAO_PARCELS_PER_PUSH` of them here, Kdniao documents no maximum), so a Kdniao request is one stored message
holding several parcels' updates. Both providers post over several connections at once (`SENDERS` senders, each
with its own database connection, as several gunicorn workers would). Until 2026-12 the bench sent one Kdniao
parcel per request from a single sender, which no provider does; the figure names and the baseline did not
change, and the work is the same: P x S parcel updates, every scan parsed, P x S new scans recorded.

End to end: each push is accepted through the function the webhook view calls (`tracking_push_accept`:
signature checked in memory, one prepared INSERT, its own durable commit), without HTTP, while the batch
consumer (`tracking_pushes_apply_pending`, what the nudged worker task runs) applies them beside the senders;
the figure is the time from the first push until every push is applied. A third figure receives AfterShip
pushes one by one from one sender and applies the stored ones 100 at a time (`tracking_pushes_process`). SQL
statements per push are counted with a connection execute wrapper (every sender and the consumer).

Since 2026-12-07 the process's one-time loads are done before the clock starts (`warm`: the Redis client the
cached provider secret is checked with, imported at its first use, and the Celery app finalized), as in a
gunicorn or Celery worker that has served before. Until then the first push of the run paid them: about half a
second of a two-second AfterShip figure was the import of the Redis client. The figure names, the baseline, the
P x S work and the timing (first push until every push applied) did not change.

``OMS_BENCH_TRACKING_METHOD`` chooses how the end-to-end figures run, to compare: ``threads`` (the default:
`SENDERS` sender threads and the consumer thread in this process, warmed), ``cold-threads`` (the same without
the warming: the method until 2026-12-07) or ``processes`` (as deployed: `SENDERS` spawned sender processes like
gunicorn workers, each its own interpreter and connection, and one consumer process like the Celery worker, all
set up, connected and warmed before the clock; the pushes handed out in provider order through a shared
counter). The processes method is not the default: on the shared 2-core machine it measured 3-4 times slower
than warmed threads in paired runs (the consumer process got a small share of a CPU: a batch's pure-Python
parsing took ten times its CPU time in wall time), while the thread consumer kept pace with the senders, so
one GIL was not what bounded the figure. The processes method lives in bench/tracking_procs.py; both methods' consumer
runs the same loop (`drain`).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

QUICK = {"parcels": 20, "pushes": 5}
FULL = {"parcels": 100, "pushes": 6}
BATCH = 100  # stored pushes applied together by the worker (logistics.intake.BATCH_SIZE)
KDNIAO_PARCELS_PER_PUSH = 10  # parcels in one Kdniao push request (Count, Data[])
SENDERS = 4  # connections a provider posts over at once
SCANS = [  # (AfterShip tag, Kdniao action, message)
    ("InfoReceived", "10", "Shipment information received"),
    ("InTransit", "1", "Picked up by courier"),
    ("InTransit", "204", "Arrived at transit centre"),
    ("InTransit", "2", "Departed transit centre"),
    ("OutForDelivery", "202", "Out for delivery"),
    ("Delivered", "301", "Delivered, signed by recipient"),
]


def _world(run_id: str, parcels: int) -> list:
    from fulfillment import services as fs
    from inventory.models import Location, Product
    from inventory.services import stock_receive
    from logistics import services as ls
    from logistics.models import Carrier, ServiceLevel
    from orders import services as os_
    from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
    from orders.models import Channel

    location = Location.objects.create(
        code=f"tb{run_id}",
        name=f"Bench DC {run_id}",
        city="Shanghai",
        province="Shanghai",
        latitude=31.23,
        longitude=121.47,
    )
    product = Product.objects.create(sku=f"TB-{run_id}", name="Bench product", weight_g=300)
    stock_receive(location=location, product=product, quantity=parcels * 2, reason="bench")
    carrier, _ = Carrier.objects.get_or_create(code="local", defaults={"name": "Local Express", "adapter": "local"})
    if not ServiceLevel.objects.filter(active=True).exists():
        ServiceLevel.objects.create(carrier=carrier, code=f"tb{run_id}", name="Standard", transit_days=3)
    channel = Channel.objects.create(slug=f"tb-{run_id}", name=f"Bench {run_id}")
    result = []
    for n in range(parcels):
        data = CanonicalOrder(
            external_id=f"TB-{run_id}-{n}",
            ship_to=CanonicalAddress(
                name="Bench Buyer",
                phone="13800138000",
                email=f"b{n}@example.com",
                country="CN",
                province="Beijing",
                city="Beijing",
                district="Chaoyang",
                address1="1 Bench Rd",
                postcode="100020",
            ),
            lines=[CanonicalLine(sku=product.sku, quantity=1)],
            customer_email=f"b{n}@example.com",
        )
        order = os_.order_create(channel=channel, data=data, source="bench").order
        fs.order_route(order_id=order.pk)
        shipment = order.shipments.get()
        fs.shipment_pack(shipment=shipment, weight_g=400)
        result.append(ls.shipment_dispatch(shipment=shipment))
    return result


def _aftership_body(tracking_number: str, upto: int, t0: datetime) -> bytes:
    checkpoints = [
        {
            "checkpoint_time": (t0 + timedelta(hours=6 * i)).isoformat(),
            "tag": tag,
            "subtag": f"{tag}_001",
            "message": msg,
            "location": "Beijing, CHN",
            "city": "Beijing",
            "country_iso3": "CHN",
            "slug": "sf-express",
        }
        for i, (tag, _a, msg) in enumerate(SCANS[: upto + 1])
    ]
    msg = {
        "id": secrets.token_hex(8),
        "tracking_number": tracking_number,
        "slug": "sf-express",
        "tag": SCANS[upto][0],
        "checkpoints": checkpoints,
    }
    return json.dumps(
        {"event": "tracking_update", "event_id": secrets.token_hex(8), "ts": int(t0.timestamp()), "msg": msg}
    ).encode()


def _kdniao_body(tracking_numbers: list[str], upto: int, t0: datetime, app_key: str) -> bytes:
    """One Kdniao push carrying the whole history so far of each of ``tracking_numbers``."""
    from logistics.providers.kdniao import BEIJING, build_push_body

    traces = [
        {
            "AcceptTime": (t0 + timedelta(hours=6 * i)).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "AcceptStation": msg,
            "Location": "北京市",
            "Action": action,
        }
        for i, (_t, action, msg) in enumerate(SCANS[: upto + 1])
    ]
    data = {
        "EBusinessID": "1237100",
        "PushTime": "2026-11-23 10:00:00",
        "Count": str(len(tracking_numbers)),
        "Data": [
            {
                "EBusinessID": "1237100",
                "ShipperCode": "YTO",
                "LogisticCode": tracking_number,
                "Success": True,
                "State": "2",
                "StateEx": SCANS[upto][1],
                "Traces": traces,
            }
            for tracking_number in tracking_numbers
        ],
    }
    return build_push_body(json.dumps(data, ensure_ascii=False), app_key)


def push_bodies(provider: str, parcels: list, pushes: int, secret: str) -> list[tuple[bytes, dict]]:
    from logistics.providers.aftership import compute_signature

    t0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    bodies = []
    for upto in range(pushes):
        if provider == "aftership":  # one tracking per webhook
            for parcel in parcels:
                body = _aftership_body(parcel.tracking_number, upto, t0)
                headers = {"Aftership-Hmac-Sha256": compute_signature(body, secret), "Content-Type": "application/json"}
                bodies.append((body, headers))
        else:  # many parcels per push request
            headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
            for start in range(0, len(parcels), KDNIAO_PARCELS_PER_PUSH):
                numbers = [p.tracking_number for p in parcels[start : start + KDNIAO_PARCELS_PER_PUSH]]
                bodies.append((_kdniao_body(numbers, upto, t0, secret), headers))
    return bodies


class StatementCounter:
    """Counts the SQL statements Django sends (BEGIN/COMMIT are not among them), from any thread."""

    def __init__(self) -> None:
        import threading

        self.n = 0
        self._lock = threading.Lock()

    def __call__(self, execute, sql, params, many, context):
        with self._lock:
            self.n += 1
        return execute(sql, params, many, context)


METHODS = ("threads", "cold-threads", "processes")


def _method() -> str:
    """How the end-to-end figures run (``OMS_BENCH_TRACKING_METHOD``, see the module docstring)."""
    method = os.environ.get("OMS_BENCH_TRACKING_METHOD", "") or "threads"
    if method not in METHODS:
        raise ValueError(f"OMS_BENCH_TRACKING_METHOD must be one of {', '.join(METHODS)}, not {method!r}")
    return method


DESCRIBED = {
    "threads": "sender and consumer threads of one process, warmed",
    "cold-threads": "sender and consumer threads of one process, not warmed: the method until 2026-12-07",
    "processes": "sender and consumer processes, as deployed",
}


def warm(provider: str) -> None:
    """What a worker process that has served before holds: the provider's secret read and the cache client it is
    checked with loaded, the Celery app finalized."""
    from celery import current_app

    from logistics.intake import provider_secret

    provider_secret(provider)
    current_app.tasks  # noqa: B018


def _end_to_end(provider: str, parcels: list, pushes: int, secret: str) -> tuple[float, int, int, float, int]:
    """The end-to-end run, by `_method`. Returns (seconds, recorded, scans parsed, SQL statements per push of both
    sides, push requests)."""
    method = _method()
    if method == "processes":
        from bench.tracking_procs import end_to_end_processes

        return end_to_end_processes(provider, parcels, pushes, secret)
    if method == "threads":
        warm(provider)
    return _end_to_end_threads(provider, parcels, pushes, secret)


def drain(senders_done, window: float, totals: dict) -> None:
    """The consumer's loop, as the worker task runs it (one for the thread and the process methods): apply whatever
    is pending (`tracking_pushes_apply_pending`, the batch growing as the task grows it) and, when nothing is, wait
    one nudge window; done once the senders are (``senders_done``, an Event) and nothing is left. Adds the
    messages, scans parsed and events recorded to ``totals``."""
    from logistics.intake import BATCH_SIZE, next_batch_size, tracking_pushes_apply_pending

    size = BATCH_SIZE
    while True:
        finished = senders_done.is_set()  # read before the claim: a push stored after it is seen next round
        messages = tracking_pushes_apply_pending(limit=size)
        size = next_batch_size(size, len(messages))  # as the worker task does
        for message in messages:
            totals["recorded"] += message.result.get("recorded", 0)
            totals["scans"] += message.result.get("events", 0)
        totals["messages"] += len(messages)
        if not messages:
            if finished:
                return
            time.sleep(window)


def _end_to_end_threads(provider: str, parcels: list, pushes: int, secret: str) -> tuple[float, int, int, float, int]:
    """Pushes accepted as the webhook view does (signature checked in memory, one INSERT and commit each) by
    `SENDERS` threads at once, each with its own connection, taking the pushes in provider order; the batch
    consumer runs beside them in a thread of its own (its own connection), as a worker woken by the webhook's
    nudge does: it applies whatever is pending (`tracking_pushes_apply_pending`) and, when nothing is, waits one
    nudge window. Timed from the first push accepted until every push is applied.
    Returns (seconds, recorded, scans parsed, SQL statements per push of both sides, push requests)."""
    import threading

    from django.conf import settings
    from django.db import connection

    from logistics.intake import tracking_push_accept

    bodies = push_bodies(provider, parcels, pushes, secret)
    window = min(0.05, settings.OMS_TRACKING_NUDGE_SECONDS)
    counter = StatementCounter()
    done = threading.Event()
    totals = {"recorded": 0, "scans": 0, "messages": 0}
    queue = iter(bodies)
    take = threading.Lock()
    refused: list[int] = []

    def consumer() -> None:
        try:
            with connection.execute_wrapper(counter):
                drain(done, window, totals)
        finally:
            connection.close()

    def sender() -> None:
        try:
            with connection.execute_wrapper(counter):
                while True:
                    with take:
                        item = next(queue, None)
                    if item is None:
                        return
                    message_id, accepted = tracking_push_accept(provider=provider, body=item[0], headers=item[1])
                    if not accepted:
                        refused.append(message_id)
        finally:
            connection.close()

    worker = threading.Thread(target=consumer, name="tracking-consumer")
    senders = [threading.Thread(target=sender, name=f"tracking-sender-{i}") for i in range(SENDERS)]
    start = time.perf_counter()
    worker.start()
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()
    done.set()
    worker.join()
    seconds = time.perf_counter() - start
    assert not refused, refused
    assert totals["messages"] == len(bodies), totals
    return seconds, totals["recorded"], totals["scans"], counter.n / max(1, len(bodies)), len(bodies)


def _batched(provider: str, parcels: list, pushes: int, secret: str, batch: int) -> tuple[float, int, int, float]:
    """Every push received as it arrives (stored and checked one by one, as the webhook view does); the worker
    applies the stored ones ``batch`` at a time (`tracking_pushes_process`, what the task does with a backlog)."""
    from django.db import connection

    from logistics.intake import tracking_push_accept, tracking_pushes_process

    bodies = push_bodies(provider, parcels, pushes, secret)
    recorded = scans = 0
    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        start = time.perf_counter()
        ids = []
        for body, headers in bodies:
            message_id, accepted = tracking_push_accept(provider=provider, body=body, headers=headers)
            assert accepted, message_id
            ids.append(message_id)
        for offset in range(0, len(ids), batch):
            for message in tracking_pushes_process(ids[offset : offset + batch]):
                recorded += message.result.get("recorded", 0)
                scans += message.result.get("events", 0)
        seconds = time.perf_counter() - start
    return seconds, recorded, scans, counter.n / max(1, len(bodies))


def _raw_insert(parcels: list, rows: int, run_id: str) -> float:
    from django.db import connection, transaction

    now = datetime.now(UTC)
    values = [
        (
            parcels[i % len(parcels)].pk,
            "in_transit",
            "Departed transit centre",
            "Beijing, CHN",
            now + timedelta(seconds=i),
            "raw",
            f"raw-{run_id}-{i}",
            "InTransit",
            True,
            json.dumps({"carrier_status": "InTransit"}),
            now,
        )
        for i in range(rows)
    ]
    sql = (
        "INSERT INTO logistics_trackingevent (parcel_id, status, description, location, occurred_at, source, "
        "dedupe_key, carrier_status, code_known, raw, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for offset in range(0, rows, 500):
            cursor.executemany(sql, values[offset : offset + 500])
    elapsed = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM logistics_trackingevent WHERE source = 'raw' AND dedupe_key LIKE %s", [f"raw-{run_id}-%"]
        )
    return elapsed


def run(report, quick: bool) -> None:
    from django.conf import settings
    from django.db import connection

    sizes = QUICK if quick else FULL
    run_id = secrets.token_hex(3)
    settings.AFTERSHIP_WEBHOOK_SECRET = "bench-aftership-secret"
    settings.KDNIAO_WEBHOOK_SECRET = "bench-kdniao-appkey"
    started = time.perf_counter()
    a_parcels = _world(run_id + "a", sizes["parcels"])
    k_parcels = _world(run_id + "k", sizes["parcels"])
    b_parcels = _world(run_id + "b", sizes["parcels"])
    report.note(
        f"{sizes['parcels']} parcels per provider x {sizes['pushes']} updates each (full history per update); "
        f"AfterShip one parcel per push, Kdniao {KDNIAO_PARCELS_PER_PUSH} parcels per push; {SENDERS} senders at once "
        f"(end to end: {DESCRIBED[_method()]}); world built in {time.perf_counter() - started:.1f} s; "
        f"database {connection.vendor}; run id {run_id}"
    )
    for provider, parcels, secret in (
        ("aftership", a_parcels, settings.AFTERSHIP_WEBHOOK_SECRET),
        ("kdniao", k_parcels, settings.KDNIAO_WEBHOOK_SECRET),
    ):
        seconds, recorded, scans, per_push, pushes = _end_to_end(provider, parcels, sizes["pushes"], secret)
        raw_seconds = _raw_insert(parcels, recorded, run_id + provider[0])
        updates = len(parcels) * sizes["pushes"]
        _figure(
            report,
            f"{provider}: tracking events recorded end to end",
            seconds,
            raw_seconds,
            recorded,
            scans,
            pushes,
            per_push,
            updates,
        )
        report.note(
            f"{provider}: {pushes} pushes carrying {updates} parcel updates in {seconds:.2f} s "
            f"({pushes / seconds:.0f} pushes/s, {updates / seconds:.0f} updates/s), {scans} scans parsed, "
            f"{recorded} new, {scans - recorded} duplicates skipped; "
            f"{per_push:.1f} SQL statements per push (receive + apply, transaction statements not counted)"
        )
    batch = BATCH
    seconds, recorded, scans, per_push = _batched(
        "aftership", b_parcels, sizes["pushes"], settings.AFTERSHIP_WEBHOOK_SECRET, batch
    )
    raw_seconds = _raw_insert(b_parcels, recorded, run_id + "b")
    pushes = len(b_parcels) * sizes["pushes"]
    name = f"aftership, applied {batch} stored pushes at a time: tracking events recorded"
    _figure(report, name, seconds, raw_seconds, recorded, scans, pushes, per_push, pushes)
    report.note(
        f"aftership batched: {pushes} pushes received one by one, applied {batch} at a time, in {seconds:.2f} s "
        f"({pushes / seconds:.0f} pushes/s), {recorded} new; {per_push:.1f} SQL statements per push"
    )


def _figure(report, name, seconds, raw_seconds, recorded, scans, pushes, per_push, updates) -> None:
    """Events recorded per second beside the raw batched INSERT of the same rows."""
    report.figure(
        name,
        recorded / seconds,
        "/s",
        baseline=("raw batched INSERT of the same rows", recorded / raw_seconds),
        recorded=recorded,
        scans_parsed=scans,
        pushes=pushes,
        parcel_updates=updates,
        pushes_per_s=round(pushes / seconds, 1),
        queries_per_push=round(per_push, 1),
    )


if __name__ == "__main__":
    import argparse

    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    django.setup()
    from bench.common import Report
    from oms.celery import ensure_queue_dirs

    ensure_queue_dirs()  # the embedded queue when no broker is configured

    rep = Report(quick=args.quick)
    rep.section("tracking")
    run(rep, args.quick)
