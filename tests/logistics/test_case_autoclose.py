"""Cases close by themselves when the problem clears; stage timers count from entering the stage; backorders
age into cases. All on a controlled clock (``now=``); states are reached through the services, only timestamps
are moved by hand."""

from datetime import date

import pytest

from fulfillment import services as fulfillment_services
from fulfillment.models import Backorder
from logistics.cases import rules
from logistics.cases import services as cases
from logistics.cases.types import ActionKind, CaseStatus, CaseType, RootCause
from logistics.models import CaseAction, ExceptionCase
from logistics.status import TrackingStatus
from orders.models import OrderEvent, OrderHold
from orders.services import order_create, order_hold, order_release
from tests.factories import ChannelFactory, canonical, make_user
from tests.logistics.casework import T0, backdate, hours, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world(stock_qty=20)


def entered(order, status, at):
    """Move the status event(s) that took the order or its shipment into ``status`` to ``at`` (precondition)."""
    assert OrderEvent.objects.filter(order=order, data__to=status).update(created_at=at) >= 1


def the_case(case_type):
    return ExceptionCase.objects.get(type=case_type)


def assert_cleared(case, *, at, hours_taken, detail):
    case.refresh_from_db()
    assert (case.status, case.root_cause, case.resolved_at, case.resolution_hours) == (
        CaseStatus.RESOLVED,
        RootCause.CLEARED,
        at,
        hours_taken,
    )
    assert case.resolution.startswith("Cleared by itself: ") and detail in case.resolution
    action = CaseAction.objects.get(case=case, kind=ActionKind.RESOLVE)
    assert (action.data["root_cause"], action.data["auto"], action.data["hours"]) == ("cleared", True, hours_taken)
    event = OrderEvent.objects.get(order=case.order, data__case=case.number, data__auto=True)
    assert event.message == f"Case {case.number}: closed by itself after {hours_taken} h — {case.resolution[19:]}"


# ---- 1. auto-close ---------------------------------------------------------------------------------------------


def test_no_scan_case_closes_when_a_scan_arrives(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "A1")
    backdate(order, shipped=T0)
    assert rules.exceptions_scan(now=T0 + hours(49))["opened"] == {CaseType.NO_SCAN: 1}
    case = the_case(CaseType.NO_SCAN)

    assert rules.exceptions_scan(now=T0 + hours(50))["closed"] == {}  # still no scan: stays open
    record(parcel_of(order), TrackingStatus.IN_TRANSIT, T0 + hours(50))
    result = rules.exceptions_scan(now=T0 + hours(51))

    assert result == {"found": 0, "opened": {}, "closed": {CaseType.NO_SCAN: 1}}
    assert_cleared(case, at=T0 + hours(51), hours_taken=2.0, detail=f"parcel {parcel_of(order).tracking_number} is")
    assert rules.exceptions_scan(now=T0 + hours(52))["closed"] == {}  # closing is done once


def test_late_case_closes_when_delivered(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "A2", promise_date=date(2026, 11, 21))
    rules.exceptions_scan(now=T0)
    case = the_case(CaseType.LATE)

    record(parcel_of(order), TrackingStatus.DELIVERED, T0 + hours(5))
    assert rules.exceptions_scan(now=T0 + hours(6))["closed"] == {CaseType.LATE: 1}
    assert_cleared(case, at=T0 + hours(6), hours_taken=6.0, detail="delivered")


def test_failed_attempt_case_closes_when_the_parcel_moves_on(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "A3")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.FAILED_ATTEMPT, T0, now=T0)  # the scan opens the case at once
    case = the_case(CaseType.FAILED_ATTEMPT)
    assert case.opened_at == T0
    assert rules.exceptions_scan(now=T0 + hours(1))["opened"] == {}  # one problem, one case

    record(parcel, TrackingStatus.DELIVERED, T0 + hours(20))
    assert rules.exceptions_scan(now=T0 + hours(21))["closed"] == {CaseType.FAILED_ATTEMPT: 1}
    assert_cleared(case, at=T0 + hours(21), hours_taken=21.0, detail="delivered")


def test_not_picked_case_closes_when_picked(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "allocated", "A4")
    backdate(order, created=T0)
    rules.exceptions_scan(now=T0 + hours(25))
    case = the_case(CaseType.NOT_PICKED)

    fulfillment_services.picklist_create(location=w["location"])
    entered(order, "picking", T0 + hours(26))
    assert rules.exceptions_scan(now=T0 + hours(27))["closed"] == {CaseType.NOT_PICKED: 1}
    assert_cleared(case, at=T0 + hours(27), hours_taken=2.0, detail=f"shipment {order.shipments.get().number} is")
    assert not ExceptionCase.objects.filter(type=CaseType.NOT_SHIPPED).exists()  # picking for 1 h only


def test_damaged_goods_person_cases_and_open_claims_stay_open(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "A5")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.EXCEPTION, T0, description="parcel damaged", carrier_status="kdniao/414")
    rules.exceptions_scan(now=T0 + hours(1))
    damaged = the_case(CaseType.DAMAGED)
    by_hand, _ = cases.case_open(
        order=order, case_type=CaseType.LATE, summary="customer called", detected_by="person", now=T0
    )
    lost, _ = cases.case_open(order=order, case_type=CaseType.LOST, summary="lost?", parcel=parcel, now=T0)
    cases.case_claim_file(case=lost, amount="10", evidence="no scans for a week", now=T0)

    record(parcel, TrackingStatus.DELIVERED, T0 + hours(30))
    assert rules.exceptions_scan(now=T0 + hours(31))["closed"] == {}
    assert set(ExceptionCase.objects.values_list("number", "status")) == {
        (damaged.number, CaseStatus.OPEN),
        (by_hand.number, CaseStatus.OPEN),
        (lost.number, CaseStatus.WAITING_CARRIER),
    }


