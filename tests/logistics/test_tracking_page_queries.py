"""The public tracking page's cost is fixed (issue 14, "tracking page requests"): an exact number of queries for
an order with several parcels and scans, whatever their number, on the first view and on every view after it.
The page's content and protections are held by test_tracking_page.py, test_public_tracking_cache.py,
test_self_service.py and test_public_abuse.py; this file holds its price."""

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection, connections
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from fulfillment import services as fulfillment_services
from fulfillment import split
from logistics import selectors, tracking_page
from logistics import services as logistics_services
from logistics.models import Parcel
from logistics.status import TrackingStatus
from orders import services as order_services
from orders.care.returns import return_create
from orders.care.tracking_links import tracking_token, tracking_view_token
from orders.models import Order
from tests.factories import ChannelFactory, canonical
from tests.logistics.casework import T0, event, order_at, world

pytestmark = pytest.mark.django_db


def two_parcels(capture, external_id: str, scans: int):
    """An order of two units shipped in two parcels (a split shipment), each with ``scans`` carrier scans."""
    data = canonical(external_id, lines=[("SKU-A", 2)])
    with capture(execute=True):
        order = order_services.order_create(channel=ChannelFactory(slug="web"), data=data, source="test").order
    first = order.shipments.get()
    split.shipment_split(shipment=first, quantities={first.lines.get().pk: 1}, reason_code="capacity")
    fulfillment_services.picklist_create(location=first.location)  # both shipments on one pick list
    for shipment in order.shipments.order_by("pk"):
        fulfillment_services.shipment_pack(shipment=shipment, weight_g=400)
        logistics_services.shipment_dispatch(shipment=shipment)
    for parcel in Parcel.objects.filter(shipment__order=order).select_related("shipment__order", "service__carrier"):
        for n in range(scans):
            status = TrackingStatus.IN_TRANSIT
            scan = event(parcel, status, T0 + timedelta(hours=2 + n), description=f"Hub {n} {parcel.pk}")
            logistics_services.tracking_event_record(parcel=parcel, event=scan, source="test")
    order.refresh_from_db()
    return order


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    cache.clear()
    world()
    return two_parcels(django_capture_on_commit_callbacks, "PQ1", scans=3)


def get(client, path, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **headers)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    return response.content.decode(), len(queries.captured_queries)


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def same_but_token(page: str) -> str:
    return CSRF.sub('name="csrfmiddlewaretoken" value="-"', page)


def test_first_view_costs_six_queries_and_every_later_view_one(client, shipped):
    path = f"/track/{tracking_token(shipped.number)}/"
    page, cold = get(client, path)
    assert page.count('<p class="parcel">') == 2 and page.count("<small>Hub ") == 6
    # The order's key (its latest timeline row and updated_at, with where a code would go); the whole order with its
    # customer; its timeline, parcels (with service and carrier), scans, returns.
    assert cold == 6
    again, warm = get(client, path)
    assert warm == 1  # the order's key: nothing else while nothing changed
    assert same_but_token(again) == same_but_token(page)


def test_more_scans_cost_no_more_queries_and_show_at_once(client, shipped):
    path = f"/track/{tracking_token(shipped.number)}/"
    get(client, path)
    for parcel in Parcel.objects.filter(shipment__order=shipped).select_related("shipment__order", "service__carrier"):
        for n in range(3, 7):
            scan = event(
                parcel, TrackingStatus.IN_TRANSIT, T0 + timedelta(hours=2 + n), description=f"Hub {n} {parcel.pk}"
            )
            logistics_services.tracking_event_record(parcel=parcel, event=scan, source="test")
    page, cold = get(client, path)
    assert page.count("<small>Hub ") == 14 and cold == 6
    assert get(client, path)[1] == 1


