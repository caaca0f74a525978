"""The tracking bench's end-to-end run in processes (``OMS_BENCH_TRACKING_METHOD=processes``, see
bench/tracking_bench.py): `SENDERS` spawned sender processes accept pushes as gunicorn workers would and one
consumer process applies them as the Celery worker would, each its own interpreter and connection, all set up,
connected and warmed before the clock. The consumer runs the same loop as the thread method (`drain`)."""

from __future__ import annotations

import os
import time

from bench.tracking_bench import SENDERS, StatementCounter, drain, push_bodies, warm

SECRET_SETTINGS = ("AFTERSHIP_WEBHOOK_SECRET", "KDNIAO_WEBHOOK_SECRET")
READY_TIMEOUT = 300  # seconds for a process to start and set Django up on a loaded machine


def _process_setup(secrets_: dict) -> None:
    """A spawned process: Django set up as the bench's own process has it (the same environment, the secrets the
    bench set at run time)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    from django.conf import settings

    for name, value in secrets_.items():
        setattr(settings, name, value)


def _sender_process(provider, bodies, next_index, secrets_, start, results) -> None:
    """A gunicorn worker's part: accept pushes as the webhook view does (`tracking_push_accept`: signature in memory,
    one INSERT, its own durable commit) until none is left; the pushes are taken in provider order."""
    import traceback

    try:
        _process_setup(secrets_)
        from django.db import connection

        from logistics.intake import tracking_push_accept

        connection.ensure_connection()
        warm(provider)
        counter = StatementCounter()
        refused: list[int] = []
        results.put(("ready", os.getpid()))
        start.wait()
        with connection.execute_wrapper(counter):
            while True:
                with next_index.get_lock():
                    index = next_index.value
                    next_index.value = index + 1
                if index >= len(bodies):
                    break
                body, headers = bodies[index]
                message_id, accepted = tracking_push_accept(provider=provider, body=body, headers=headers)
                if not accepted:
                    refused.append(message_id)
        connection.close()
        results.put(("sender", refused, counter.n))
    except BaseException:  # noqa: BLE001 (told to the bench, which stops)
        results.put(("error", traceback.format_exc()))


def _consumer_process(secrets_, start, senders_done, results) -> None:
    """The Celery worker's part: apply whatever is pending (`tracking_pushes_apply_pending`, growing the batch as
    the task does) and, when nothing is, wait one nudge window; done once the senders are and nothing is left."""
    import traceback

    try:
        _process_setup(secrets_)
        from celery import current_app
        from django.conf import settings
        from django.core.cache import cache
        from django.db import connection

        from logistics.intake import tracking_pushes_apply_pending

        window = min(0.05, settings.OMS_TRACKING_NUDGE_SECONDS)
        connection.ensure_connection()
        current_app.tasks  # noqa: B018 (a worker's app is finalized at boot)
        cache.get("bench:tracking:warm")  # ... and its Redis client loaded (the broker's, in a deployment)
        assert tracking_pushes_apply_pending(limit=1) == []  # a worker's first round (nothing is pending yet)
        counter = StatementCounter()
        totals = {"recorded": 0, "scans": 0, "messages": 0}
        results.put(("ready", os.getpid()))
        start.wait()
        with connection.execute_wrapper(counter):
            drain(senders_done, window, totals)
        ended = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process of the machine
        connection.close()
        results.put(("consumer", ended, totals, counter.n))
    except BaseException:  # noqa: BLE001
        results.put(("error", traceback.format_exc()))


def end_to_end_processes(provider: str, parcels: list, pushes: int, secret: str) -> tuple[float, int, int, float, int]:
    """`SENDERS` sender processes and one consumer process (spawned: each its own interpreter and connection), all
    ready before the clock starts; timed from the start signal (the first push) until the consumer has applied
    every push."""
    import multiprocessing
    import queue as queue_module

    from django.conf import settings

    bodies = push_bodies(provider, parcels, pushes, secret)
    secrets_ = {name: getattr(settings, name, "") for name in SECRET_SETTINGS}
    context = multiprocessing.get_context("spawn")
    start, senders_done = context.Event(), context.Event()
    next_index = context.Value("l", 0)
    results = context.Queue()
    consumer = context.Process(
        target=_consumer_process, args=(secrets_, start, senders_done, results), name="tracking-consumer"
    )
    senders = [
        context.Process(
            target=_sender_process,
            args=(provider, bodies, next_index, secrets_, start, results),
            name=f"tracking-sender-{i}",
        )
        for i in range(SENDERS)
    ]
    processes = [consumer, *senders]

    def take(kind: str):
        while True:
            try:
                item = results.get(timeout=READY_TIMEOUT)
            except queue_module.Empty:
                raise RuntimeError(f"no {kind} from the tracking bench's processes in {READY_TIMEOUT} s") from None
            if item[0] == "error":
                raise RuntimeError(f"a tracking bench process failed:\n{item[1]}")
            if item[0] == kind:
                return item
            raise RuntimeError(f"expected {kind}, got {item[0]}")

    try:
        for process in processes:
            process.start()
        for _process in processes:
            take("ready")
        began = time.monotonic()
        start.set()
        refused: list[int] = []
        statements = 0
        for _sender in senders:
            _kind, sender_refused, sender_statements = take("sender")
            refused += sender_refused
            statements += sender_statements
        senders_done.set()
        _kind, ended, totals, consumer_statements = take("consumer")
        statements += consumer_statements
    finally:
        for process in processes:
            if process.pid is None:  # never started
                continue
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
    seconds = ended - began
    assert not refused, refused
    assert totals["messages"] == len(bodies), totals
    return seconds, totals["recorded"], totals["scans"], statements / max(1, len(bodies)), len(bodies)
