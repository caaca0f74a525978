"""The public tracking page resists abuse: the client address behind trusted proxies, the per-order lockout,
changes only with the e-mailed link or a one-time code (issue 13, item 9)."""

import re
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import timezone

from logistics.access_codes import MAX_CODES, MAX_TRIES
from logistics.models import TrackingAccessCode
from oms.net import client_ip
from orders.care.tracking_links import token_access, tracking_token, tracking_view_token
from orders.models import DeliveryRating, Notification, NotificationOptOut, Order, ReturnRequest
from tests import journey
from tests.orders import care

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {"province": "Zhejiang", "city": "Hangzhou", "address1": "18 Wensan Road", "postcode": "310012"}


@pytest.fixture(autouse=True)
def _pinned(settings):
    cache.clear()
    settings.OMS_NOTIFICATIONS_SUPPRESSED = False
    settings.OMS_TRUSTED_PROXY_COUNT = 0
    settings.TRACKING_LOOKUP_RATE = 100
    settings.TRACKING_LOOKUP_FAILURES = 5
    settings.TRACKING_LOOKUP_LOCK_MINUTES = 15


@pytest.fixture
def allocated(django_capture_on_commit_callbacks):
    journey.world()
    return journey.order_through(django_capture_on_commit_callbacks, "allocated")


