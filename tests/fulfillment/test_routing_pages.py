"""Routing pages (fulfillment/routing_views.py): policies, dry run, replay, reroute, backorder retry, the
queue page and the order page's "why this location" panel, with their permissions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Backorder, RoutingDecision, RoutingPolicy, RoutingReplay, Shipment
from inventory.models import Stock
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    can = LocationFactory(code="can", name="Guangzhou DC", city="Guangzhou", latitude=23.13, longitude=113.26)
    a = ProductFactory(sku="A")
    stock(sha, a, 10)
    stock(can, a, 10)
    channel = ChannelFactory(slug="web")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(channel=channel, data=canonical("E1", lines=(("A", 2),)), source="t").order
    return {
        "sha": sha,
        "can": can,
        "a": a,
        "channel": channel,
        "order": order,
        "manager": make_user("boss", "manager"),
        "warehouse": make_user("picker", "warehouse"),
        "cs": make_user("agent", "customer_service"),
    }


def test_order_page_shows_the_score_table_and_reroute_for_managers_only(client, world):
    url = reverse("orders:order_detail", args=[world["order"].number])
    client.force_login(world["manager"])
    page = client.get(url).content.decode()
    assert "Why this location?" in page and "lowest score" in page and "Distance" in page and "Split" in page
    assert "Reroute" in page and "Routing dry run" in page
    client.force_login(world["cs"])
    page = client.get(url).content.decode()
    assert "Why this location?" in page and "Reroute</button>" not in page


def test_reroute_from_the_order_page_needs_a_reason_and_the_permission(client, world):
    order = world["order"]
    url = reverse("fulfillment:routing_reroute", args=[order.number])
    client.force_login(world["cs"])
    assert client.post(url, {"location": world["can"].pk, "reason": "x"}).status_code == 403
    client.force_login(world["manager"])
    response = client.post(url, {"location": world["can"].pk, "reason": ""}, follow=True)
    assert response.status_code == 200 and "reason" in response.content.decode().lower()
    assert order.shipments.get().location == world["sha"]
    response = client.post(url, {"location": world["can"].pk, "reason": "sha closed today"}, follow=True)
    assert response.status_code == 200
    assert order.shipments.get(status="reserved").location == world["can"]
    assert RoutingDecision.objects.filter(order=order, kind="reroute", note="sha closed today").exists()
    # Rerouting to where it already ships is a message, not a 500.
    response = client.post(url, {"location": world["can"].pk, "reason": "again"}, follow=True)
    assert response.status_code == 200 and "already ships from can" in response.content.decode()


def test_policy_pages_create_edit_and_validate(client, world):
    client.force_login(world["warehouse"])
    assert client.get(reverse("fulfillment:routing_policy_list")).status_code == 403
    assert client.get(reverse("fulfillment:routing_policy_create")).status_code == 403
    client.force_login(world["manager"])
    assert client.get(reverse("fulfillment:routing_policy_list")).status_code == 200
    data = {
        "code": "eco",
        "name": "Economy",
        "status": "live",
        "is_default": "on",
        "rank": 10,
        "tags": "VIP, gift",
        "channels": [world["channel"].pk],
        "weight_distance": "0.5",
        "weight_cost": "2",
        "weight_split": "10",
        "weight_load": "0",
        "weight_balance": "0.5",
        "allow_split": "on",
        "max_locations": 3,
    }
    response = client.post(reverse("fulfillment:routing_policy_create"), data)
    assert response.status_code == 302
    policy = RoutingPolicy.objects.get(code="eco")
    assert policy.tags == "gift, vip" and list(policy.channels.all()) == [world["channel"]]
    assert policy.weight_balance == Decimal("0.5")
    # A second live default is refused; negative weights too.
    bad = dict(data, code="eco2", weight_cost="-1")
    response = client.post(reverse("fulfillment:routing_policy_create"), bad)
    assert response.status_code == 200
    page = response.content.decode()
    assert "already the live default" in page and "cannot be negative" in page
    assert not RoutingPolicy.objects.filter(code="eco2").exists()
    response = client.post(reverse("fulfillment:routing_policy_edit", args=[policy.pk]), dict(data, name="Eco 2"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "Eco 2"
    page = client.get(reverse("fulfillment:routing_policy_list")).content.decode()
    assert "Eco 2" in page and "gift, vip" in page


def test_dry_run_page_shows_the_table_and_writes_nothing(client, world):
    draft = RoutingPolicy.objects.create(code="far", name="Far", status="draft", weight_distance=-1)
    before = (Shipment.objects.count(), RoutingDecision.objects.count(), list(Stock.objects.values_list("reserved")))
    client.force_login(world["cs"])
    url = reverse("fulfillment:routing_dry_run")
    assert client.get(url, {"order": world["order"].number}).status_code == 403
    client.force_login(world["manager"])
    page = client.get(url, {"order": world["order"].number, "policy": draft.pk}).content.decode()
    assert "Policy Far" in page and "chosen" in page and "can" in page
    assert "No order NOPE" in client.get(url, {"order": "NOPE"}).content.decode()
    after = (Shipment.objects.count(), RoutingDecision.objects.count(), list(Stock.objects.values_list("reserved")))
    assert after == before


def test_replay_page_runs_the_task_and_shows_the_comparison(client, world, django_capture_on_commit_callbacks):
    draft = RoutingPolicy.objects.create(code="draft", name="Draft", status="draft", weight_split=0)
    client.force_login(world["manager"])
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("fulfillment:routing_replay_create"),
            {
                "policy": draft.pk,
                "period_start": (today - timedelta(days=7)).isoformat(),
                "period_end": today.isoformat(),
            },
        )
    replay = RoutingReplay.objects.get()
    assert response.status_code == 302 and response.url == reverse("fulfillment:routing_replay", args=[replay.pk])
    replay.refresh_from_db()
    assert replay.status == "done" and replay.orders == 1
    page = client.get(response.url).content.decode()
    assert "Shipping cost" in page and "Orders at risk of being late" in page
    assert "<b>Done</b>" in page  # the status by its label, which goes through gettext
    response = client.post(
        reverse("fulfillment:routing_replay_create"),
        {"policy": draft.pk, "period_start": today.isoformat(), "period_end": (today - timedelta(days=1)).isoformat()},
        follow=True,
    )
    assert "ends before it starts" in response.content.decode()


def test_backorder_retry_button(client, world, django_capture_on_commit_callbacks):
    RoutingPolicy.objects.create(
        code="partial", name="Partial", status="live", is_default=True, ship_complete=False, allow_split=False
    )
    Stock.objects.filter(location=world["can"]).update(on_hand=0)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=world["channel"], data=canonical("E9", lines=(("A", 12),), ship_to={"city": "Beijing"}), source="t"
        ).order
    assert Backorder.objects.get(order=order).quantity == 4
    client.force_login(world["manager"])
    assert "Open backorders" in client.get(reverse("fulfillment:routing_policy_list")).content.decode()
    Stock.objects.filter(location=world["can"]).update(on_hand=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("fulfillment:routing_backorders_retry"))
    assert response.status_code == 302
    assert not Backorder.objects.filter(resolved_at__isnull=True).exists()
    assert order.shipments.count() == 2


def test_queue_page_lists_in_pick_order(client, world):
    client.force_login(world["warehouse"])
    page = client.get(reverse("fulfillment:pick_queue"), {"location": world["can"].pk})
    assert page.status_code == 200 and "Nothing is ready to pick here" in page.content.decode()
    page = client.get(reverse("fulfillment:pick_queue"), {"location": world["sha"].pk}).content.decode()
    assert world["order"].number in page
    client.logout()
    assert client.get(reverse("fulfillment:pick_queue")).status_code == 302


def test_order_page_still_shows_decisions_recorded_before_scoring(client, world):
    order = world["order"]
    RoutingDecision.objects.create(
        order=order,
        policy="nearest",
        chosen=world["sha"],
        reason="sha is the nearest location that can ship all of it.",
        candidates=[{"location_id": world["sha"].pk, "location": "sha", "eligible": True, "distance_km": 3.2,
                     "score": 3.2, "reasons": [], "verdict": "chosen: nearest location that can ship all of it"}],
    )  # fmt: skip
    client.force_login(world["cs"])
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "chosen: nearest location that can ship all of it" in page and "Distance km" in page
