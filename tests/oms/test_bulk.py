"""oms/bulk.py: many rows' fields saved in one statement (UPDATE ... FROM VALUES on PostgreSQL, bulk_update
elsewhere), each value exactly as the ORM would save it; rows not named are left alone."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.bulk import rows_update
from orders.models import InboundMessage

pytestmark = pytest.mark.django_db


def test_rows_update_saves_each_row_its_own_values_in_one_statement():
    rows = [InboundMessage.objects.create(source="webhook:aftership", body=f"b{i}") for i in range(3)]
    untouched = InboundMessage.objects.create(source="webhook:aftership", body="other")
    when = datetime(2026, 12, 7, 5, 30, 1, 123456, tzinfo=UTC)
    rows[0].status, rows[0].result, rows[0].attempts = "processed", {"recorded": 2, "codes": ["a", "ü"]}, 1
    rows[1].status, rows[1].error, rows[1].attempts = "failed", 'Unreadable payload: it\'s "bad"', 3
    rows[2].status, rows[2].result = "processed", {}
    for row in rows:
        row.processed_at = when

    with CaptureQueriesContext(connection) as queries:
        assert rows_update(InboundMessage, rows, ["status", "error", "result", "processed_at", "attempts"]) == 3

    assert len(queries.captured_queries) == 1
    saved = {
        m.pk: (m.status, m.error, m.result, m.processed_at, m.attempts, m.body)
        for m in InboundMessage.objects.filter(pk__in=[*(r.pk for r in rows), untouched.pk])
    }
    assert saved[rows[0].pk] == ("processed", "", {"recorded": 2, "codes": ["a", "ü"]}, when, 1, "b0")
    assert saved[rows[1].pk] == ("failed", 'Unreadable payload: it\'s "bad"', {}, when, 3, "b1")
    assert saved[rows[2].pk] == ("processed", "", {}, when, 0, "b2")
    assert saved[untouched.pk] == ("received", "", {}, None, 0, "other")


def test_rows_update_with_nothing_to_save_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert rows_update(InboundMessage, [], ["status"]) == 0
    assert queries.captured_queries == []