def test_the_other_language_and_the_view_only_link_reuse_the_data(client, shipped):
    full = f"/track/{tracking_token(shipped.number)}/"
    view = f"/track/{tracking_view_token(shipped.number)}/"
    get(client, full)
    zh, queries = get(client, full, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "运输中" in zh and queries == 1
    page, queries = get(client, view)
    assert "In transit" in page and queries == 1


def test_a_delivered_order_with_a_return_costs_a_fixed_number_too(client, shipped, django_capture_on_commit_callbacks):
    for parcel in Parcel.objects.filter(shipment__order=shipped).select_related("shipment__order", "service__carrier"):
        with django_capture_on_commit_callbacks(execute=True):
            logistics_services.tracking_event_record(
                parcel=parcel, event=event(parcel, TrackingStatus.DELIVERED, T0 + timedelta(days=1)), source="test"
            )
    line = shipped.lines.get()
    return_create(order=shipped, lines={line.pk: 1}, reason="size", source="tracking page")
    path = f"/track/{tracking_token(shipped.number)}/"
    page, cold = get(client, path)
    assert 'id="returns"' in page and 'id="rate"' in page and 'id="return"' in page
    assert 'max="1"' in page  # one of the two units is left to return
    # The six above, and once delivered: its lines, what was returned of them, its rating.
    assert cold == 9
    assert get(client, path)[1] == 1


# ---- the cached page is the page: per request, per visitor --------------------------------------------------


def test_the_cached_page_is_byte_for_byte_what_the_template_renders_for_the_request(client, shipped):
    path = f"/track/{tracking_token(shipped.number)}/?from=%22%3Cb%3E&x=1"
    get(client, path)
    cached, queries = get(client, path)
    assert queries == 1
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    order = Order.objects.get(pk=shipped.pk)
    context = {"t": selectors.public_tracking(order), "can_change": True, "code_channel": "email"}
    with translation.override("en"):
        expected = render_to_string("logistics/track_order.html", context, request=request)
    assert same_but_token(cached) == same_but_token(expected)
    assert 'name="next" type="hidden" value="/track/' in cached and "from=%22%3Cb%3E&amp;x=1" in cached


def test_each_visitor_gets_a_csrf_token_of_their_own_that_works(shipped):
    path = f"/track/{tracking_token(shipped.number)}/"
    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        page, _ = get(visitor, path)
        found = set(CSRF.findall(page))
        assert len(found) == 1  # one token for every form on the page, as the template gives
        tokens.append(found.pop())
        answer = visitor.post(
            "/i18n/setlang/", {"language": "zh-hans", "next": path, "csrfmiddlewaretoken": tokens[-1]}
        )
        assert answer.status_code == 302 and answer["Location"] == path
        assert "<h1>运输中</h1>" in get(visitor, path)[0]
    assert tokens[0] != tokens[1]


def test_a_notice_shows_once_and_the_next_view_is_the_cached_page(client, django_capture_on_commit_callbacks):
    cache.clear()
    world()
    order = order_at(django_capture_on_commit_callbacks, "allocated", "PQ2")
    path = f"/track/{tracking_token(order.number)}/"
    assert "Cancel the order" in get(client, path)[0]
    response = client.post(f"{path}cancel/", {"confirm": "yes", "reason": "changed_mind"}, follow=True)
    assert "Your order is cancelled." in response.content.decode()
    page, queries = get(client, path)
    assert "This order was cancelled" in page and "Your order is cancelled." not in page
    assert queries == 1 and get(client, path)[1] == 1  # the data read for the notice's page serves it


def test_an_order_saved_without_a_timeline_row_is_shown_fresh(client, shipped):
    path = f"/track/{tracking_token(shipped.number)}/"
    assert "For Li" in get(client, path)[0]
    Order.objects.filter(pk=shipped.pk).update(ship_name="Wang Fang", updated_at=timezone.now())
    page, queries = get(client, path)
    assert "For Wang" in page and queries == 6


# ---- the process's own copies (in front of Redis in production) ---------------------------------------------


@pytest.fixture
def recent(monkeypatch):
    """The process's copies switched on (they are off when the shared cache is local memory, as here)."""
    pages = tracking_page.RecentPages(size=2)
    monkeypatch.setattr(tracking_page, "recent_pages", lambda: pages)
    reads = []
    real_get = tracking_page.cache.get
    monkeypatch.setattr(tracking_page.cache, "get", lambda key, *a, **kw: reads.append(key) or real_get(key, *a, **kw))
    return pages, reads


def test_a_repeat_view_is_served_from_the_process_and_a_change_is_not(client, shipped, recent):
    pages, reads = recent
    path = f"/track/{tracking_token(shipped.number)}/"
    first, _ = get(client, path)
    shared = len(reads)  # the page, then its data: both missed
    again, queries = get(client, path)
    assert queries == 1 and len(reads) == shared  # not even the shared cache was asked
    assert same_but_token(again) == same_but_token(first)
    parcel = Parcel.objects.filter(shipment__order=shipped).select_related("shipment__order", "service__carrier")[0]
    scan = event(parcel, TrackingStatus.OUT_FOR_DELIVERY, T0 + timedelta(hours=30), description="With the courier")
    logistics_services.tracking_event_record(parcel=parcel, event=scan, source="test")
    page, _ = get(client, path)
    assert "With the courier" in page and len(reads) > shared


def test_the_process_keeps_a_few_pages_and_none_past_its_time(client, shipped, recent):
    pages, reads = recent
    full, view = f"/track/{tracking_token(shipped.number)}/", f"/track/{tracking_view_token(shipped.number)}/"
    get(client, full)
    get(client, view)
    get(client, full, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert len(pages.entries) == 2  # the oldest (the full link in English) made room
    before = len(reads)
    get(client, full)
    assert len(reads) == before + 1  # asked the shared cache again, which had it
    later = time.time() + tracking_page.PAGE_CACHE_SECONDS + 1
    assert all(pages.get(key, later) is None for key in list(pages.entries)) and not pages.entries


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_pages_query_is_the_kept_connections_health_check(client, shipped, monkeypatch):
    """No ``SELECT 1`` before the page's one query; a connection the server dropped is replaced and the page
    answered as usual (what the health check would have done)."""
    path = f"/track/{tracking_token(shipped.number)}/"
    first = same_but_token(get(client, path)[0])
    db = connections["default"]  # the wrapper itself (``connection`` is a proxy)
    pings = []
    real = type(db).is_usable
    monkeypatch.setattr(type(db), "is_usable", lambda self: pings.append(1) or real(self))
    monkeypatch.setattr(db, "health_check_enabled", True)

    db.health_check_done = False  # a new request on a kept connection
    page, queries = get(client, path)
    assert (same_but_token(page), queries, pings) == (first, 1, [])

    db.ensure_connection()
    db.connection.close()  # the server went away under the kept connection
    db.health_check_done = False
    page, _queries = get(client, path)
    assert same_but_token(page) == first
    assert db.connection is not None and not db.connection.closed


# ---- where a one-time code would go: read for a view-only link only ----------------------------------------


def test_a_view_only_link_offers_the_code_where_it_would_go_read_fresh(client, django_capture_on_commit_callbacks):
    """The page's query does not read the customer: a change link never shows the code box, and a view-only link
    of an order with an e-mail of its own needs nothing more. One without reads its customer's contact, each view
    (one query more), so a change of it shows at once."""
    cache.clear()
    world()
    shipped = order_at(django_capture_on_commit_callbacks, "allocated", "PQ3")  # it may still be cancelled
    view = f"/track/{tracking_view_token(shipped.number)}/"
    get(client, view)  # the first view reads the page's data
    page, queries = get(client, view)
    assert "Send a code to the order's e-mail" in page and queries == 1
    customer = shipped.customer
    assert customer.email
    Order.objects.filter(pk=shipped.pk).update(ship_email="", ship_phone="")
    page, queries = get(client, view)
    assert "Send a code to the order's e-mail" in page and queries == 2  # the customer's e-mail
    customer.email, customer.phone = "", "13900000000"
    customer.save(update_fields=["email", "phone"])
    page, queries = get(client, view)
    assert "Send a code to the order's phone" in page and queries == 2
    customer.phone = ""
    customer.save(update_fields=["phone"])
    page, queries = get(client, view)
    assert "Please contact our customer service." in page and "code/send/" not in page and queries == 2
    full, queries = get(client, f"/track/{tracking_token(shipped.number)}/")
    assert 'id="verify"' not in full and queries == 1  # a change link: no code box, the customer never read


def test_a_change_links_page_is_the_templates_whatever_the_code_channel(client, shipped):
    path = f"/track/{tracking_token(shipped.number)}/"
    Order.objects.filter(pk=shipped.pk).update(ship_email="", ship_phone="")
    get(client, path)
    cached, queries = get(client, path)
    assert queries == 1
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    order = Order.objects.get(pk=shipped.pk)
    for channel in ("email", "sms", None):
        context = {"t": selectors.public_tracking(order), "can_change": True, "code_channel": channel}
        with translation.override("en"):
            expected = render_to_string("logistics/track_order.html", context, request=request)
        assert same_but_token(cached) == same_but_token(expected)
