"""Every movement type through the real services: stock, ledger rows with reason codes and users,
the constraints, bad input (a clear error, nothing changed) and reconcile."""

import io

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import F

from inventory import services
from inventory.models import MovementKind, ReasonCode, Stock, StockMovement, Transfer, TransferStatus
from inventory.selectors import in_transit, ledger_mismatches, transit_mismatches
from inventory.services import StockRequest
from oms.errors import DomainError, InsufficientStock
from tests.factories import LocationFactory, ProductFactory, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return {
        "sha": LocationFactory(code="sha"),
        "can": LocationFactory(code="can"),
        "a": ProductFactory(sku="SKU-A"),
        "b": ProductFactory(sku="SKU-B"),
        "user": make_user("wh1", "warehouse"),
    }


def row(location, product):
    s = Stock.objects.get(location=location, product=product)
    return (s.on_hand, s.reserved)


def snapshot():
    return (
        sorted(Stock.objects.values_list("location_id", "product_id", "on_hand", "reserved")),
        StockMovement.objects.count(),
        Transfer.objects.count(),
    )


def last(kind):
    return StockMovement.objects.filter(kind=kind).latest("id")


def test_receipt_adds_on_hand_and_writes_a_ledger_row_with_reason_code_and_user(w):
    services.stock_receive(location=w["sha"], product=w["a"], quantity=12, user=w["user"], reference="PO-1")
    assert row(w["sha"], w["a"]) == (12, 0)
    m = last(MovementKind.RECEIPT)
    assert (m.on_hand_delta, m.reserved_delta, m.reason_code, m.user, m.reference) == (
        12,
        0,
        ReasonCode.PURCHASE,
        w["user"],
        "PO-1",
    )


def test_adjustment_up_and_down_with_a_reason_code(w):
    stock(w["sha"], w["a"], 10)
    services.stock_adjust(
        location=w["sha"], product=w["a"], delta=-3, reason="broken shelf", reason_code="lost", user=w["user"]
    )
    services.stock_adjust(location=w["sha"], product=w["a"], delta=1, reason="found behind", reason_code="found")
    assert row(w["sha"], w["a"]) == (8, 0)
    codes = list(
        StockMovement.objects.filter(kind=MovementKind.ADJUSTMENT)
        .order_by("id")
        .values_list("on_hand_delta", "reason_code")
    )
    assert codes == [(-3, "lost"), (1, "found")]
    assert ledger_mismatches() == []


def test_adjustment_below_reserved_is_refused_and_changes_nothing(w):
    stock(w["sha"], w["a"], 10)
    services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 8)], reference="O1")
    before = snapshot()
    with pytest.raises(InsufficientStock, match="below what is reserved"):
        services.stock_adjust(location=w["sha"], product=w["a"], delta=-3, reason="damaged")
    assert snapshot() == before


def test_count_records_the_difference_and_a_matching_count_too(w):
    stock(w["sha"], w["a"], 10)
    services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 4)], reference="O1")
    m = services.stock_count(location=w["sha"], product=w["a"], counted=7, user=w["user"])
    assert (m.kind, m.on_hand_delta, m.reason_code, m.reason) == ("count", -3, "count", "counted 7, system had 10")
    assert row(w["sha"], w["a"]) == (7, 4)
    m = services.stock_count(location=w["sha"], product=w["a"], counted=7)
    assert m.on_hand_delta == 0
    services.stock_count(location=w["sha"], product=w["b"], counted=5)  # a product never seen here
    assert row(w["sha"], w["b"]) == (5, 0)
    assert ledger_mismatches() == []


@pytest.mark.parametrize(
    ("counted", "error"),
    [(3, "counted 3 but 4 are reserved"), (-1, "cannot be negative"), ("7", "whole number")],
)
def test_bad_counts_are_refused_and_change_nothing(w, counted, error):
    stock(w["sha"], w["a"], 10)
    services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 4)], reference="O1")
    before = snapshot()
    with pytest.raises(DomainError, match=error):
        services.stock_count(location=w["sha"], product=w["a"], counted=counted)
    assert snapshot() == before


def test_write_off_takes_stock_out_never_what_is_reserved(w):
    stock(w["sha"], w["a"], 10)
    services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 6)], reference="O1")
    services.stock_write_off(location=w["sha"], product=w["a"], quantity=3, reason="crushed", user=w["user"])
    assert row(w["sha"], w["a"]) == (7, 6)
    m = last(MovementKind.WRITE_OFF)
    assert (m.on_hand_delta, m.reason_code, m.reason) == (-3, "damaged", "crushed")
    before = snapshot()
    with pytest.raises(InsufficientStock, match="available 1; cannot write off 2"):
        services.stock_write_off(location=w["sha"], product=w["a"], quantity=2, reason="crushed")
    with pytest.raises(DomainError, match="needs a reason"):
        services.stock_write_off(location=w["sha"], product=w["a"], quantity=1, reason="")
    with pytest.raises(DomainError, match="Unknown reason code"):
        services.stock_write_off(location=w["sha"], product=w["a"], quantity=1, reason="x", reason_code="stolen!")
    assert snapshot() == before


def test_return_restock_puts_stock_back(w):
    stock(w["sha"], w["a"], 2)
    services.stock_return_restock(location=w["sha"], product=w["a"], quantity=1, reference="RMA-9")
    assert row(w["sha"], w["a"]) == (3, 0)
    m = last(MovementKind.RETURN_RESTOCK)
    assert (m.on_hand_delta, m.reason_code, m.reference) == (1, "customer_return", "RMA-9")


