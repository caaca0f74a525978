"""The outbox consumer's rounds (issue 16, "Bench"; issue 14, "Outbox"): a round costs the same few statements
for one row as for many, gathers rows that trickle in, and keeps the door's rules when it records outcomes
set-based."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms import outbox, tasks
from oms.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def handlers():
    """Handlers of test kinds, removed afterwards; ``calls`` holds the keys of each batch a handler got."""
    registered, calls = [], []

    def register(kind, handler, **kwargs):
        def recording(rows):
            calls.append([r.key for r in rows])
            return handler(rows)

        outbox.register_outbox_handler(kind, recording, **kwargs)
        registered.append(kind)

    yield register, calls
    for kind in registered:
        outbox._handlers.pop(kind, None)


def put(kind, key, destination="test:a"):
    with transaction.atomic():
        outbox.outbox_put(kind=kind, destination=destination, key=key, payload={"key": key})
    return OutboxMessage.objects.get(kind=kind, key=key)


def rows(kind):
    return list(OutboxMessage.objects.filter(kind=kind).order_by("pk").values_list("key", "status", "attempts"))


def all_sent(rows_in):
    return {r.pk: outbox.sent() for r in rows_in}


# ---- gathering rows that trickle in ------------------------------------------------------------------------


def test_after_a_round_of_a_few_rows_the_consumer_waits_and_sends_what_arrived_meanwhile_together(handlers):
    register, calls = handlers
    register("test.trickle", all_sent)
    put("test.trickle", "r1")
    put("test.trickle", "r2")
    waits = []

    def wait(seconds):  # while the consumer waits, two more rows are written (shipments shipped meanwhile)
        waits.append(seconds)
        if len(waits) == 1:
            put("test.trickle", "r3")
            put("test.trickle", "r4")

    assert outbox.outbox_dispatch_all(limit=100, gather=0.04, wait=wait) == {"sent": 4}
    assert calls == [["r1", "r2"], ["r3", "r4"]]
    assert waits == [0.04, 0.04]  # after each small round; the round after the second found nothing: it stopped
    assert [s for _k, s, _a in rows("test.trickle")] == ["sent"] * 4


def test_a_round_of_one_row_does_not_wait(handlers):
    register, calls = handlers
    register("test.single", all_sent)
    put("test.single", "k1")
    waits = []
    assert outbox.outbox_dispatch_all(limit=100, gather=0.04, wait=waits.append) == {"sent": 1}
    assert (calls, waits) == ([["k1"]], [])  # rows arrive slower than a round: no wait, no empty round


def test_a_full_round_goes_on_at_once_and_a_round_of_enough_rows_does_not_wait(handlers, settings):
    settings.OMS_OUTBOX_GATHER_BELOW = 3
    register, calls = handlers
    register("test.full", all_sent)
    for i in range(6):
        put("test.full", f"k{i}")
    waits = []
    assert outbox.outbox_dispatch_all(limit=4, gather=0.04, wait=waits.append) == {"sent": 6}
    assert calls == [["k0", "k1", "k2", "k3"], ["k4", "k5"]]
    assert waits == [0.04]  # only after the last round (2 rows, fewer than 3)

    calls.clear()
    for i in range(3):
        put("test.full", f"m{i}")
    assert outbox.outbox_dispatch_all(limit=10, gather=0.04, wait=waits.append) == {"sent": 3}
    assert calls == [["m0", "m1", "m2"]]
    assert waits == [0.04]  # 3 rows is not a trickle: drained, no wait, no second round


def test_without_gathering_the_consumer_stops_when_the_due_rows_are_drained(handlers, settings):
    settings.OMS_OUTBOX_GATHER_MS = 0
    register, calls = handlers
    register("test.nogather", all_sent)
    put("test.nogather", "k1")
    put("test.nogather", "k2")
    waits = []
    assert outbox.outbox_dispatch_all(limit=100, wait=waits.append) == {"sent": 2}
    assert (calls, waits) == ([["k1", "k2"]], [])
    assert outbox.gather_seconds() == 0


def test_the_setting_is_the_default_wait(handlers, settings):
    settings.OMS_OUTBOX_GATHER_MS = 30
    register, _calls = handlers
    register("test.setting", all_sent)
    put("test.setting", "k1")
    put("test.setting", "k2")
    waits = []
    assert outbox.outbox_dispatch_all(wait=waits.append) == {"sent": 2}
    assert waits == [0.03]


def test_the_task_run_eagerly_inside_a_commit_does_not_wait(monkeypatch):
    seen = []
    monkeypatch.setattr(tasks, "outbox_dispatch_all", lambda **kwargs: seen.append(kwargs) or {})
    tasks.outbox_dispatch.apply()
    assert seen == [{"gather": 0}]


# ---- recording outcomes set-based keeps the door's rules -------------------------------------------------


def test_outcomes_of_one_round_are_recorded_each_by_its_rule(handlers, settings):
    settings.OMS_OUTBOX_MAX_ATTEMPTS = 5
    register, _calls = handlers
    answers = {
        "ok": outbox.sent(),
        "none": outbox.skipped("opted out"),
        "bad": outbox.dead("422: no such order"),
        "later": outbox.retry("429", after_seconds=30),
        "flaky": outbox.retry("503"),
    }
    register("test.mixed", lambda rows_in: {r.pk: answers[r.key] for r in rows_in})
    for key in answers:
        put("test.mixed", key)
    t0 = timezone.now()
    assert outbox.outbox_dispatch(now=t0) == {"sent": 1, "skipped": 1, "dead": 1, "retry": 2}
    got = {
        r.key: (r.status, r.attempts, r.last_error, r.sent_at, r.next_attempt_at)
        for r in OutboxMessage.objects.filter(kind="test.mixed")
    }
    assert got["ok"] == ("sent", 1, "", t0, t0 + outbox.lease())
    assert got["none"] == ("skipped", 1, "opted out", t0, t0 + outbox.lease())
    assert got["bad"] == ("dead", 1, "422: no such order", None, t0)
    assert got["later"] == ("pending", 1, "429", None, t0 + timedelta(seconds=30))
    assert got["flaky"] == ("pending", 1, "503", None, t0 + timedelta(minutes=1))


def test_a_row_dismissed_while_it_was_being_sent_stays_dismissed_unless_it_went_out(handlers):
    register, _calls = handlers

    def handler(rows_in):
        outbox.outbox_dismiss(ids=[r.pk for r in rows_in])  # a person dismisses them meanwhile
        return {r.pk: outbox.sent() if r.key == "went" else outbox.dead("refused") for r in rows_in}

    register("test.dismissed", handler)
    put("test.dismissed", "went")
    put("test.dismissed", "failed")
    assert outbox.outbox_dispatch() == {"sent": 1, "dead": 1}
    assert rows("test.dismissed") == [("went", "sent", 1), ("failed", "dismissed", 1)]


def test_rows_over_a_rate_limit_are_given_back_with_their_try_uncounted(handlers):
    register, calls = handlers
    register("test.rate", all_sent, rate_per_minute=1)
    put("test.rate", "k0", destination="channel:tmall")
    put("test.rate", "k1", destination="channel:tmall")
    t0 = timezone.now()
    assert outbox.outbox_dispatch(now=t0) == {"sent": 1}
    assert rows("test.rate") == [("k0", "sent", 1), ("k1", "pending", 0)]
    assert OutboxMessage.objects.get(key="k1").next_attempt_at == t0 + timedelta(minutes=1)
    assert outbox.outbox_dispatch_all(limit=100, gather=0) == {}  # not due yet, and not taken
    assert calls == [["k0"]]


# ---- PostgreSQL: a round is two statements, for one row and for many -------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("count", [1, 50])
def test_a_round_is_one_lease_and_one_record_statement_whatever_its_size(handlers, count):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based statements are PostgreSQL's")
    register, _calls = handlers
    register("test.cheap", all_sent)
    for i in range(count):
        put("test.cheap", f"k{i}")
    with CaptureQueriesContext(connection) as queries:
        assert outbox.outbox_dispatch() == {"sent": count}
    statements = [q["sql"].split()[0:2] for q in queries.captured_queries]
    assert statements == [["WITH", "due"], ["UPDATE", "oms_outboxmessage"]]
    assert set(rows("test.cheap")) == {(f"k{i}", "sent", 1) for i in range(count)}


@pytest.mark.postgres
def test_the_lease_takes_the_oldest_due_rows_in_order_and_skips_leased_ones(handlers):
    if connection.vendor != "postgresql":
        pytest.skip("the set-based statements are PostgreSQL's")
    register, calls = handlers
    register("test.order", all_sent)
    made = [put("test.order", f"k{i}") for i in range(4)]
    t0 = timezone.now()
    OutboxMessage.objects.filter(pk=made[2].pk).update(next_attempt_at=t0 - timedelta(minutes=5))
    first = outbox._claim(2, t0)
    assert [r.key for r in first] == ["k2", "k0"]  # the longest due first
    assert [r.attempts for r in first] == [1, 1] and first[0].payload == {"key": "k2"}
    assert outbox.outbox_dispatch(now=t0) == {"sent": 2}  # the leased two are not taken again
    assert calls == [["k1", "k3"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rounds_lease_and_record_commit_without_waiting_for_the_disk_and_nothing_else_does(handlers):
    """The lease and the record turn ``synchronous_commit`` off for their own transaction only: the handler's
    writes between them, and the session after the round, keep the session's setting."""
    if connection.vendor != "postgresql":
        pytest.skip("the set-based statements are PostgreSQL's")
    register, _calls = handlers
    seen = []

    def reading(rows_in):
        with connection.cursor() as c:
            c.execute("SELECT current_setting('synchronous_commit')")
            seen.append(c.fetchone()[0])
        return all_sent(rows_in)

    register("test.durable", reading)
    now = timezone.now()  # written without a nudge (committed, the eager nudge would send them at once)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(kind="test.durable", destination="test:a", key=k, payload={}, created_at=now, next_attempt_at=now)
        for k in ("k1", "k2")
    )
    with connection.cursor() as c:
        c.execute("SET synchronous_commit = 'on'")  # the fast lane's server runs with it off
    try:
        with CaptureQueriesContext(connection) as queries:
            assert outbox.outbox_dispatch() == {"sent": 2}
        with connection.cursor() as c:
            c.execute("SHOW synchronous_commit")
            after = c.fetchone()[0]
    finally:
        with connection.cursor() as c:
            c.execute("RESET synchronous_commit")
    mine = [q["sql"] for q in queries.captured_queries if "oms_outboxmessage" in q["sql"]]
    assert len(mine) == 2
    assert all("set_config('synchronous_commit', 'off', true)" in sql for sql in mine)
    assert seen == ["on"] and after == "on"
    assert set(rows("test.durable")) == {("k1", "sent", 1), ("k2", "sent", 1)}
