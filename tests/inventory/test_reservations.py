"""Reservations through the real services (inventory/reservations.py): one request all or nothing, the
ledger rows with every field, bad input refused with nothing changed, and the routing window's batch.

These run on both lanes: the one-statement path on PostgreSQL (``make test``) and the ORM path on
SQLite (the fast lane). The many-threads tests are in test_reservations_concurrency.py."""

from datetime import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from inventory import services
from inventory.models import MovementKind, ReasonCode, Stock, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import StockRequest
from oms.errors import DomainError, InsufficientStock
from tests.factories import LocationFactory, ProductFactory, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    sha, can = LocationFactory(code="sha"), LocationFactory(code="can")
    a, b, c = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B"), ProductFactory(sku="SKU-C")
    stock(sha, a, 5)
    stock(sha, b, 1)
    stock(can, a, 2)
    return {"sha": sha, "can": can, "a": a, "b": b, "c": c, "user": make_user("wh1", "warehouse")}


def req(location, product, quantity):
    return StockRequest(location.pk, product.pk, quantity)


def snapshot():
    return (
        sorted(Stock.objects.values_list("location_id", "product_id", "on_hand", "reserved")),
        sorted(StockMovement.objects.values_list("id", flat=True)),
    )


def row(location, product):
    s = Stock.objects.get(location=location, product=product)
    return (s.on_hand, s.reserved)


def ledger(reference):
    return list(
        StockMovement.objects.filter(reference=reference)
        .order_by("id")
        .values_list("location__code", "product__sku", "kind", "reason_code", "on_hand_delta", "reserved_delta")
    )


def test_one_line_reserve_writes_the_row_and_a_ledger_row_with_every_field(w):
    before = timezone.now()
    services.stock_reserve(requests=[req(w["sha"], w["a"], 2)], reference="SO1", user=w["user"])
    after = timezone.now()

    assert row(w["sha"], w["a"]) == (5, 2)
    m = StockMovement.objects.get(reference="SO1")
    assert (m.location, m.product, m.kind, m.reason_code, m.on_hand_delta, m.reserved_delta) == (
        w["sha"],
        w["a"],
        MovementKind.RESERVE,
        ReasonCode.ORDER,
        0,
        2,
    )
    assert (m.reason, m.user) == ("", w["user"])
    assert isinstance(m.created_at, datetime) and before <= m.created_at <= after
    assert ledger_mismatches() == []


def test_release_and_ship_write_their_deltas_reason_and_reason_codes(w):
    services.stock_reserve(requests=[req(w["sha"], w["a"], 3), req(w["sha"], w["b"], 1)], reference="SO1")
    services.stock_release(
        requests=[req(w["sha"], w["a"], 1)], reference="SO1", reason="customer cancelled", user=w["user"]
    )
    services.stock_ship(requests=[req(w["sha"], w["a"], 2), req(w["sha"], w["b"], 1)], reference="SH1")

    assert (row(w["sha"], w["a"]), row(w["sha"], w["b"])) == ((3, 0), (0, 0))
    assert ledger("SO1") == [
        ("sha", "SKU-A", "reserve", "order", 0, 3),
        ("sha", "SKU-B", "reserve", "order", 0, 1),
        ("sha", "SKU-A", "release", "cancellation", 0, -1),
    ]
    release = StockMovement.objects.get(kind=MovementKind.RELEASE)
    assert (release.reason, release.user) == ("customer cancelled", w["user"])
    assert ledger("SH1") == [
        ("sha", "SKU-A", "shipment", "order", -2, -2),
        ("sha", "SKU-B", "shipment", "order", -1, -1),
    ]
    assert ledger_mismatches() == []


def test_a_multi_line_request_is_merged_per_row_and_written_in_location_product_order(w):
    services.stock_reserve(
        requests=[
            req(w["sha"], w["b"], 1),
            req(w["can"], w["a"], 1),
            req(w["sha"], w["a"], 1),
            req(w["can"], w["a"], 1),
        ],
        reference="SO1",
    )

    assert (row(w["sha"], w["a"]), row(w["sha"], w["b"]), row(w["can"], w["a"])) == ((5, 1), (1, 1), (2, 2))
    assert ledger("SO1") == [
        ("sha", "SKU-A", "reserve", "order", 0, 1),
        ("sha", "SKU-B", "reserve", "order", 0, 1),
        ("can", "SKU-A", "reserve", "order", 0, 2),
    ]
    assert ledger_mismatches() == []


