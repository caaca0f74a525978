"""Exception cases and each playbook action, with the real services; negative tests assert nothing changed."""

from decimal import Decimal

import pytest

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory.models import Stock
from logistics.cases import services as cases
from logistics.cases.types import ActionKind, CaseStatus, CaseType, ClaimStatus
from logistics.models import CarrierClaim, CaseAction, ExceptionCase
from logistics.status import TrackingStatus
from oms.errors import DomainError, TransitionNotAllowed
from orders.intake.canonical import CanonicalAddress
from orders.models import OrderEvent
from tests.factories import make_user
from tests.logistics.casework import T0, hours, order_at, parcel_of, record, world
from workflows.cases import case_address_correct

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost(django_capture_on_commit_callbacks):
    """A shipped order (2 x SKU-A, total 20.00) whose parcel the carrier lost, and its case."""
    w = world(stock_qty=10)
    order = order_at(django_capture_on_commit_callbacks, "shipped", "C1", qty=2)
    parcel = parcel_of(order)
    record(parcel, TrackingStatus.LOST, T0, carrier_status="Exception/Exception_013", now=T0)  # opens the case
    case, created = cases.case_open(order=order, case_type=CaseType.LOST, summary="lost", parcel=parcel, now=T0)
    assert not created
    return {"case": case, "order": order, "parcel": parcel, **w}


def snapshot(order):
    return (
        list(Shipment.objects.filter(order=order).values_list("number", "status")),
        list(Stock.objects.values_list("on_hand", "reserved")),
        list(CaseAction.objects.values_list("kind", "amount")),
        CarrierClaim.objects.count(),
        OrderEvent.objects.filter(order=order).count(),
    )


def test_open_sets_number_severity_due_and_the_timeline(lost):
    case = lost["case"]
    assert case.number == f"EC{100000 + case.pk}"
    assert (case.severity, case.due_at, case.status) == ("critical", T0 + hours(24), CaseStatus.OPEN)
    assert (case.carrier, case.location) == (lost["parcel"].service.carrier, lost["location"])
    again, created = cases.case_open(order=lost["order"], case_type=CaseType.LOST, summary="x", now=T0 + hours(1))
    assert (again, created) == (case, False)
    assert (
        OrderEvent.objects.filter(order=lost["order"], data__case=case.number)
        .first()
        .message.startswith(f"Case {case.number}: opened — Lost: {lost['parcel'].tracking_number}: Lost")
    )


def test_reship_creates_a_reserved_shipment_with_stock(lost):
    before = Stock.objects.get(location=lost["location"], product=lost["product"])

    shipment = cases.case_reship(case=lost["case"], reason="carrier lost it")

    assert (shipment.status, shipment.location) == (ShipmentStatus.RESERVED, lost["location"])
    assert list(shipment.lines.values_list("quantity", flat=True)) == [2]
    after = Stock.objects.get(pk=before.pk)
    assert (after.on_hand, after.reserved) == (before.on_hand, before.reserved + 2)
    action = CaseAction.objects.get(case=lost["case"], kind=ActionKind.RESHIP)
    assert action.data == {"shipment": shipment.number, "lines": [{"line": 1, "quantity": 2}]}
    event = OrderEvent.objects.filter(order=lost["order"], data__reship=True).get()
    assert event.message == (
        f"Reship {shipment.number} from Shanghai DC: SKU-A x2. Reason: case {lost['case'].number}: carrier lost it"
    )


def test_reship_without_stock_is_refused_and_changes_nothing(lost):
    Stock.objects.update(on_hand=1)  # a count found only one left (precondition)
    before = snapshot(lost["order"])
    with pytest.raises(DomainError, match="No location has the stock"):
        cases.case_reship(case=lost["case"], reason="again")
    assert snapshot(lost["order"]) == before


def test_refund_is_recorded_and_never_exceeds_the_total(lost):
    cases.case_refund(case=lost["case"], amount="15.00", reason="goodwill")
    before = snapshot(lost["order"])

    with pytest.raises(DomainError, match="more than the order's total"):
        cases.case_refund(case=lost["case"], amount="5.01", reason="again")
    with pytest.raises(DomainError, match="must be more than 0"):
        cases.case_refund(case=lost["case"], amount="0", reason="zero")

    assert snapshot(lost["order"]) == before
    assert cases.refunded_total(lost["order"]) == Decimal("15.00")


def test_claim_is_filed_then_accepted_and_paid(lost):
    claim = cases.case_claim_file(
        case=lost["case"], amount="20", evidence="scan history; carrier ref 123", carrier_reference="CLM-9", now=T0
    )
    lost["case"].refresh_from_db()
    assert (claim.status, claim.amount, claim.carrier, claim.parcel) == (
        ClaimStatus.FILED,
        Decimal("20.00"),
        lost["parcel"].service.carrier,
        lost["parcel"],
    )
    assert lost["case"].status == CaseStatus.WAITING_CARRIER

    cases.case_claim_update(claim=claim, status=ClaimStatus.ACCEPTED)
    cases.case_claim_update(claim=claim, status=ClaimStatus.PAID, settled_amount="18.50")
    claim.refresh_from_db()
    assert (claim.status, claim.settled_amount) == (ClaimStatus.PAID, Decimal("18.50"))

    with pytest.raises(TransitionNotAllowed):
        cases.case_claim_update(claim=claim, status=ClaimStatus.REJECTED)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID


def test_claim_needs_evidence(lost):
    before = snapshot(lost["order"])
    with pytest.raises(DomainError, match="needs evidence"):
        cases.case_claim_file(case=lost["case"], amount="20", evidence=" ")
    assert snapshot(lost["order"]) == before


def test_compensation_voucher_gets_a_code(lost):
    action = cases.case_compensate(case=lost["case"], amount="10", form="voucher", note="sorry")
    assert action.data["form"] == "voucher"
    assert action.data["code"].startswith("VC-") and len(action.data["code"]) == 11
    credit = cases.case_compensate(case=lost["case"], amount="5", form="credit")
    assert (credit.amount, credit.data["code"]) == (Decimal("5.00"), "")


def test_address_correction_after_shipping_goes_to_the_carrier_not_the_order(lost):
    action = case_address_correct(case=lost["case"], address=CanonicalAddress(address1="89 Century Avenue"))
    lost["order"].refresh_from_db()
    assert lost["order"].ship_address1 == "88 Century Avenue"
    assert action.data == {"applied_to": "carrier", "changes": {"address1": ["88 Century Avenue", "89 Century Avenue"]}}


def test_address_correction_before_packing_changes_the_order(django_capture_on_commit_callbacks):
    world()
    order = order_at(django_capture_on_commit_callbacks, "allocated", "A1")
    case, _ = cases.case_open(order=order, case_type=CaseType.ADDRESS_PROBLEM, summary="address", now=T0)

    action = case_address_correct(
        case=case, address=CanonicalAddress(address1="89 Century Avenue"), note="customer called"
    )

    order.refresh_from_db()
    assert order.ship_address1 == "89 Century Avenue"
    assert action.data["applied_to"] == "order"
    with pytest.raises(DomainError, match="same as before"):
        case_address_correct(case=case, address=CanonicalAddress(address1="89 Century Avenue"))


def test_redelivery_and_contact_move_the_case_status(lost):
    cases.case_set_status(case=lost["case"], status=CaseStatus.IN_PROGRESS)
    cases.case_contact_customer(case=lost["case"], subject="About {order_number}", body="Hello {first_name}", now=T0)
    case = ExceptionCase.objects.get(pk=lost["case"].pk)
    proactive, contact = CaseAction.objects.filter(case=case, kind=ActionKind.CONTACT).order_by("pk")
    # Ship-to China, no language of the customer: the playbook speaks Chinese (see test_case_messages.py).
    assert proactive.data["subject"] == f"您的订单 {lost['order'].number}：我们将重新发货"
    assert (contact.data["subject"], contact.data["body"]) == (f"About {lost['order'].number}", "Hello Li")
    assert case.status == CaseStatus.WAITING_CUSTOMER

    cases.case_redelivery_request(case=case, note="Saturday")
    case.refresh_from_db()
    assert case.status == CaseStatus.WAITING_CARRIER


def test_assign_and_resolve_record_owner_root_cause_and_time(lost):
    user = make_user("cs1", "customer_service")
    cases.case_assign(case=lost["case"], owner=user)
    cases.case_resolve(case=lost["case"], root_cause="carrier", resolution="reshipped, claim paid", now=T0 + hours(30))

    case = ExceptionCase.objects.get(pk=lost["case"].pk)
    assert (case.owner, case.status, case.root_cause, case.resolution_hours) == (user, "resolved", "carrier", 30.0)
    before = snapshot(lost["order"])
    with pytest.raises(DomainError, match="is resolved"):
        cases.case_refund(case=case, amount="1", reason="late")
    with pytest.raises(DomainError, match="is resolved"):
        cases.case_reship(case=case, reason="again")
    assert snapshot(lost["order"]) == before


def test_resolve_needs_a_root_cause_and_words(lost):
    with pytest.raises(DomainError, match="root cause"):
        cases.case_resolve(case=lost["case"], root_cause="", resolution="done")
    with pytest.raises(DomainError, match="how the case was resolved"):
        cases.case_resolve(case=lost["case"], root_cause="carrier", resolution=" ")
    lost["case"].refresh_from_db()
    assert lost["case"].status == CaseStatus.OPEN


def test_a_reship_goes_through_picking_packing_and_dispatch(lost):
    from fulfillment import services as fulfillment_services
    from logistics import services as logistics_services

    shipment = cases.case_reship(case=lost["case"], reason="carrier lost it")
    fulfillment_services.picklist_create(location=shipment.location)
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
    parcel = logistics_services.shipment_dispatch(shipment=shipment)
    assert parcel.shipment == shipment