# ---- 2. stage timers count from entering the stage ------------------------------------------------------------


def test_not_shipped_counts_from_when_picking_started(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "picking", "T1")
    backdate(order, created=T0)  # reserved at T0 ...
    entered(order, "picking", T0 + hours(30))  # ... picking from T0 + 30 h

    assert rules.detect_stuck(T0 + hours(49)) == []  # 49 h since creation, only 19 h in picking
    assert rules.detect_stuck(T0 + hours(77)) == []
    [finding] = rules.detect_stuck(T0 + hours(79))
    assert (finding.case_type, finding.facts["hours"], finding.facts["since"]) == (
        CaseType.NOT_SHIPPED,
        49.0,
        (T0 + hours(30)).isoformat(),
    )


def test_packing_does_not_restart_the_not_shipped_clock(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "packed", "T2")
    backdate(order, created=T0)
    entered(order, "picking", T0 + hours(1))
    entered(order, "packed", T0 + hours(40))

    [finding] = rules.detect_stuck(T0 + hours(50))
    assert (finding.case_type, finding.facts["hours"]) == (CaseType.NOT_SHIPPED, 49.0)


def test_not_routed_counts_from_confirmation_and_the_last_released_hold(w):
    order = order_create(channel=ChannelFactory(slug="web"), data=canonical("T3"), source="t").order  # not routed
    backdate(order, created=T0)
    entered(order, "confirmed", T0 + hours(2))
    assert [f.facts["hours"] for f in rules.detect_stuck(T0 + hours(7))] == [5.0]

    order_hold(order=order, reason="manual", note="check")
    order_release(order=order, note="ok")
    OrderHold.objects.filter(order=order).update(released_at=T0 + hours(10))
    order.refresh_from_db()
    assert order.status == "confirmed" and not order.on_hold

    assert rules.detect_stuck(T0 + hours(13)) == []  # routable again only since T0 + 10 h
    [finding] = rules.detect_stuck(T0 + hours(15))
    assert (finding.case_type, finding.facts) == (
        CaseType.NOT_ROUTED,
        {"hours": 5.0, "since": (T0 + hours(10)).isoformat()},
    )


# ---- 6. backorders ageing ---------------------------------------------------------------------------------------


def backorder(order, qty, at):
    line = order.lines.get()
    row = Backorder.objects.create(order=order, order_line=line, product=line.product, quantity=qty)
    Backorder.objects.filter(pk=row.pk).update(created_at=at)
    return row


def test_an_open_backorder_ages_into_a_case_and_the_case_closes_when_resolved(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "allocated", "B1", qty=3)
    row = backorder(order, 2, T0)  # what routing with "ship what is available" leaves behind

    assert rules.detect_backorders(T0 + hours(71)) == []
    [finding] = rules.detect_backorders(T0 + hours(73))
    assert (finding.order, finding.case_type, finding.facts) == (
        order,
        CaseType.BACKORDER,
        {"backorders": [row.pk], "skus": ["SKU-A x2"], "hours": 73.0},
    )
    assert finding.summary == "backordered for 73.0 h: SKU-A x2"

    rules.exceptions_scan(now=T0 + hours(73))
    case = the_case(CaseType.BACKORDER)
    rules.exceptions_scan(now=T0 + hours(80))
    case.refresh_from_db()
    assert case.is_open

    Backorder.objects.filter(pk=row.pk).update(resolved_at=T0 + hours(90))
    assert rules.exceptions_scan(now=T0 + hours(91))["closed"] == {CaseType.BACKORDER: 1}
    assert_cleared(case, at=T0 + hours(91), hours_taken=18.0, detail="no open backorder")


def test_backorder_threshold_is_the_playbook_threshold(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "allocated", "B2", qty=3)
    backorder(order, 1, T0)
    cases.playbook_save(
        case_type=CaseType.BACKORDER,
        severity="high",
        due_hours=8,
        threshold_hours=24,  # one day instead of three
        steps="Call the supplier.",
        notify_customer=False,
        customer_subject="",
        customer_body="",
    )
    assert rules.detect_backorders(T0 + hours(23)) == []
    assert [f.facts["hours"] for f in rules.detect_backorders(T0 + hours(25))] == [25.0]


def test_a_resolved_or_cancelled_backorder_raises_nothing(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "allocated", "B3", qty=3)
    row = backorder(order, 2, T0)
    Backorder.objects.filter(pk=row.pk).update(resolved_at=T0 + hours(1))
    assert rules.detect_backorders(T0 + hours(100)) == []


def test_the_scan_button_reports_cleared_cases(client, w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "V1")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.FAILED_ATTEMPT, T0)
    rules.exceptions_scan(now=T0)
    record(parcel, TrackingStatus.DELIVERED, T0 + hours(3))
    client.force_login(make_user("cs", "customer_service"))

    page = client.post("/logistics/cases/scan/", follow=True)

    assert page.status_code == 200
    assert b"0 new case(s), 1 cleared by itself." in page.content
    assert ExceptionCase.objects.get().root_cause == RootCause.CLEARED
