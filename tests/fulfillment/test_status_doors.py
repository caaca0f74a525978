"""PickList.status and RoutingReplay.status each have one door (fulfillment/shipments.py, fulfillment/routing/
reroute.py). Every pair of statuses is walked through the door on a real row; a pick list follows the pick and
pack flow (open → picking → done); a replay is claimed once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment import routing, services
from fulfillment.models import PickList, RoutingPolicy, RoutingReplay
from fulfillment.routing.reroute import _set_replay_status
from fulfillment.shipments import _set_picklist_status
from fulfillment.status import (
    PICKLIST_TRANSITIONS,
    REPLAY_TRANSITIONS,
    PickListStatus,
    ReplayStatus,
    ShipmentStatus,
    derive_picklist_status,
)
from oms.errors import TransitionNotAllowed
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db

P, R, S = PickListStatus, ReplayStatus, ShipmentStatus


@pytest.fixture
def world():
    sha = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai", latitude=31.23, longitude=121.47)
    stock(sha, ProductFactory(sku="SKU-A"), 10, bin="B-02")
    return {"sha": sha, "channel": ChannelFactory(slug="web")}


def _order(world, capture, external_id):
    with capture(execute=True):
        result = order_services.order_create(
            channel=world["channel"], data=canonical(external_id, lines=(("SKU-A", 1),)), source="test"
        )
    return result.order


# ---- pick lists ----------------------------------------------------------------------------------


def test_picklist_table():
    assert PICKLIST_TRANSITIONS == {P.OPEN: {P.PICKING, P.DONE}, P.PICKING: {P.DONE}, P.DONE: {P.PICKING}}


@pytest.mark.parametrize(
    ("current", "statuses", "expected"),
    [
        (P.OPEN, [S.PICKING, S.PICKING], P.OPEN),
        (P.OPEN, [S.PACKED, S.PICKING], P.PICKING),
        (P.OPEN, [S.PACKED, S.SHIPPED, S.CANCELLED], P.DONE),
        (P.OPEN, [S.CANCELLED], P.DONE),
        (P.OPEN, [], P.DONE),
        (P.PICKING, [S.PICKING, S.PICKING], P.PICKING),  # a packed shipment unpacked: never back to open
        (P.DONE, [S.PACKED, S.PICKING], P.PICKING),
        (P.DONE, [S.SHIPPED, S.DELIVERED], P.DONE),
    ],
)
def test_derive_picklist_status(current, statuses, expected):
    assert derive_picklist_status(current, statuses) == expected


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in P.values for b in P.values if a != b])
def test_picklist_door_walks_every_pair(world, source, target):
    picklist = PickList.objects.create(location=world["sha"], number="PL-W", status=source)
    if target in PICKLIST_TRANSITIONS[source]:
        _set_picklist_status(picklist, target)
        assert PickList.objects.get(pk=picklist.pk).status == target
    else:
        with pytest.raises(TransitionNotAllowed):
            _set_picklist_status(picklist, target)
        assert PickList.objects.get(pk=picklist.pk).status == source


def test_picklist_follows_pick_and_pack(world, django_capture_on_commit_callbacks):
    first = _order(world, django_capture_on_commit_callbacks, "E1")
    second = _order(world, django_capture_on_commit_callbacks, "E2")
    picklist = services.picklist_create(location=world["sha"])
    assert PickList.objects.get(pk=picklist.pk).status == P.OPEN

    services.shipment_pack(shipment=first.shipments.get(), weight_g=500)
    assert PickList.objects.get(pk=picklist.pk).status == P.PICKING

    services.shipment_pack(shipment=second.shipments.get(), weight_g=500)
    assert PickList.objects.get(pk=picklist.pk).status == P.DONE


def test_picklist_is_done_when_its_last_open_shipment_is_cancelled(world, django_capture_on_commit_callbacks):
    first = _order(world, django_capture_on_commit_callbacks, "E1")
    second = _order(world, django_capture_on_commit_callbacks, "E2")
    picklist = services.picklist_create(location=world["sha"])
    services.shipment_pack(shipment=first.shipments.get(), weight_g=500)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=second, reason="customer asked")

    shipment = second.shipments.get()
    assert (shipment.status, shipment.picklist_id, shipment.removed_from_picklist_id) == (
        S.CANCELLED,
        None,
        picklist.pk,
    )
    assert PickList.objects.get(pk=picklist.pk).status == P.DONE


# ---- routing replays -------------------------------------------------------------------------------


def test_replay_table():
    assert REPLAY_TRANSITIONS == {
        R.QUEUED: {R.RUNNING},
        R.RUNNING: {R.DONE, R.FAILED},
        R.DONE: set(),
        R.FAILED: {R.RUNNING},
    }


@pytest.fixture
def replay():
    policy = RoutingPolicy.objects.create(code="draft", name="Draft")
    today = timezone.localdate()
    return RoutingReplay.objects.create(policy=policy, period_start=today - timedelta(days=1), period_end=today)


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in R.values for b in R.values])
def test_replay_door_walks_every_pair(replay, source, target):
    RoutingReplay.objects.filter(pk=replay.pk).update(status=source, error="before")

    moved = _set_replay_status(replay.pk, target, error="after")

    row = RoutingReplay.objects.get(pk=replay.pk)
    if target in REPLAY_TRANSITIONS[source]:
        assert (moved, row.status, row.error) == (True, target, "after")
    else:
        assert (moved, row.status, row.error) == (False, source, "before")


@pytest.mark.parametrize("status", [R.RUNNING, R.DONE])
def test_replay_run_leaves_a_running_or_done_replay_alone(replay, status):
    RoutingReplay.objects.filter(pk=replay.pk).update(status=status, orders=7)

    routing.replay_run(replay_id=replay.pk)

    row = RoutingReplay.objects.get(pk=replay.pk)
    assert (row.status, row.orders, row.results, row.finished_at) == (status, 7, {}, None)


def test_replay_run_finishes_a_queued_replay(replay):
    routing.replay_run(replay_id=replay.pk)

    row = RoutingReplay.objects.get(pk=replay.pk)
    assert (row.status, row.orders, row.error) == (R.DONE, 0, "")
    assert row.finished_at is not None and set(row.results) >= {"policy", "baseline", "delta"}