def _ip(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


# ---- the client address -----------------------------------------------------------------------------


def test_client_ip_takes_the_hop_before_the_trusted_proxies(settings):
    settings.OMS_TRUSTED_PROXY_COUNT = 1
    assert _ip("10.0.0.2", "198.51.100.7") == "198.51.100.7"
    # What the client wrote itself (left of what our proxy appended) is never trusted.
    assert _ip("10.0.0.2", "1.2.3.4, 198.51.100.7") == "198.51.100.7"
    assert _ip("10.0.0.2", " 2001:db8::1 ") == "2001:db8::1"
    settings.OMS_TRUSTED_PROXY_COUNT = 2
    assert _ip("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.9") == "198.51.100.7"
    # Too short, garbage, empty: REMOTE_ADDR.
    assert _ip("10.0.0.2", "198.51.100.7") == "10.0.0.2"
    assert _ip("10.0.0.2", "not-an-ip, 10.0.0.9") == "10.0.0.2"
    assert _ip("10.0.0.2", "") == "10.0.0.2"
    assert _ip("10.0.0.2") == "10.0.0.2"


def test_forged_forwarded_for_is_ignored_without_trusted_proxies():
    assert _ip("203.0.113.5", "198.51.100.7") == "203.0.113.5"


def test_two_clients_behind_one_proxy_get_separate_buckets(client, allocated, settings):
    settings.OMS_TRUSTED_PROXY_COUNT = 1
    settings.TRACKING_LOOKUP_RATE = 2
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def lookup(who):
        data = {"number": "SO1", "contact": "0000"}
        return client.post("/track/", data, HTTP_X_FORWARDED_FOR=who, **proxy).status_code

    assert [lookup("198.51.100.1") for _ in range(3)] == [404, 404, 429]
    assert [lookup("198.51.100.2") for _ in range(3)] == [404, 404, 429]
    # The customer next door still gets in.
    ok = client.post(
        "/track/", {"number": allocated.number, "contact": "8000"}, HTTP_X_FORWARDED_FOR="198.51.100.3", **proxy
    )
    assert ok.status_code == 302


def test_forged_forwarded_for_does_not_escape_the_rate_limit(client, settings):
    settings.TRACKING_LOOKUP_RATE = 2
    codes = [
        client.post("/track/", {"number": "SO1", "contact": "0000"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(4)
    ]
    assert codes == [404, 404, 429, 429]


# ---- the per-order lockout ----------------------------------------------------------------------------


def test_five_failed_contact_checks_lock_the_order_whatever_the_ip(client, allocated):
    for i in range(4):
        wrong = client.post("/track/", {"number": allocated.number, "contact": "1234"}, REMOTE_ADDR=f"203.0.113.{i}")
        assert wrong.status_code == 404
    fifth = client.post("/track/", {"number": allocated.number, "contact": "1234"}, REMOTE_ADDR="203.0.113.9")
    assert fifth.status_code == 429
    assert "paused lookups for it for 15 minutes" in fifth.content.decode()
    # Even the right contact from another address is refused while locked, and says the same.
    right = client.post("/track/", {"number": allocated.number.lower(), "contact": "8000"}, REMOTE_ADDR="192.0.2.1")
    assert right.status_code == 429
    assert "paused lookups" in right.content.decode()
    # Other orders are not affected.
    assert client.post("/track/", {"number": "SO424242", "contact": "8000"}).status_code == 404


def test_the_lockout_says_nothing_about_whether_the_order_exists(client):
    codes = [client.post("/track/", {"number": "SO999999", "contact": "1234"}).status_code for _ in range(6)]
    assert codes == [404, 404, 404, 404, 429, 429]


def test_the_lockout_ends_after_its_time(client, allocated):
    for _ in range(5):
        client.post("/track/", {"number": allocated.number, "contact": "1234"})
    assert client.post("/track/", {"number": allocated.number, "contact": "8000"}).status_code == 429
    cache.clear()  # the lock is a cache entry with a 15-minute timeout; its expiry is the cache's job
    assert client.post("/track/", {"number": allocated.number, "contact": "8000"}).status_code == 302


# ---- view with number + digits, change with the link or a code -----------------------------------------


def _snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return (order.status, order.ship_city, order.ship_address1, order.events.count(), ReturnRequest.objects.count())


def test_lookup_gives_a_view_only_link_and_a_change_is_refused(client, allocated):
    response = client.post("/track/", {"number": allocated.number, "contact": "8000"})
    assert response.status_code == 302
    view_url = response["Location"]
    token = view_url.rstrip("/").rsplit("/", 1)[1]
    assert token_access(token) == (allocated.number, False)
    page = client.get(view_url).content.decode()
    assert 'id="verify"' in page and 'id="address"' not in page and 'id="cancel"' not in page
    before = _snapshot(allocated)
    refused = client.post(f"{view_url}address/", NEW_ADDRESS, follow=True)
    assert "open the link in the e-mail we sent you, or ask for a code" in refused.content.decode()
    cancel = client.post(f"{view_url}cancel/", {"reason": "other", "confirm": "yes"}, follow=True)
    assert "ask for a code" in cancel.content.decode()
    assert _snapshot(allocated) == before


def test_the_emailed_link_allows_the_change(client, allocated):
    url = f"/track/{tracking_token(allocated.number)}/"
    assert token_access(tracking_token(allocated.number)) == (allocated.number, True)
    assert 'id="verify"' not in client.get(url).content.decode()
    client.post(f"{url}address/", NEW_ADDRESS)
    assert Order.objects.get(pk=allocated.pk).ship_city == "Hangzhou"


def _ask_code(client, order, django_capture_on_commit_callbacks):
    url = f"/track/{tracking_view_token(order.number)}/"
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"{url}code/send/", follow=True)
    assert "We sent a 6-digit code to the e-mail address on the order" in sent.content.decode()
    note = Notification.objects.filter(order=order, kind="code").latest("id")
    return url, note


def test_a_correct_code_allows_the_change_once_verified(client, allocated, django_capture_on_commit_callbacks):
    url, note = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    code = note.context["code"]
    assert len(code) == 6 and code.isdigit()
    assert (note.channel, note.to, note.status) == ("email", "li.lei@example.com", "sent")
    assert code in note.subject and code in note.body_text
    row = TrackingAccessCode.objects.get(order=allocated)
    assert code not in row.code_hash and len(row.code_hash) == 64  # stored hashed
    assert row.expires_at - row.created_at == timedelta(minutes=10)

    ok = client.post(f"{url}code/", {"code": code}, follow=True).content.decode()
    assert "You can now change this order" in ok and 'id="address"' in ok
    client.post(f"{url}address/", NEW_ADDRESS)
    assert Order.objects.get(pk=allocated.pk).ship_city == "Hangzhou"
    # The code is used up: entering it again does nothing.
    again = client.post(f"{url}code/", {"code": code}, follow=True).content.decode()
    assert "expired or was replaced" in again


def test_a_wrong_code_is_refused_and_limited(client, allocated, django_capture_on_commit_callbacks):
    url, note = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    code = note.context["code"]
    wrong = "000000" if code != "000000" else "111111"
    before = _snapshot(allocated)
    for _ in range(MAX_TRIES - 1):
        assert "This code is not right" in client.post(f"{url}code/", {"code": wrong}, follow=True).content.decode()
    assert "Too many wrong codes" in client.post(f"{url}code/", {"code": wrong}, follow=True).content.decode()
    # Now even the right code is refused: the code is dead.
    assert "Too many wrong codes" in client.post(f"{url}code/", {"code": code}, follow=True).content.decode()
    client.post(f"{url}address/", NEW_ADDRESS)
    assert _snapshot(allocated) == before
    assert TrackingAccessCode.objects.get(order=allocated).attempts == MAX_TRIES


def test_an_expired_code_is_refused(client, allocated, django_capture_on_commit_callbacks):
    url, note = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    TrackingAccessCode.objects.filter(order=allocated).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = _snapshot(allocated)
    refused = client.post(f"{url}code/", {"code": note.context["code"]}, follow=True).content.decode()
    assert "This code has expired" in refused
    client.post(f"{url}cancel/", {"reason": "other", "confirm": "yes"})
    assert _snapshot(allocated) == before


def test_garbage_codes_are_refused_without_a_500(client, allocated, django_capture_on_commit_callbacks):
    url, _ = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    for junk in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "x" * 5000):
        response = client.post(f"{url}code/", {"code": junk})
        assert response.status_code == 302


def test_a_new_code_replaces_the_old_and_sending_is_limited(client, allocated, django_capture_on_commit_callbacks):
    url, first = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    _, second = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    for _ in range(MAX_CODES - 2):
        _ask_code(client, allocated, django_capture_on_commit_callbacks)
    too_many = client.post(f"{url}code/send/", follow=True).content.decode()
    assert "We cannot send another code right now" in too_many
    assert Notification.objects.filter(order=allocated, kind="code").count() == MAX_CODES
    latest = Notification.objects.filter(order=allocated, kind="code").latest("id").context["code"]
    if first.context["code"] != latest:  # the replaced code no longer opens anything
        old = client.post(f"{url}code/", {"code": first.context["code"]}, follow=True).content.decode()
        assert "This code is not right" in old
    assert TrackingAccessCode.objects.filter(order=allocated, expires_at__gt=timezone.now()).count() == 1


def test_the_code_is_sent_even_to_an_address_that_opted_out(client, allocated, django_capture_on_commit_callbacks):
    NotificationOptOut.objects.create(address="li.lei@example.com", source="test")
    _, note = _ask_code(client, allocated, django_capture_on_commit_callbacks)
    assert note.status == "sent"


def test_a_delivered_order_viewed_by_lookup_cannot_rate_return_or_get_the_label(
    client, django_capture_on_commit_callbacks
):
    order = care.delivered(django_capture_on_commit_callbacks)
    line = order.lines.get()
    view = f"/track/{tracking_view_token(order.number)}/"
    full = f"/track/{tracking_token(order.number)}/"
    page = client.get(view).content.decode()
    assert 'id="verify"' in page and 'id="rate"' not in page and 'id="return"' not in page
    client.post(f"{view}rate/", {"score": 5})
    client.post(f"{view}return/", {f"qty-{line.pk}": 1, "reason": "damaged", "resolution": "refund"})
    assert (DeliveryRating.objects.count(), ReturnRequest.objects.count()) == (0, 0)
    # With the e-mailed link the return is made; its label (it carries the address) opens only with that link.
    client.post(f"{full}return/", {f"qty-{line.pk}": 1, "reason": "damaged", "resolution": "refund"})
    ret = ReturnRequest.objects.get(order=order)
    assert client.get(f"{full}returns/{ret.number}/label.pdf").status_code == 200
    assert client.get(f"{view}returns/{ret.number}/label.pdf").status_code == 404


def test_the_link_printed_on_the_label_is_view_only(client, django_capture_on_commit_callbacks):

    journey.world()
    order = journey.order_through(django_capture_on_commit_callbacks, "shipped")
    parcel = order.shipments.get().parcels.get()
    client.force_login(journey.users()["warehouse"])
    zpl = client.get(f"/logistics/parcels/{parcel.pk}/label.zpl").content.decode()

    def unescape(t):
        return re.sub(r"_([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), t)  # ZPL ^FH escapes

    tokens = {unescape(t) for t in re.findall(r"/track/([^/\s^]+)/", zpl)}
    assert tokens and all(token_access(t) == (order.number, False) for t in tokens)


def test_a_link_checked_before_is_still_refused_once_it_is_too_old_and_a_forged_one_always(monkeypatch, settings):
    from orders.care import tracking_links

    token = tracking_token("SO-OLD-1")
    assert token_access(token) == ("SO-OLD-1", True)
    assert token_access(token) == ("SO-OLD-1", True)  # the second check from the process's memory
    now = time.time()
    max_age = settings.TRACKING_LINK_MAX_AGE_DAYS * 86400
    monkeypatch.setattr(tracking_links, "time", SimpleNamespace(time=lambda: now + max_age + 5))
    assert token_access(token) == (None, False)
    monkeypatch.setattr(tracking_links, "time", SimpleNamespace(time=lambda: now))
    assert token_access(token) == ("SO-OLD-1", True)

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert token_access(forged) == (None, False)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40  # a new key: the old links stop working at once
    assert token_access(token) == (None, False)
