"""The public tracking page's data is cached per order and renewed by every new timeline row (issue 7, item 2)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from logistics.services import tracking_event_record
from logistics.status import TrackingStatus
from orders.care.tracking_links import tracking_token
from tests.logistics.casework import T0, event, order_at, parcel_of, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    cache.clear()
    world()
    return order_at(django_capture_on_commit_callbacks, "shipped", "PC1")


def get(client, order):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/track/{tracking_token(order.number)}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    return response.content.decode(), len(queries.captured_queries)


def test_the_second_view_reads_the_cache_and_a_new_scan_shows_at_once(client, shipped):
    first, cold = get(client, shipped)
    again, warm = get(client, shipped)
    assert again.count("<li") == first.count("<li")
    assert warm <= 3 and warm < cold  # the order with its latest event id, the session; no page queries

    parcel = parcel_of(shipped)
    tracking_event_record(
        parcel=parcel,
        event=event(parcel, TrackingStatus.OUT_FOR_DELIVERY, T0 + timedelta(hours=30), description="With the courier"),
        source="test",
    )

    after, _ = get(client, shipped)
    assert "With the courier" in after and "Out for delivery" in after


def test_orders_do_not_share_cached_pages_and_a_bad_token_still_fails(
    client, shipped, django_capture_on_commit_callbacks
):
    other = order_at(django_capture_on_commit_callbacks, "shipped", "PC2")
    mine, _ = get(client, shipped)
    theirs, _ = get(client, other)
    assert shipped.number in mine and other.number not in mine
    assert other.number in theirs and shipped.number not in theirs
    token = tracking_token(shipped.number)
    assert client.get(f"/track/{token[:-2]}xx/").status_code == 404


def test_a_self_service_change_renews_the_page(client, shipped, django_capture_on_commit_callbacks):
    packed_not = order_at(django_capture_on_commit_callbacks, "allocated", "PC3")
    page, _ = get(client, packed_not)
    assert "Cancel the order" in page
    token = tracking_token(packed_not.number)
    client.post(f"/track/{token}/cancel/", {"confirm": "yes", "reason": "changed_mind"})

    page, _ = get(client, packed_not)
    assert "This order was cancelled" in page
