"""ReturnRequest.status has one door (``orders.care.returns._set_return_status``): every pair of statuses is walked
through it on a real return; an allowed move lands with its event, a refused one changes nothing."""

import pytest
from django.db import transaction

from oms.errors import TransitionNotAllowed
from orders.care import returns
from orders.models import OrderEvent, ReturnRequest
from orders.status import RETURN_TRANSITIONS, EventKind, ReturnStatus
from tests.orders import care

pytestmark = pytest.mark.django_db

R = ReturnStatus


def test_the_table():
    assert RETURN_TRANSITIONS == {
        R.REQUESTED: {R.RECEIVED, R.REFUNDED, R.EXCHANGED, R.CANCELLED},
        R.RECEIVED: {R.REFUNDED, R.EXCHANGED},
        R.REFUNDED: set(),
        R.EXCHANGED: set(),
        R.CANCELLED: set(),
    }


@pytest.fixture
def ret(django_capture_on_commit_callbacks):
    order = care.delivered(django_capture_on_commit_callbacks, external_id="RD1")
    line = order.lines.get()
    return returns.return_create(order=order, lines={line.pk: 1}, reason="damaged")


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in R.values for b in R.values])
def test_door_walks_every_pair(ret, source, target):
    ReturnRequest.objects.filter(pk=ret.pk).update(status=source)
    events = OrderEvent.objects.filter(order=ret.order_id).count()

    def move():
        with transaction.atomic():
            order, locked = returns._lock_return(ret)
            returns._set_return_status(order, locked, target, "walked")

    if target in RETURN_TRANSITIONS[source]:
        move()
        assert ReturnRequest.objects.get(pk=ret.pk).status == target
        event = OrderEvent.objects.filter(order=ret.order_id).latest("pk")
        assert (event.kind, event.message, event.data) == (
            EventKind.RETURN,
            f"Return {ret.number}: walked",
            {"return": ret.number, "step": target},
        )
    else:
        with pytest.raises(TransitionNotAllowed):
            move()
        assert ReturnRequest.objects.get(pk=ret.pk).status == source
        assert OrderEvent.objects.filter(order=ret.order_id).count() == events
