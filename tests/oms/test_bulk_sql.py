"""oms.bulk.update_from_values: one UPDATE … FROM (VALUES …) per chunk, on both databases."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from oms.bulk import update_from_values
from orders.models import InboundMessage

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_the_shared_ones():
    messages = [InboundMessage.objects.create(source="api", body=str(i)) for i in range(5)]
    untouched = InboundMessage.objects.create(source="api", body="other")
    now = timezone.now()
    rows = [
        (m.pk, "processed" if i % 2 else "rejected", f"e{i}", {"order": f"SO{i}", "n": [i]})
        for i, m in enumerate(messages)
    ]

    with CaptureQueriesContext(connection) as queries:
        count = update_from_values(
            InboundMessage,
            ("status", "error", "result"),
            rows,
            same={"processed_at": now},
            increment=("attempts",),
            chunk=3,
        )

    updates = [q for q in queries.captured_queries if q["sql"].startswith("WITH")]
    assert count == 5 and len(updates) == 2  # chunks of 3 and 2
    got = {m.pk: (m.status, m.error, m.result, m.processed_at, m.attempts) for m in InboundMessage.objects.all()}
    for i, m in enumerate(messages):
        assert got[m.pk] == ("processed" if i % 2 else "rejected", f"e{i}", {"order": f"SO{i}", "n": [i]}, now, 1)
    assert got[untouched.pk] == ("received", "", {}, None, 0)
    assert update_from_values(InboundMessage, ("status",), []) == 0