def test_a_multi_line_reserve_with_one_short_line_writes_nothing_and_names_that_line(w):
    before = snapshot()
    with pytest.raises(InsufficientStock, match=r"^Not enough stock of SKU-B at sha for 2\.$"):
        services.stock_reserve(requests=[req(w["sha"], w["a"], 3), req(w["sha"], w["b"], 2)], reference="SO1")
    assert snapshot() == before


def test_a_line_without_a_stock_row_is_refused_and_nothing_is_written(w):
    before = snapshot()
    with pytest.raises(InsufficientStock, match=r"^Not enough stock of SKU-C at sha for 1\.$"):
        services.stock_reserve(requests=[req(w["sha"], w["a"], 1), req(w["sha"], w["c"], 1)], reference="SO1")
    with pytest.raises(InsufficientStock, match=r"^Not enough stock of SKU-C at can for 1\.$"):
        services.stock_reserve(requests=[req(w["can"], w["c"], 1)], reference="SO2")
    assert snapshot() == before


def test_a_one_line_reserve_beyond_what_is_available_is_refused_and_nothing_is_written(w):
    services.stock_reserve(requests=[req(w["sha"], w["a"], 4)], reference="SO1")
    before = snapshot()
    with pytest.raises(InsufficientStock, match=r"^Not enough stock of SKU-A at sha for 2\.$"):
        services.stock_reserve(requests=[req(w["sha"], w["a"], 2)], reference="SO2")
    assert snapshot() == before
    services.stock_reserve(requests=[req(w["sha"], w["a"], 1)], reference="SO3")  # the last one still fits
    assert row(w["sha"], w["a"]) == (5, 5)


@pytest.mark.parametrize("lines", [1, 2])
def test_releasing_or_shipping_more_than_is_reserved_is_refused_and_nothing_is_written(w, lines):
    services.stock_reserve(requests=[req(w["sha"], w["a"], 2), req(w["sha"], w["b"], 1)], reference="SO1")
    before = snapshot()
    extra = [req(w["sha"], w["b"], 1)] if lines == 2 else []
    with pytest.raises(DomainError, match=r"^Cannot release 3 of SKU-A at sha: not reserved\.$"):
        services.stock_release(requests=[req(w["sha"], w["a"], 3), *extra], reference="SO1")
    with pytest.raises(DomainError, match=r"^Cannot ship 3 of SKU-A at sha: not reserved\.$"):
        services.stock_ship(requests=[req(w["sha"], w["a"], 3), *extra], reference="SO1")
    assert snapshot() == before


def test_a_refusal_leaves_the_callers_transaction_usable(w):
    with transaction.atomic():
        with pytest.raises(InsufficientStock):
            services.stock_reserve(requests=[req(w["sha"], w["a"], 1), req(w["sha"], w["b"], 2)], reference="SO1")
        with pytest.raises(InsufficientStock):
            services.stock_reserve(requests=[req(w["sha"], w["b"], 2)], reference="SO1")
        services.stock_reserve(requests=[req(w["can"], w["a"], 2)], reference="SO1")
    assert (row(w["sha"], w["a"]), row(w["sha"], w["b"]), row(w["can"], w["a"])) == ((5, 0), (1, 0), (2, 2))
    assert ledger("SO1") == [("can", "SKU-A", "reserve", "order", 0, 2)]


@pytest.mark.parametrize(
    "quantity, reference, message",
    [
        (0, "SO1", "must be positive"),
        (-2, "SO1", "must be positive"),
        (1.5, "SO1", "whole numbers, not 1.5"),
        ("2", "SO1", "whole numbers, not '2'"),
        (True, "SO1", "whole numbers, not True"),
        (1, "S" * 65, "at most 64 characters"),
    ],
)
def test_bad_input_is_a_clear_error_and_changes_nothing(w, quantity, reference, message):
    before = snapshot()
    for service in (services.stock_reserve, services.stock_release, services.stock_ship):
        with pytest.raises(DomainError, match=message):
            service(requests=[req(w["sha"], w["b"], 1), req(w["sha"], w["a"], quantity)], reference=reference)
    assert snapshot() == before


def test_an_empty_request_writes_nothing(w):
    before = snapshot()
    services.stock_reserve(requests=[], reference="SO1")
    assert snapshot() == before


# ---- the routing window's batch -------------------------------------------------------------------


