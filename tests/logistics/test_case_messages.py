"""Playbook messages to customers: in the customer's language (English, Chinese), and one message per problem
whichever comes first, the automatic tracking notice or the playbook's proactive message."""

from datetime import date

import pytest

from logistics.cases import rules
from logistics.cases import services as cases
from logistics.cases.types import ActionKind, CaseType
from logistics.models import CaseAction, ExceptionCase
from logistics.status import TrackingStatus
from oms import outbox
from oms.models import OutboxMessage
from orders.care import notifications
from orders.models import Customer, Notification
from tests.factories import make_user
from tests.logistics.casework import T0, hours, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return world(stock_qty=20)


def recorded(capture, parcel, status, when, **kw):
    """A scan whose after-commit work (the automatic notices) runs, as in production."""
    with capture(execute=True):
        record(parcel, status, when, **kw)


def contact_of(case):
    return CaseAction.objects.get(case=case, kind=ActionKind.CONTACT)


# ---- 5. the customer's language ---------------------------------------------------------------------------------


def test_playbook_message_is_chinese_for_a_chinese_customer(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "M1", promise_date=date(2026, 11, 21))
    parcel = parcel_of(order)
    with django_capture_on_commit_callbacks(execute=True):
        rules.exceptions_scan(now=T0)

    contact = contact_of(ExceptionCase.objects.get(type=CaseType.LATE))
    assert contact.data["language"] == "zh-hans"
    assert contact.data["subject"] == f"您的订单 {order.number} 将晚些送达"
    assert contact.data["body"].startswith("Li，您好：\n\n您的包裹正在途中")
    assert f"现在预计 {parcel.expected_delivery:%Y-%m-%d} 送达" in contact.data["body"]
    message = Notification.objects.get(pk=contact.data["queued"])
    assert (message.kind, message.language, message.subject, message.status) == (
        "message",
        "zh-hans",
        f"您的订单 {order.number} 将晚些送达",
        "sent",
    )
    assert "查看订单" in message.body_text  # the outbox layout speaks Chinese too


def test_playbook_message_is_english_for_an_english_customer(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "M2", promise_date=date(2026, 11, 21))
    Customer.objects.filter(pk=order.customer_id).update(language="en")  # ship-to China, but reads English
    with django_capture_on_commit_callbacks(execute=True):
        rules.exceptions_scan(now=T0)

    contact = contact_of(ExceptionCase.objects.get(type=CaseType.LATE))
    assert (contact.data["language"], contact.data["subject"]) == ("en", f"Your order {order.number} is running late")
    assert contact.data["body"].startswith("Dear Li,\n\nyour parcel is on its way")
    message = Notification.objects.get(pk=contact.data["queued"])
    assert (message.language, message.subject) == ("en", f"Your order {order.number} is running late")
    assert "See your order" in message.body_text


def test_an_english_customer_gets_the_english_page_text(client, w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "M3")
    Customer.objects.filter(pk=order.customer_id).update(language="en")
    case, _ = cases.case_open(order=order, case_type=CaseType.LOST, summary="lost", parcel=parcel_of(order), now=T0)
    assert contact_of(case).data["subject"] == f"Your order {order.number}: we are sending it again"
    client.force_login(make_user("cs", "customer_service"))
    page = client.get(f"/logistics/cases/{case.number}/")
    assert f"Your order {order.number}: we are sending it again".encode() in page.content
    assert b"In English, the customer's language." in page.content


def test_a_staff_edited_chinese_text_is_used(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "M4")
    book = cases.playbook_for(CaseType.LOST)
    cases.playbook_save(
        case_type=CaseType.LOST,
        severity=book.severity,
        due_hours=book.due_hours,
        threshold_hours=0,
        steps=book.steps,
        notify_customer=True,
        customer_subject=book.customer_subject,
        customer_body=book.customer_body,
        customer_subject_zh="订单 {order_number} 重新发货",
        customer_body_zh="{first_name}，您好：包裹 {tracking_number} 丢失了。",
    )
    case, _ = cases.case_open(order=order, case_type=CaseType.LOST, summary="lost", parcel=parcel_of(order), now=T0)
    contact = contact_of(case)
    assert (contact.data["subject"], contact.data["body"]) == (
        f"订单 {order.number} 重新发货",
        f"Li，您好：包裹 {parcel_of(order).tracking_number} 丢失了。",
    )


