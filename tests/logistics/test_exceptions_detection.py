"""Each detection rule on a controlled clock: below the threshold nothing, above it one case, and a second
scan opens nothing more."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from logistics.cases import rules
from logistics.cases.services import case_resolve, playbook_save
from logistics.cases.types import ActionKind, CaseType
from logistics.models import CaseAction, ExceptionCase
from logistics.status import TrackingStatus
from orders.models import OrderEvent, OrderHold
from orders.services import order_create
from tests.factories import ChannelFactory, canonical
from tests.logistics.casework import T0, backdate, hours, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world(stock_qty=20)


def cases():
    return list(ExceptionCase.objects.order_by("pk").values_list("order__number", "type"))


def test_no_scan_after_the_threshold(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "N1")
    backdate(order, shipped=T0)

    assert rules.detect_no_scan(T0 + hours(47)) == []
    [finding] = rules.detect_no_scan(T0 + hours(49))
    assert (finding.case_type, finding.facts["hours"]) == (CaseType.NO_SCAN, 49.0)

    record(parcel_of(order), TrackingStatus.IN_TRANSIT, T0 + hours(10))
    assert rules.detect_no_scan(T0 + hours(57)) == []  # the scan restarts the clock
    assert [f.facts["hours"] for f in rules.detect_no_scan(T0 + hours(59))] == [49.0]


def test_scan_is_idempotent_one_open_case_per_order_and_type(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "N1")
    backdate(order, shipped=T0)

    first = rules.exceptions_scan(now=T0 + hours(49))
    again = rules.exceptions_scan(now=T0 + hours(60))

    assert first == {"found": 1, "opened": {CaseType.NO_SCAN: 1}, "closed": {}}
    assert again == {"found": 1, "opened": {}, "closed": {}}
    assert cases() == [(order.number, CaseType.NO_SCAN)]
    case = ExceptionCase.objects.get()
    assert (case.opened_at, case.due_at, case.severity) == (T0 + hours(49), T0 + hours(49 + 24), "medium")
    assert OrderEvent.objects.filter(order=order, data__case=case.number).count() == 1


def test_late_against_the_promise_date(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "L1", promise_date=date(2026, 11, 21))
    parcel = parcel_of(order)
    assert parcel.expected_delivery > date(2026, 11, 21)

    [finding] = rules.detect_late(T0)

    assert finding.case_type == CaseType.LATE
    assert finding.facts == {
        "tracking_number": parcel.tracking_number,
        "expected": parcel.expected_delivery.isoformat(),
        "promise": "2026-11-21",
    }


def test_late_when_the_expected_date_has_passed(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "L2")
    expected = parcel_of(order).expected_delivery
    assert rules.detect_late(timezone.now()) == []
    [finding] = rules.detect_late(timezone.now() + timedelta(days=(expected - timezone.localdate()).days + 1))
    assert finding.summary.endswith(f"expected {expected:%Y-%m-%d} has passed")


def test_late_case_tells_the_customer_proactively(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "L3", promise_date=date(2026, 11, 21))

    rules.exceptions_scan(now=T0)

    case = ExceptionCase.objects.get(type=CaseType.LATE)
    contact = CaseAction.objects.get(case=case, kind=ActionKind.CONTACT)
    assert contact.data["proactive"] is True
    assert contact.data["to"] == "li.lei@example.com"
    # Ship-to China, no language of the customer's own: Chinese (both languages: test_case_messages.py).
    assert (contact.data["language"], contact.data["subject"]) == ("zh-hans", f"您的订单 {order.number} 将晚些送达")
    assert contact.data["body"].startswith("Li，您好：")
    assert case.customer_notified_at == T0


@pytest.mark.parametrize(
    ("status", "carrier_status", "description", "case_type"),
    [
        (TrackingStatus.EXCEPTION, "kdniao/420", "收货地址不详细", CaseType.ADDRESS_PROBLEM),
        (TrackingStatus.EXCEPTION, "Exception/Exception_007", "", CaseType.ADDRESS_PROBLEM),
        (TrackingStatus.EXCEPTION, "Exception/Exception_012", "", CaseType.DAMAGED),
        (TrackingStatus.EXCEPTION, "kdniao/414", "", CaseType.DAMAGED),
        (TrackingStatus.EXCEPTION, "", "parcel damaged in transit", CaseType.DAMAGED),
        (TrackingStatus.EXCEPTION, "kdniao/404", "拒收", CaseType.RETURNED),
        (TrackingStatus.EXCEPTION, "kdniao/417", "配送延迟", CaseType.CARRIER_EXCEPTION),
        (TrackingStatus.FAILED_ATTEMPT, "AttemptFail/AttemptFail_001", "", CaseType.FAILED_ATTEMPT),
        (TrackingStatus.LOST, "Exception/Exception_013", "", CaseType.LOST),
        (TrackingStatus.RETURNED_TO_SENDER, "kdniao/406", "", CaseType.RETURNED),
    ],
)
def test_carrier_exception_statuses(
    w, django_capture_on_commit_callbacks, status, carrier_status, description, case_type
):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "E1")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.IN_TRANSIT, T0)
    assert rules.detect_carrier_status(T0) == []

    record(parcel, status, T0 + hours(5), description=description, carrier_status=carrier_status)

    [finding] = rules.detect_carrier_status(T0 + hours(6))
    assert (finding.case_type, finding.parcel, finding.facts["carrier_status"]) == (case_type, parcel, carrier_status)


def entered(order, status, at):
    """Move the status event that took the order (or its shipment) into ``status`` to ``at`` (precondition)."""
    assert OrderEvent.objects.filter(order=order, data__to=status).update(created_at=at) >= 1


def test_order_not_routed_in_time(w):
    order = order_create(channel=ChannelFactory(slug="web"), data=canonical("R1"), source="t").order  # routing not run
    backdate(order, created=T0)
    entered(order, "confirmed", T0)

    assert rules.detect_stuck(T0 + hours(3)) == []
    [finding] = rules.detect_stuck(T0 + hours(5))
    assert (finding.order, finding.case_type, finding.facts) == (
        order,
        CaseType.NOT_ROUTED,
        {"hours": 5.0, "since": T0.isoformat()},
    )


@pytest.mark.parametrize(
    ("stage", "case_type", "below", "above"),
    [
        ("allocated", CaseType.NOT_PICKED, 23, 25),
        ("picking", CaseType.NOT_SHIPPED, 47, 49),
        ("packed", CaseType.NOT_SHIPPED, 47, 49),
    ],
)
def test_shipment_stuck_in_a_stage(w, django_capture_on_commit_callbacks, stage, case_type, below, above):
    order = order_at(django_capture_on_commit_callbacks, stage, "S1")
    backdate(order, created=T0)
    if stage != "allocated":  # a shipment is born reserved; picking starts with an event
        entered(order, "picking", T0)

    assert rules.detect_stuck(T0 + hours(below)) == []
    [finding] = rules.detect_stuck(T0 + hours(above))
    assert (finding.case_type, finding.shipment, finding.facts["hours"]) == (
        case_type,
        order.shipments.get(),
        float(above),
    )


def test_backorder_ageing(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "created", "B1", qty=999)  # more than in stock
    hold = OrderHold.objects.get(order=order, reason="stock_short", released_at__isnull=True)
    OrderHold.objects.filter(pk=hold.pk).update(created_at=T0)

    assert rules.detect_backorders(T0 + hours(71)) == []
    [finding] = rules.detect_backorders(T0 + hours(73))
    assert (finding.order, finding.case_type, finding.facts) == (
        order,
        CaseType.BACKORDER,
        {"hold": hold.pk, "hours": 73.0},
    )


def test_a_staff_edited_threshold_changes_the_rule(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "N1")
    backdate(order, shipped=T0)
    playbook_save(
        case_type=CaseType.NO_SCAN,
        severity="high",
        due_hours=4,
        threshold_hours=12,
        steps="Call them.",
        notify_customer=False,
        customer_subject="",
        customer_body="",
    )

    rules.exceptions_scan(now=T0 + hours(13))

    case = ExceptionCase.objects.get()
    assert (case.type, case.severity, case.due_at) == (CaseType.NO_SCAN, "high", T0 + hours(17))


def test_resolved_case_lets_a_new_one_open(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "N1")
    backdate(order, shipped=T0)
    rules.exceptions_scan(now=T0 + hours(49))
    case_resolve(
        case=ExceptionCase.objects.get(), root_cause="carrier", resolution="carrier scanned it", now=T0 + hours(50)
    )

    assert rules.exceptions_scan(now=T0 + hours(51)) == {"found": 1, "opened": {CaseType.NO_SCAN: 1}, "closed": {}}
    assert list(ExceptionCase.objects.order_by("pk").values_list("status", flat=True)) == ["resolved", "open"]
