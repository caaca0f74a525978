"""Accepting tracking pushes alone, no consumer: what the webhook's answer costs per push.

    DATABASE_URL=postgres://... python bench/tracking_accept.py [--pushes-per-parcel 6] [--rounds 3]

Not a figure of ``make bench`` (bench/run.py runs only ``*_bench.py``): a helper to judge a change to the accepting
side (`logistics.intake.tracking_push_accept`) by CPU and statements rather than wall-clock on a shared machine.
It accepts the tracking bench's AfterShip bodies (`bench.tracking_bench.push_bodies`, 100 parcels x 6 updates =
600 pushes) from 1 and from `SENDERS` threads, each thread with its own connection, and prints per push:

- ``cpu``: this process's CPU (user + system, ``resource.getrusage``): Python, psycopg and the socket calls;
- ``backend``: the CPU of the PostgreSQL backends that served the senders (read from ``/proc``, so only for a
  server on this machine; the WAL flush's system time is part of it);
- ``sql``: statements sent through Django's cursor (an execute wrapper), and ``wall``.

Beside them, in the same run, the floor: the same row inserted by a bare psycopg connection (autocommit,
server-side binding, prepared), one thread. Both commit each push durably (the server's ``synchronous_commit``
is left as configured). Every row written is deleted at the end. It writes to the database: use a throwaway one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

SECRET = "bench-aftership-secret"  # noqa: S105 (the bench's own)
SOURCE = "webhook:aftership"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu(pids: list[int]) -> float | None:
    """User + system CPU seconds of these server processes, or None when they are not readable here."""
    total = 0.0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def accept_alone(bodies: list[tuple[bytes, dict]], senders: int) -> dict:
    """Accept ``bodies`` through `tracking_push_accept` from ``senders`` threads (own connections, warmed and
    connected before the clock). Returns per-push microseconds of CPU here and in the backends, statements and
    wall time."""
    from django.db import connection

    from bench.tracking_bench import StatementCounter, warm
    from logistics.intake import tracking_push_accept

    counter = StatementCounter()
    queue = iter(bodies)
    take = threading.Lock()
    ready = threading.Barrier(senders + 1)
    finished = threading.Barrier(senders + 1)
    pids: list[int] = []
    refused: list[int] = []

    def sender() -> None:
        try:
            warm("aftership")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
            ready.wait()
            with connection.execute_wrapper(counter):
                while True:
                    with take:
                        item = next(queue, None)
                    if item is None:
                        break
                    message_id, accepted = tracking_push_accept(provider="aftership", body=item[0], headers=item[1])
                    if not accepted:
                        refused.append(message_id)
            finished.wait()  # the backend's CPU is read before the connection closes
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    ready.wait()
    cpu, backend, wall = _cpu(), _backend_cpu(pids), time.perf_counter()
    finished.wait()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    backend_after = _backend_cpu(pids)
    for thread in threads:
        thread.join()
    assert not refused, refused
    n = len(bodies)
    return {
        "cpu": 1e6 * cpu / n,
        "backend": None if backend is None or backend_after is None else 1e6 * (backend_after - backend) / n,
        "sql": counter.n / n,
        "wall": 1e6 * wall / n,
    }


def bare_psycopg(bodies: list[tuple[bytes, dict]]) -> dict:
    """The floor: the same rows by a bare psycopg connection, one prepared INSERT in autocommit each."""
    import psycopg
    from django.db import connection
    from django.utils import timezone

    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"],
        port=settings["PORT"] or None,
        autocommit=True,
    )
    sql = (
        "INSERT INTO orders_inboundmessage (source, headers, body, raw, filename, received_at, status, error, "
        "result, attempts) VALUES (%s, %s::jsonb, %s, %s, '', %s, 'received', '', '{}'::jsonb, 0) RETURNING id"
    )
    try:
        cursor = psycopg.Cursor(conn)
        cursor.execute(sql, [SOURCE, "{}", "", b"", timezone.now()], prepare=True)  # prepared before the clock
        cpu, backend, wall = _cpu(), _backend_cpu([conn.info.backend_pid]), time.perf_counter()
        for body, headers in bodies:
            cursor.execute(
                sql, [SOURCE, json.dumps(headers), body.decode("utf-8", "replace"), body, timezone.now()], prepare=True
            )
            cursor.fetchone()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        backend_after = _backend_cpu([conn.info.backend_pid])
    finally:
        conn.close()
    n = len(bodies)
    return {
        "cpu": 1e6 * cpu / n,
        "backend": None if backend is None or backend_after is None else 1e6 * (backend_after - backend) / n,
        "sql": 1.0,
        "wall": 1e6 * wall / n,
    }


def _line(name: str, result: dict) -> str:
    backend = "n/a" if result["backend"] is None else f"{result['backend']:.0f}"
    return (
        f"{name:<28} cpu {result['cpu']:5.0f} us/push   backend {backend:>4} us/push   "
        f"sql {result['sql']:.2f}/push   wall {result['wall']:6.0f} us/push"
    )


def main() -> None:
    import django

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100)
    parser.add_argument("--pushes-per-parcel", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    django.setup()
    from django.conf import settings
    from django.db import connection

    from bench.tracking_bench import SENDERS, push_bodies
    from orders.models import InboundMessage

    settings.AFTERSHIP_WEBHOOK_SECRET = SECRET
    parcels = [SimpleNamespace(tracking_number=f"TA{n:010d}") for n in range(args.parcels)]
    bodies = push_bodies("aftership", parcels, args.pushes_per_parcel, SECRET)
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        durability = cursor.fetchone()[0]
    first = InboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(f"{len(bodies)} AfterShip pushes, synchronous_commit={durability}, load {os.getloadavg()[0]:.1f}")
    try:
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}")
            print(_line("  accept, 1 sender", accept_alone(bodies, 1)))
            print(_line(f"  accept, {SENDERS} senders", accept_alone(bodies, SENDERS)))
            print(_line("  bare psycopg, 1 sender", bare_psycopg(bodies)))
    finally:
        InboundMessage.objects.filter(pk__gt=first, source=SOURCE).delete()


if __name__ == "__main__":
    main()
