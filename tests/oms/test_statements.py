"""oms/statements.py: the prepared, array-bound writers of the spine's hot paths, on PostgreSQL and SQLite alike
(PostgreSQL: one statement with one array per column; SQLite: Django's cursor)."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms import statements
from oms.models import OutboxMessage
from orders.models import InboundMessage

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _outbox(key: str, payload: dict) -> tuple:
    return ("email", "email:a@example.com", key, payload, "order:1", "pending", 0, T0, "", T0)


OUTBOX_FIELDS = (
    "kind",
    "destination",
    "key",
    "payload",
    "subject",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
)


def test_insert_one_stores_every_value_exactly_and_returns_the_key():
    raw = b'{"a": "\xe4\xb8\xad \\" quote"}'
    with CaptureQueriesContext(connection) as queries:
        pk = statements.insert_one(
            InboundMessage,
            {
                "source": "webhook:aftership",
                "headers": {"X-Sig": "abc", "nested": [1, "二"]},
                "body": raw.decode(),
                "raw": raw,
                "filename": "",
                "received_at": T0,
                "status": "received",
                "error": "",
                "result": {},
                "attempts": 0,
            },
        )

    assert len(queries.captured_queries) == 1
    assert queries.captured_queries[0]["sql"].startswith("INSERT")
    message = InboundMessage.objects.get(pk=pk)
    assert (message.source, message.status, message.received_at, message.attempts) == (
        "webhook:aftership",
        "received",
        T0,
        0,
    )
    assert message.headers == {"X-Sig": "abc", "nested": [1, "二"]}
    assert bytes(message.raw) == raw
    assert message.body == '{"a": "中 \\" quote"}'
    assert message.channel_id is None and message.processed_at is None


def test_insert_rows_skips_rows_that_clash_when_asked_and_counts_what_went_in():
    first = [_outbox("k1", {"quote": 'say "hi"', "list": [1, None]}), _outbox("k2", {})]
    assert statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, first) == 2

    again = [_outbox("k2", {"changed": True}), _outbox("k3", {"n": 3})]
    with CaptureQueriesContext(connection) as queries:
        inserted = statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, again, ignore_conflicts=True)

    assert inserted == 1
    assert len(queries.captured_queries) == 1
    rows = dict(OutboxMessage.objects.values_list("key", "payload"))
    assert rows == {"k1": {"quote": 'say "hi"', "list": [1, None]}, "k2": {}, "k3": {"n": 3}}


def test_insert_rows_of_nothing_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, []) == 0
    assert queries.captured_queries == []


def test_update_rows_sets_each_rows_own_values_and_leaves_the_others():
    statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [_outbox(f"k{i}", {"i": i}) for i in range(3)])
    one, two, three = OutboxMessage.objects.order_by("key")

    updated = statements.update_rows(
        OutboxMessage,
        ["status", "attempts", "payload", "sent_at"],
        [(one.pk, "sent", 1, {"done": "yes"}, T0), (two.pk, "dead", 5, {"why": 'a "bad" address'}, None)],
    )

    assert updated == 2
    rows = {m.key: (m.status, m.attempts, m.payload, m.sent_at) for m in OutboxMessage.objects.all()}
    assert rows == {
        "k0": ("sent", 1, {"done": "yes"}, T0),
        "k1": ("dead", 5, {"why": 'a "bad" address'}, None),
        "k2": ("pending", 0, {"i": 2}, None),
    }
    assert three.key == "k2"


def test_create_many_sets_the_keys_of_the_new_rows_in_order():
    objs = [
        OutboxMessage(kind="email", destination="d", key=f"c{i}", payload={"i": i}, next_attempt_at=T0, created_at=T0)
        for i in range(4)
    ]

    statements.create_many(OutboxMessage, objs)

    assert all(o.pk is not None for o in objs)
    assert [OutboxMessage.objects.get(pk=o.pk).payload for o in objs] == [{"i": i} for i in range(4)]


@pytest.mark.postgres
@pytest.mark.parametrize("writer", ["insert_rows", "update_rows", "update_from_values"])
def test_a_value_longer_than_its_column_is_refused_not_cut(writer):
    """An explicit cast to varchar(n) would cut the value silently: the writers cast without the length, so
    the column refuses a too-long value the way any other write does, and nothing is written."""
    from django.db import DataError, transaction

    from oms import bulk

    statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [_outbox("k0", {})])
    pk = OutboxMessage.objects.get().pk
    long_subject = "order:" + "9" * 70  # the column holds 64
    with pytest.raises(DataError), transaction.atomic():
        if writer == "insert_rows":
            row = list(_outbox("k1", {}))
            row[4] = long_subject
            statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [tuple(row)])
        elif writer == "update_rows":
            statements.update_rows(OutboxMessage, ["subject"], [(pk, long_subject)])
        else:
            bulk.update_from_values(OutboxMessage, ["subject"], [(pk, long_subject)])

    assert list(OutboxMessage.objects.values_list("key", "subject")) == [("k0", "order:1")]


def test_insert_rows_returning_gives_the_keys_in_the_order_of_the_rows_on_every_database():
    # More rows than SQLite takes parameters for in one statement: several statements, keys still in row order.
    rows = [_outbox(f"r{i:03d}", {"i": i, "text": f'"{i}"'}) for i in range(300)]
    before = OutboxMessage.objects.count()

    keys = statements.insert_rows_returning(OutboxMessage, OUTBOX_FIELDS, rows)

    assert len(keys) == 300 and len(set(keys)) == 300
    stored = dict(OutboxMessage.objects.filter(pk__in=keys).values_list("pk", "key"))
    assert [stored[k] for k in keys] == [f"r{i:03d}" for i in range(300)]
    assert OutboxMessage.objects.get(pk=keys[7]).payload == {"i": 7, "text": '"7"'}
    assert OutboxMessage.objects.count() == before + 300


def test_insert_rows_returning_of_nothing_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert statements.insert_rows_returning(OutboxMessage, OUTBOX_FIELDS, []) == []
    assert queries.captured_queries == []


def test_insert_rows_returning_a_row_that_clashes_raises_and_leaves_nothing_half_written():
    statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [_outbox("taken", {})])
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        statements.insert_rows_returning(OutboxMessage, OUTBOX_FIELDS, [_outbox("new", {}), _outbox("taken", {"x": 1})])

    assert dict(OutboxMessage.objects.values_list("key", "payload")) == {"taken": {}}


def test_async_commit_where_puts_each_condition_in_brackets_and_the_switch_last():
    switch = "set_config('synchronous_commit', 'off', true) IS NOT NULL"

    assert statements.async_commit_where() == f"WHERE {switch}"
    # An OR in a condition cannot skip the switch.
    assert statements.async_commit_where("o.id = v.id", "a = 1 OR b = 2") == (
        f"WHERE (o.id = v.id) AND (a = 1 OR b = 2) AND {switch}"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_with_async_commit_where_commits_asynchronously_and_the_session_keeps_its_setting():
    """Run as its own transaction (autocommit), the statement sees ``synchronous_commit`` off while it runs (its
    commit does not wait for the disk) and does its work; the next statement of the session has the setting
    back. In an explicit transaction the setting stays off until that transaction ends, and only until then."""
    from django.db import transaction

    statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [_outbox("k0", {}), _outbox("k1", {})])
    first, second = OutboxMessage.objects.order_by("key").values_list("pk", flat=True)
    table = OutboxMessage._meta.db_table
    with connection.cursor() as c:
        c.execute("SET synchronous_commit = 'on'")  # the fast lane's server runs with it off
    try:
        with connection.cursor() as c:
            c.execute(
                f"UPDATE {table} SET attempts = 7 {statements.async_commit_where('id = %s')} "  # noqa: S608
                "RETURNING current_setting('synchronous_commit')",
                [first],
            )
            during = c.fetchall()
            c.execute("SHOW synchronous_commit")
            after = c.fetchone()[0]
        with transaction.atomic(), connection.cursor() as c:
            c.execute(f"UPDATE {table} SET attempts = 8 {statements.async_commit_where('id = %s')}", [second])  # noqa: S608
            c.execute("SHOW synchronous_commit")
            in_transaction = c.fetchone()[0]
        with connection.cursor() as c:
            c.execute("SHOW synchronous_commit")
            after_transaction = c.fetchone()[0]
    finally:
        with connection.cursor() as c:
            c.execute("RESET synchronous_commit")

    assert during == [("off",)] and after == "on"
    assert in_transaction == "off" and after_transaction == "on"
    assert dict(OutboxMessage.objects.values_list("key", "attempts")) == {"k0": 7, "k1": 8}


@pytest.mark.parametrize(
    "counted",
    [
        lambda row: row.save(),  # an existing row: save() reads the UPDATE's count to choose UPDATE or INSERT
        lambda row: row.save(update_fields=["status"]),
        lambda row: OutboxMessage.objects.filter(pk=row.pk).update(status="sent"),
        lambda row: OutboxMessage.objects.filter(pk=row.pk).delete(),
    ],
    ids=["save", "save-update-fields", "queryset-update", "queryset-delete"],
)
def test_a_pipeline_refuses_what_reads_a_row_count_and_sends_nothing_of_it(counted):
    """Inside `pipeline()` a row count reads -1 (PostgreSQL): a save(), update() or delete() there is refused on every
    database, before the statement is sent; the block's own writer (`update_rows`) still goes."""
    statements.insert_rows(OutboxMessage, OUTBOX_FIELDS, [_outbox("k0", {"i": 0}), _outbox("k1", {"i": 1})])
    row, other = OutboxMessage.objects.order_by("key")
    row.status = "dead"
    with statements.pipeline():
        statements.update_rows(OutboxMessage, ["attempts"], [(other.pk, 3)])
    with pytest.raises(statements.PipelineMisuse, match="statements.pipeline"):
        with transaction.atomic(), statements.pipeline():
            statements.update_rows(OutboxMessage, ["attempts"], [(other.pk, 4)])
            with statements.pipeline():  # nested blocks guard too
                counted(row)
    stored = list(OutboxMessage.objects.order_by("key").values_list("status", "attempts"))
    assert stored == [("pending", 0), ("pending", 3)]
    row.save()  # after the block, as usual
    assert OutboxMessage.objects.get(pk=row.pk).status == "dead"


