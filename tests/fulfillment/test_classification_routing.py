"""Classification's result honoured by routing (required location capabilities) and carrier choice
(required service kind), end to end through order creation with the default rules."""

from decimal import Decimal

import pytest

from fulfillment.selectors import decision_candidates
from inventory.models import HandlingClass
from logistics import rating
from orders import services as order_services
from orders.models import ClassificationRule
from orders.status import EventKind, OrderStatus
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    near = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    cold = LocationFactory(
        code="can", name="Guangzhou DC", city="Guangzhou", latitude=23.13, longitude=113.26, cold_chain=True
    )
    big = LocationFactory(
        code="ctu", name="Chengdu DC", city="Chengdu", latitude=30.57, longitude=104.07, handles_bulky=True
    )
    products = {
        "STD": ProductFactory(sku="STD"),
        "FRESH": ProductFactory(sku="FRESH", handling_class=HandlingClass.FRESH),
        "SOFA": ProductFactory(sku="SOFA", handling_class=HandlingClass.BULKY, weight_g=30000),
    }
    for location in (near, cold, big):
        for product in products.values():
            stock(location, product, 10)
    return {"sha": near, "can": cold, "ctu": big, "channel": ChannelFactory(slug="web")}


def route(world, capture, sku, external_id="E1", **kw):
    with capture(execute=True):
        order = order_services.order_create(
            channel=world["channel"], data=canonical(external_id, lines=((sku, 1),), **kw), source="test"
        ).order
    order.refresh_from_db()
    return order


def verdicts(order):
    return {c["location"]: c["verdict"] for c in decision_candidates(order.routing_decisions.get())}


def test_fresh_order_goes_to_the_cold_chain_location_and_the_decision_says_why(
    world, django_capture_on_commit_callbacks
):
    order = route(world, django_capture_on_commit_callbacks, "FRESH")  # ships to Shanghai

    assert (order.status, order.tags, order.priority) == (OrderStatus.ALLOCATED, ",fresh,", 1)
    assert order.shipments.get().location == world["can"]
    assert verdicts(order) == {
        "can": "chosen: the only location that can ship all of it",
        "sha": "cannot handle fresh; lacks cold_chain (required by classification)",
        "ctu": "cannot handle fresh; lacks cold_chain (required by classification)",
    }
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds[:3] == [EventKind.CREATED, EventKind.CLASSIFIED, EventKind.STATUS]


def test_bulky_order_goes_to_the_bulky_capable_location(world, django_capture_on_commit_callbacks):
    order = route(world, django_capture_on_commit_callbacks, "SOFA")

    assert (order.tags, order.required_service_kind) == (",bulky,", "freight")
    assert order.shipments.get().location == world["ctu"]
    assert verdicts(order)["sha"] == "cannot handle bulky; lacks bulky (required by classification)"


def test_a_rule_can_require_a_capability_the_goods_alone_do_not(world, django_capture_on_commit_callbacks):
    ClassificationRule.objects.create(
        name="Chilled by request",
        position=5,
        requested_service="chilled",
        require_capabilities="cold_chain",
        add_tags="chilled",
    )

    order = route(world, django_capture_on_commit_callbacks, "STD", requested_service="chilled")
    plain = route(world, django_capture_on_commit_callbacks, "STD", external_id="E2")

    assert order.shipments.get().location == world["can"]
    assert verdicts(order) == {
        "can": "chosen: the only location that can ship all of it",
        "sha": "lacks cold_chain (required by classification)",
        "ctu": "lacks cold_chain (required by classification)",
    }
    assert plain.shipments.get().location == world["sha"]


def test_no_capable_location_holds_stock_short_with_the_reasons(world, django_capture_on_commit_callbacks):
    world["can"].active = False
    world["can"].save()
    order = route(world, django_capture_on_commit_callbacks, "FRESH")
    assert order.on_hold is True
    assert "sha: cannot handle fresh; lacks cold_chain (required by classification)" in order.holds.get().note


def test_rating_treats_the_required_service_kind_as_a_hard_constraint(world, django_capture_on_commit_callbacks):
    ClassificationRule.objects.create(
        name="Express for VIPs", position=5, min_value=Decimal("5"), require_service_kind="express"
    )
    cheap = ServiceLevelFactory(code="std", kind="standard", base_rate="5.00")
    express = ServiceLevelFactory(code="exp", kind="express", base_rate="20.00")

    order = route(world, django_capture_on_commit_callbacks, "STD")
    result = rating.choose_service(order.shipments.get())

    assert order.required_service_kind == "express"
    assert result.chosen.service_id == express.pk
    standard = next(q for q in result.quotes if q.service_id == cheap.pk)
    assert (standard.eligible, standard.reasons) == (False, ["service kind standard, classification requires express"])


def test_fresh_goods_rate_only_cold_chain_services_with_one_reason(world, django_capture_on_commit_callbacks):
    warm = ServiceLevelFactory(code="std", kind="standard", base_rate="5.00")
    chilled = ServiceLevelFactory(code="cold", kind="express", base_rate="30.00", cold_chain=True)

    order = route(world, django_capture_on_commit_callbacks, "FRESH")
    result = rating.choose_service(order.shipments.get())

    assert order.required_service_kind == "cold_chain"
    assert result.chosen.service_id == chilled.pk  # an express service with cold chain counts as cold chain
    standard = next(q for q in result.quotes if q.service_id == warm.pk)
    assert standard.reasons == ["no cold chain for fresh goods"]
