"""The case queue, the case page and its POST actions, the order panel and the knowledge base pages."""

from decimal import Decimal

import pytest

from logistics.cases import services as cases
from logistics.cases.types import ActionKind, CaseType
from logistics.models import CaseAction, ExceptionCase, Playbook
from logistics.status import TrackingStatus
from tests.factories import make_user
from tests.logistics.casework import T0, order_at, parcel_of, record, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(django_capture_on_commit_callbacks):
    world()
    order = order_at(django_capture_on_commit_callbacks, "shipped", "V1", qty=2)
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.EXCEPTION, T0, description="box crushed", carrier_status="kdniao/414", now=T0)
    case, created = cases.case_open(order=order, case_type=CaseType.DAMAGED, summary="x", parcel=parcel, now=T0)
    assert not created  # the scan opened it
    return case


@pytest.fixture
def cs(client):
    client.force_login(make_user("cs", "customer_service"))
    return client


def test_queue_lists_open_cases_and_filters(cs, case):
    page = cs.get("/logistics/cases/")
    assert page.status_code == 200
    assert case.number.encode() in page.content
    assert b"box crushed" in page.content
    assert case.number.encode() not in cs.get("/logistics/cases/?state=resolved").content
    assert case.number.encode() in cs.get(f"/logistics/cases/?q={case.order.number}").content


def test_warehouse_cannot_see_cases(client, case):
    client.force_login(make_user("wh", "warehouse"))
    assert client.get("/logistics/cases/").status_code == 403
    assert client.get(f"/logistics/cases/{case.number}/").status_code == 403


def test_case_page_shows_the_playbook_and_its_actions(cs, case):
    page = cs.get(f"/logistics/cases/{case.number}/")
    assert page.status_code == 200
    for text in (b"Ask the customer for photos.", b"Reship", b"Carrier claim", b"Record refund", b"Resolve case"):
        assert text in page.content
    assert b"Correct the address" not in page.content  # not in the damaged playbook


def test_refund_post_records_and_a_bad_amount_is_a_message_not_a_500(cs, case):
    ok = cs.post(f"/logistics/cases/{case.number}/refund/", {"amount": "10.00", "reason": "one broken"}, follow=True)
    assert ok.status_code == 200
    assert b"Refund recorded." in ok.content
    too_much = cs.post(f"/logistics/cases/{case.number}/refund/", {"amount": "999", "reason": ""}, follow=True)
    assert too_much.status_code == 200
    assert b"more than the order&#x27;s total" in too_much.content
    assert list(CaseAction.objects.filter(kind=ActionKind.REFUND).values_list("amount", flat=True)) == [
        Decimal("10.00")
    ]


def test_reship_and_resolve_posts(cs, case):
    reship = cs.post(f"/logistics/cases/{case.number}/reship/", {"reason": "replace"}, follow=True)
    assert b"created at sha; stock reserved" in reship.content
    cs.post(f"/logistics/cases/{case.number}/resolve/", {"root_cause": "carrier", "resolution": "replaced"})
    case.refresh_from_db()
    assert (case.status, case.root_cause) == ("resolved", "carrier")


def test_actions_need_manage_permission(client, case):
    client.force_login(make_user("wh", "warehouse"))
    assert client.post(f"/logistics/cases/{case.number}/refund/", {"amount": "1"}).status_code == 403
    assert not CaseAction.objects.filter(kind=ActionKind.REFUND).exists()


def test_order_page_shows_its_cases_and_opens_one(cs, case):
    page = cs.get(f"/orders/{case.order.number}/")
    assert case.number.encode() in page.content
    response = cs.post(f"/logistics/cases/open/{case.order.number}/", {"case_type": "late", "summary": "customer asks"})
    opened = ExceptionCase.objects.get(type="late")
    assert response.url == f"/logistics/cases/{opened.number}/"
    assert opened.detected_by == "person"


def test_knowledge_base_figures_and_editing(client, case):
    cases.case_resolve(case=case, root_cause="carrier", resolution="replaced", now=T0.replace(hour=8))
    client.force_login(make_user("cs", "customer_service"))
    page = client.get("/logistics/playbooks/")
    assert page.status_code == 200
    assert b"Local Express (1)" in page.content and b"sha (1)" in page.content
    assert (
        client.post("/logistics/playbooks/damaged/", {"severity": "low", "due_hours": 1, "steps": "x"}).status_code
        == 403
    )

    client.force_login(make_user("mgr", "manager"))
    client.post(
        "/logistics/playbooks/damaged/",
        {
            "severity": "high",
            "due_hours": 12,
            "threshold_hours": 0,
            "steps": "1. Photos.\n2. Reship.",
            "customer_subject": "",
            "customer_body": "",
        },
    )
    row = Playbook.objects.get(type="damaged")
    assert (row.severity, row.due_hours, row.steps, row.notify_customer) == (
        "high",
        12,
        "1. Photos.\n2. Reship.",
        False,
    )
    detail = client.get("/logistics/playbooks/damaged/")
    assert b"6.0 h on average" in detail.content