def test_reserve_release_and_ship_write_ledger_rows_with_reason_codes(w):
    stock(w["sha"], w["a"], 5)
    req = [StockRequest(w["sha"].pk, w["a"].pk, 2)]
    services.stock_reserve(requests=req, reference="O1")
    services.stock_release(requests=req, reference="O1", reason="cancelled")
    services.stock_reserve(requests=req, reference="O2")
    services.stock_ship(requests=req, reference="SH1")
    assert row(w["sha"], w["a"]) == (3, 0)
    kinds = list(
        StockMovement.objects.order_by("id").values_list("kind", "on_hand_delta", "reserved_delta", "reason_code")
    )
    assert kinds == [
        ("receipt", 5, 0, "purchase"),
        ("reserve", 0, 2, "order"),
        ("release", 0, -2, "cancellation"),
        ("reserve", 0, 2, "order"),
        ("shipment", -2, -2, "order"),
    ]
    with pytest.raises(InsufficientStock, match="Not enough stock of SKU-A at sha for 4"):
        services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["a"].pk, 4)], reference="O3")


def test_transfer_goes_out_at_dispatch_is_in_transit_and_comes_in_at_receipt(w):
    stock(w["sha"], w["a"], 10)
    stock(w["sha"], w["b"], 4)
    t = services.transfer_dispatch(
        from_location=w["sha"], to_location=w["can"], lines=[(w["a"], 6), (w["b"], 4), (w["a"], 1)], user=w["user"]
    )
    assert t.number == f"TR{100000 + t.pk}" and t.status == TransferStatus.IN_TRANSIT
    assert row(w["sha"], w["a"]) == (3, 0) and row(w["sha"], w["b"]) == (0, 0)
    assert not Stock.objects.filter(location=w["can"]).exists()
    assert in_transit() == {(w["can"].pk, w["a"].pk): 7, (w["can"].pk, w["b"].pk): 4}
    assert transit_mismatches() == []
    services.transfer_receive(transfer=t, user=w["user"])
    assert row(w["can"], w["a"]) == (7, 0) and row(w["can"], w["b"]) == (4, 0)
    assert in_transit() == {}
    t.refresh_from_db()
    assert t.status == TransferStatus.RECEIVED and t.received_by == w["user"]
    moves = list(
        StockMovement.objects.filter(reference=t.number)
        .order_by("id")
        .values_list("kind", "location__code", "product__sku", "on_hand_delta", "reason_code")
    )
    assert moves == [
        ("transfer_out", "sha", "SKU-A", -7, "transfer"),
        ("transfer_out", "sha", "SKU-B", -4, "transfer"),
        ("transfer_in", "can", "SKU-A", 7, "transfer"),
        ("transfer_in", "can", "SKU-B", 4, "transfer"),
    ]
    assert ledger_mismatches() == [] and transit_mismatches() == []
    before = snapshot()
    with pytest.raises(DomainError, match="already received"):
        services.transfer_receive(transfer=t)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda w: dict(from_location=w["sha"], to_location=w["sha"], lines=[(w["a"], 1)]), "two different"),
        (lambda w: dict(from_location=w["sha"], to_location=w["can"], lines=[]), "at least one line"),
        (lambda w: dict(from_location=w["sha"], to_location=w["can"], lines=[(w["a"], 0)]), "more than zero"),
        (lambda w: dict(from_location=w["sha"], to_location=w["can"], lines=[(w["a"], -2)]), "more than zero"),
        # all or nothing: B is short, so A does not move either
        (
            lambda w: dict(from_location=w["sha"], to_location=w["can"], lines=[(w["a"], 2), (w["b"], 9)]),
            "SKU-B at sha: on hand 4, reserved 3, available 1; cannot transfer to can 9",
        ),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(w, make, error):
    stock(w["sha"], w["a"], 10)
    stock(w["sha"], w["b"], 4)
    services.stock_reserve(requests=[StockRequest(w["sha"].pk, w["b"].pk, 3)], reference="O1")
    before = snapshot()
    with pytest.raises(DomainError, match=error):
        services.transfer_dispatch(**make(w))
    assert snapshot() == before


@pytest.mark.parametrize("quantity", [0, -5, True, 2.5])
def test_receipts_need_a_positive_whole_number(w, quantity):
    before = snapshot()
    with pytest.raises(DomainError):
        services.stock_receive(location=w["sha"], product=w["a"], quantity=quantity)
    assert snapshot() == before


def test_database_constraints_hold_reserved_between_zero_and_on_hand(w):
    stock(w["sha"], w["a"], 5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(location=w["sha"]).update(reserved=6)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.filter(location=w["sha"]).update(reserved=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(from_location=w["sha"], to_location=w["sha"])
    assert row(w["sha"], w["a"]) == (5, 0)


def test_reconcile_passes_on_a_clean_ledger_and_fails_with_the_difference(w):
    stock(w["sha"], w["a"], 5)
    services.transfer_dispatch(from_location=w["sha"], to_location=w["can"], lines=[(w["a"], 2)])
    out = io.StringIO()
    call_command("reconcile_stock", stdout=out)
    assert "Stock matches the ledger: 1 stock rows checked." in out.getvalue()

    Stock.objects.filter(location=w["sha"], product=w["a"]).update(on_hand=F("on_hand") + 1)  # a write without ledger
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("reconcile_stock", stdout=out, stderr=err)
    assert exc.value.code == 1
    assert "SKU-A at sha: on hand 4, reserved 0; ledger says on hand 3, reserved 0" in out.getvalue()
    assert "1 problem(s)" in err.getvalue()