def _inbound(n: int) -> list[int]:
    return [
        statements.insert_one(
            InboundMessage,
            {
                "source": f"webhook:t{i}",
                "headers": {},
                "body": f"b{i}",
                "raw": b"",
                "filename": "",
                "received_at": T0,
                "status": "received",
                "error": "",
                "result": {"n": i},
                "attempts": i,
            },
        )
        for i in range(n)
    ]


def test_fetch_together_gives_what_each_queryset_gives_alone_models_values_and_tuples():
    from django.db import transaction

    pks = _inbound(3)
    models_qs = InboundMessage.objects.filter(pk__in=pks).order_by("-pk").only("source", "attempts")
    values_qs = InboundMessage.objects.filter(pk__in=pks[:2]).order_by("pk").values_list("pk", "result", "received_at")
    dicts_qs = InboundMessage.objects.filter(pk=pks[2]).values("source")
    with transaction.atomic():
        locked = InboundMessage.objects.select_for_update().filter(pk__in=pks).order_by("pk")
        got_models, got_values, got_dicts, got_locked = statements.fetch_together(
            models_qs, values_qs, dicts_qs, locked
        )
    assert models_qs._result_cache is None  # the querysets given are left as they were (clones were evaluated)
    assert [(m.pk, m.source, m.attempts) for m in got_models] == [(m.pk, m.source, m.attempts) for m in models_qs]
    assert [m.pk for m in got_models] == pks[::-1]
    assert got_values == list(values_qs) == [(pks[0], {"n": 0}, T0), (pks[1], {"n": 1}, T0)]
    assert got_dicts == [{"source": "webhook:t2"}]
    assert [m.pk for m in got_locked] == pks and got_locked[0].result == {"n": 0}


@pytest.mark.postgres
def test_fetch_together_sends_one_statement_on_postgresql():
    pks = _inbound(2)
    first = InboundMessage.objects.filter(pk=pks[0]).values_list("source", flat=True)
    second = InboundMessage.objects.filter(pk=pks[1]).values_list("source", flat=True)
    with CaptureQueriesContext(connection) as queries:
        got = statements.fetch_together(first, second)
    assert got == [["webhook:t0"], ["webhook:t1"]]
    assert len(queries) == 1