def test_case_page_offers_the_contact_text_in_the_customers_language(client, w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "M5")
    case, _ = cases.case_open(order=order, case_type=CaseType.DAMAGED, summary="box", parcel=parcel_of(order), now=T0)
    client.force_login(make_user("cs", "customer_service"))
    page = client.get(f"/logistics/cases/{case.number}/")
    assert page.status_code == 200
    assert f"关于订单 {order.number} 的破损包裹".encode() in page.content
    assert b"In Chinese, the customer's language." in page.content


# ---- 3. one problem, one message --------------------------------------------------------------------------------


def test_the_scan_opens_the_case_and_its_one_message_the_notice_adds_nothing(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D1")
    parcel = parcel_of(order)
    recorded(django_capture_on_commit_callbacks, parcel, TrackingStatus.FAILED_ATTEMPT, T0, now=T0)

    case = ExceptionCase.objects.get(type=CaseType.FAILED_ATTEMPT)  # opened by the scan itself, not the schedule
    contact = contact_of(case)
    assert contact.data["problem"] == f"{parcel.tracking_number}:failed_attempt"
    [message] = order.notifications.exclude(kind__in=["confirmed", "shipped"])  # the tracking notice: deduplicated
    assert (message.pk, message.kind) == (contact.data["queued"], "message")
    with django_capture_on_commit_callbacks(execute=True):
        assert rules.exceptions_scan(now=T0 + hours(1))["opened"] == {}
    assert order.notifications.exclude(kind__in=["confirmed", "shipped"]).count() == 1


def test_case_first_then_the_tracking_notice_sends_nothing_more(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D2")
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.LOST, T0, carrier_status="Exception/Exception_013")  # its notice not sent yet
    with django_capture_on_commit_callbacks(execute=True):
        rules.exceptions_scan(now=T0 + hours(1))
    case = ExceptionCase.objects.get(type=CaseType.LOST)
    message = Notification.objects.get(pk=contact_of(case).data["queued"])
    assert message.kind == "message"

    # The tracking event's outbox row (written with the scan, not sent yet) is sent now: it finds the message.
    assert OutboxMessage.objects.filter(kind="notification", payload__event__isnull=False, status="pending").exists()
    outbox.outbox_dispatch()

    assert list(order.notifications.exclude(kind__in=["confirmed", "shipped"]).values_list("pk", flat=True)) == [
        message.pk
    ]


def test_a_delay_notice_and_the_late_case_are_one_message(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D3", promise_date=date(2026, 11, 21))
    parcel = parcel_of(order)
    with django_capture_on_commit_callbacks(execute=True):
        notice = notifications.notify(
            order=order,
            kind="delayed",
            context={"tracking_number": parcel.tracking_number, "expected": parcel.expected_delivery},
            problem=notifications.problem_key(parcel.tracking_number, f"late:{parcel.expected_delivery.isoformat()}"),
        )
        rules.exceptions_scan(now=T0)

    contact = contact_of(ExceptionCase.objects.get(type=CaseType.LATE))
    assert contact.data["already_told"] == notice.pk
    assert order.notifications.filter(kind__in=["delayed", "message"]).count() == 1


def test_different_problems_are_different_messages(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D4")
    parcel = parcel_of(order)
    recorded(django_capture_on_commit_callbacks, parcel, TrackingStatus.FAILED_ATTEMPT, T0)
    recorded(django_capture_on_commit_callbacks, parcel, TrackingStatus.LOST, T0 + hours(50))
    with django_capture_on_commit_callbacks(execute=True):
        rules.exceptions_scan(now=T0 + hours(51))
    # two problems, two messages (each case's own, sent when its scan arrived); the schedule adds nothing
    problems = order.notifications.exclude(kind__in=["confirmed", "shipped"]).values_list("context__problem_key")
    assert sorted(p for (p,) in problems) == [
        f"{parcel.tracking_number}:failed_attempt",
        f"{parcel.tracking_number}:lost",
    ]


def test_staff_contact_is_never_deduplicated_away(w, django_capture_on_commit_callbacks):
    order = order_at(django_capture_on_commit_callbacks, "shipped", "D5")
    parcel = parcel_of(order)
    recorded(django_capture_on_commit_callbacks, parcel, TrackingStatus.FAILED_ATTEMPT, T0)
    case, _ = cases.case_open(order=order, case_type=CaseType.FAILED_ATTEMPT, summary="x", parcel=parcel, now=T0)
    action = cases.case_contact_customer(case=case, subject="Saturday?", body="Can we deliver on Saturday?", now=T0)
    assert Notification.objects.get(pk=action.data["queued"]).subject == "Saturday?"
