"""财审 through the API: approve and reject an order held for finance review, with the page's permission, its
service (services.finance_approve, workflows.cancel.order_finance_reject) and the same result as the page."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from oms.models import ApiToken
from orders import services
from orders.models import Order, OrderEvent, OrderHold
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import make_user

from .test_finance_review import create, world  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def post(client, key, url, body):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")


def held(world, external_id):  # noqa: F811
    order = create(world, external_id, [("SKU-A", "10.00")])
    assert order.holds.filter(reason=HoldReason.FINANCE_REVIEW, released_at__isnull=True).exists()
    return order


def token(username, role):
    user = make_user(username, role)
    return user, ApiToken.issue(user)[1]


def state():
    return [
        list(Order.objects.order_by("pk").values("status", "on_hold")),
        list(OrderHold.objects.order_by("pk").values("reason", "released_at")),
        OrderEvent.objects.count(),
    ]


def test_approve_releases_the_hold_with_the_event_and_the_order_goes_on(client, world):  # noqa: F811
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = held(world, "E1")
    boss, key = token("boss", "manager")

    answer = post(client, key, f"/api/v1/orders/{order.number}/finance/approve/", {"note": "clearance sale"})

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"order": order.number, "status": OrderStatus.CONFIRMED, "on_hold": False, "holds": []}
    released = order.events.get(kind=EventKind.RELEASED)
    assert (released.message, released.user) == ("Released: Finance review. finance approved: clearance sale", boss)
    again = post(client, key, f"/api/v1/orders/{order.number}/finance/approve/", {"note": "again"})
    assert again.status_code == 409
    assert "is not held for finance review" in again.json()["error"]


def test_reject_cancels_with_the_reason(client, world):  # noqa: F811
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = held(world, "E1")
    _, key = token("boss", "manager")

    answer = post(client, key, f"/api/v1/orders/{order.number}/finance/reject/", {"reason": "price typo"})

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"order": order.number, "status": OrderStatus.CANCELLED, "on_hold": False, "holds": []}
    assert order.events.get(kind=EventKind.CANCELLED).message == "Cancelled: finance review rejected: price typo"
    again = post(client, key, f"/api/v1/orders/{order.number}/finance/reject/", {"reason": "again"})
    assert again.status_code == 409


def test_an_order_not_held_is_409_and_an_unknown_one_404(client, world):  # noqa: F811
    fine = create(world, "E2", [("SKU-A", "100.00")])
    _, key = token("boss", "manager")
    before = state()
    for verb, body in (("approve", {"note": "x"}), ("reject", {"reason": "x"})):
        assert post(client, key, f"/api/v1/orders/{fine.number}/finance/{verb}/", body).status_code == 409
        assert post(client, key, f"/api/v1/orders/NOPE/finance/{verb}/", body).status_code == 404
    assert state() == before


def test_the_pages_permissions_refuse(client, world):  # noqa: F811
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = held(world, "E1")
    cs, key = token("cs", "customer_service")
    before = state()

    for verb, body in (("approve", {"note": "x"}), ("reject", {"reason": "x"})):
        answer = post(client, key, f"/api/v1/orders/{order.number}/finance/{verb}/", body)
        assert answer.status_code == 403, answer.content
    # finance review without the right to cancel: approve yes, reject no (as on the page)
    reviewer, reviewer_key = token("fin", "warehouse")
    reviewer.user_permissions.add(Permission.objects.get(codename="finance_review"))
    assert not reviewer.has_perm("orders.cancel_order")
    answer = post(client, reviewer_key, f"/api/v1/orders/{order.number}/finance/reject/", {"reason": "x"})
    assert answer.status_code == 403
    client.force_login(reviewer)
    assert client.post(f"/orders/{order.number}/finance-reject/", {"reason": "x"}).status_code == 403
    assert post(client, "wrong", f"/api/v1/orders/{order.number}/finance/approve/", {"note": "x"}).status_code == 401
    assert state() == before


@pytest.mark.parametrize(
    ("verb", "body", "field"),
    [
        ("approve", {"note": "ok", "notes": "x"}, "notes"),
        ("approve", {"note": 5}, "note"),
        ("approve", {"note": "  "}, "note"),
        ("approve", {}, "note"),
        ("approve", {"note": "x" * 201}, "note"),
        ("approve", "[1]", "body"),
        ("approve", "{bad", "body"),
        ("reject", {"reason": "typo", "cancel": True}, "cancel"),
        ("reject", {"reason": ["typo"]}, "reason"),
        ("reject", {"reason": None}, "reason"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(client, world, verb, body, field):  # noqa: F811
    services.finance_settings_set(floor_share=Decimal("0.6"))
    order = held(world, "E1")
    _, key = token("boss", "manager")
    before = state()

    answer = post(client, key, f"/api/v1/orders/{order.number}/finance/{verb}/", body)

    assert answer.status_code == 400, answer.content
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert state() == before


def _outcome(order):
    order.refresh_from_db()
    events = [(e.kind, e.message.replace(order.number, "#"), e.user_id) for e in order.events.order_by("pk")]
    holds = [(h.reason, h.released_at is not None, h.note) for h in order.holds.order_by("pk")]
    return order.status, order.on_hold, holds, events


@pytest.mark.parametrize(("verb", "field", "text"), [("approve", "note", "VIP price"), ("reject", "reason", "typo")])
def test_page_and_api_give_the_same_result(client, world, verb, field, text):  # noqa: F811
    services.finance_settings_set(floor_share=Decimal("0.6"))
    by_page, by_api = held(world, "E1"), held(world, "E2")
    boss, key = token("boss", "manager")

    assert post(client, key, f"/api/v1/orders/{by_api.number}/finance/{verb}/", {field: text}).status_code == 200
    client.force_login(boss)
    assert client.post(f"/orders/{by_page.number}/finance-{verb}/", {field: text}).status_code == 302

    assert _outcome(by_page) == _outcome(by_api)
    assert _outcome(by_api)[0] == (OrderStatus.CONFIRMED if verb == "approve" else OrderStatus.CANCELLED)
