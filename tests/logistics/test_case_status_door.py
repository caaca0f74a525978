"""ExceptionCase.status has one door (``logistics.cases.core.case_status_set``): every pair of statuses is
walked through it on a real case, allowed moves land with their history row, refused ones change nothing."""

import pytest
from django.db import transaction

from logistics.cases import services as cases
from logistics.cases.core import case_lock, case_status_set
from logistics.cases.types import CASE_TRANSITIONS, ActionKind, CaseStatus, CaseType
from logistics.models import CaseAction, ExceptionCase
from logistics.status import TrackingStatus
from oms.errors import TransitionNotAllowed
from orders.models import OrderEvent
from tests.logistics.casework import T0, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db

PAIRS = [(a, b) for a in CaseStatus.values for b in CaseStatus.values if a != b]


@pytest.fixture
def case(django_capture_on_commit_callbacks):
    world(stock_qty=10)
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D1")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.LOST, T0, carrier_status="Exception/Exception_013", now=T0)
    case, _ = cases.case_open(order=order, case_type=CaseType.LOST, summary="lost", parcel=parcel, now=T0)
    return case


def test_the_table_allows_every_open_move_and_nothing_out_of_resolved():
    open_ = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS, CaseStatus.WAITING_CARRIER, CaseStatus.WAITING_CUSTOMER]
    expected = {s: frozenset({*open_, CaseStatus.RESOLVED} - {s}) for s in open_} | {CaseStatus.RESOLVED: frozenset()}
    assert CASE_TRANSITIONS == expected


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_door_walks_every_pair(case, source, target):
    ExceptionCase.objects.filter(pk=case.pk).update(status=source)
    actions, events = CaseAction.objects.count(), OrderEvent.objects.count()

    if target in CASE_TRANSITIONS[source]:
        with transaction.atomic():
            old = case_status_set(case_lock(case), target, note="walk")
        assert old == source
        assert ExceptionCase.objects.get(pk=case.pk).status == target
        last = CaseAction.objects.order_by("pk").last()
        assert (last.kind, last.note, last.data) == (ActionKind.STATUS, "walk", {"from": source, "to": target})
        assert (CaseAction.objects.count(), OrderEvent.objects.count()) == (actions + 1, events + 1)
    else:
        with pytest.raises(TransitionNotAllowed), transaction.atomic():
            case_status_set(case_lock(case), target, note="walk")
        assert ExceptionCase.objects.get(pk=case.pk).status == source
        assert (CaseAction.objects.count(), OrderEvent.objects.count()) == (actions, events)


def test_door_without_record_writes_no_history_and_same_status_is_a_no_op(case):
    actions = CaseAction.objects.count()
    with transaction.atomic():
        locked = case_lock(case)
        assert case_status_set(locked, CaseStatus.WAITING_CARRIER, record=False) == CaseStatus.OPEN
        assert case_status_set(locked, CaseStatus.WAITING_CARRIER) == CaseStatus.WAITING_CARRIER
    assert ExceptionCase.objects.get(pk=case.pk).status == CaseStatus.WAITING_CARRIER
    assert CaseAction.objects.count() == actions