def test_batch_serves_keys_in_order_each_all_or_nothing(w):
    sha, can, a, b = w["sha"], w["can"], w["a"], w["b"]
    outcome = services.stock_reserve_batch(
        requests=[
            (101, [req(sha, a, 2), req(sha, b, 1)]),  # served: takes the only SKU-B at sha
            (102, [req(sha, a, 1), req(sha, b, 1)]),  # SKU-B is gone: nothing for 102, SKU-A stays
            (103, [req(sha, a, 3)]),  # served from what 102 did not take
            (104, [req(can, a, 3)]),  # can has 2
            (105, [req(can, a, 2), req(can, b, 1)]),  # no SKU-B row at can
            (106, [req(can, a, 2)]),
            (107, []),  # nothing to reserve
        ],
        reference_for=lambda key: f"SO{key}",
        user=w["user"],
    )

    assert outcome == {101: True, 102: False, 103: True, 104: False, 105: False, 106: True, 107: True}
    assert list(outcome) == [101, 102, 103, 104, 105, 106, 107]
    assert (row(sha, a), row(sha, b), row(can, a)) == ((5, 5), (1, 1), (2, 2))
    assert ledger("SO101") == [("sha", "SKU-A", "reserve", "order", 0, 2), ("sha", "SKU-B", "reserve", "order", 0, 1)]
    assert ledger("SO103") == [("sha", "SKU-A", "reserve", "order", 0, 3)]
    assert ledger("SO106") == [("can", "SKU-A", "reserve", "order", 0, 2)]
    assert StockMovement.objects.filter(reference__in=["SO102", "SO104", "SO105", "SO107"]).count() == 0
    assert set(StockMovement.objects.filter(kind="reserve").values_list("user", "reason", flat=False)) == {
        (w["user"].pk, "")
    }
    assert ledger_mismatches() == []


def test_batch_respects_stock_reserved_before_it(w):
    services.stock_reserve(requests=[req(w["sha"], w["a"], 4)], reference="SO1")
    outcome = services.stock_reserve_batch(
        requests=[("x", [req(w["sha"], w["a"], 2)]), ("y", [req(w["sha"], w["a"], 1)])],
        reference_for=lambda key: f"SO-{key}",
    )
    assert outcome == {"x": False, "y": True}
    assert row(w["sha"], w["a"]) == (5, 5)
    assert ledger("SO-y") == [("sha", "SKU-A", "reserve", "order", 0, 1)]


def test_batch_where_nothing_fits_writes_nothing(w):
    before = snapshot()
    outcome = services.stock_reserve_batch(
        requests=[(1, [req(w["sha"], w["b"], 2)]), (2, [req(w["can"], w["c"], 1)])], reference_for=str
    )
    assert outcome == {1: False, 2: False}
    assert snapshot() == before


@pytest.mark.parametrize(
    "requests, message",
    [
        ([(1, [StockRequest(0, 0, 1)]), (1, [StockRequest(0, 0, 1)])], "appears twice"),
        ([(1, [StockRequest(0, 0, 1)]), (2, [StockRequest(0, 0, 0)])], "must be positive"),
        ([(1, [StockRequest(0, 0, 1)]), (2, [StockRequest(0, 0, 2.0)])], "whole numbers"),
        ([(1, [StockRequest(0, 0, 1)]), ("x" * 70, [StockRequest(0, 0, 1)])], "at most 64 characters"),
    ],
)
def test_batch_bad_input_is_refused_before_anything_is_written(w, requests, message):
    requests = [(key, [StockRequest(w["sha"].pk, w["a"].pk, r.quantity) for r in items]) for key, items in requests]
    before = snapshot()
    with pytest.raises(DomainError, match=message):
        services.stock_reserve_batch(requests=requests, reference_for=str)
    assert snapshot() == before


def test_integers_from_a_solver_are_accepted_and_a_request_without_ids_is_refused(w):
    np = pytest.importorskip("numpy")
    services.stock_reserve(
        requests=[StockRequest(np.int64(w["sha"].pk), np.int64(w["a"].pk), np.int64(2))], reference="SO1"
    )
    assert row(w["sha"], w["a"]) == (5, 2)
    before = snapshot()
    with pytest.raises(DomainError, match="needs a location id and a product id"):
        services.stock_reserve(requests=[StockRequest(None, w["a"].pk, 1)], reference="SO2")
    assert snapshot() == before
