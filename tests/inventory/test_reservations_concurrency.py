"""Reservations under real concurrency (PostgreSQL, real threads, each on its own connection, autocommit):
the one-statement paths never oversell, a request of several lines is all or nothing, a routing window's
batch serves each key all or nothing next to single reservations, and stock equals the ledger after."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from inventory import services
from inventory.models import Stock, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import StockRequest
from oms.errors import DomainError, InsufficientStock
from tests.factories import LocationFactory, ProductFactory, stock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(target, count: int) -> list[str]:
    errors: list[str] = []
    barrier = threading.Barrier(count)

    def body(n: int) -> None:
        try:
            barrier.wait()
            target(n)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"worker {n}: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return errors


def lines_by_reference() -> dict[str, list[tuple[int, int, int]]]:
    found: dict[str, list[tuple[int, int, int]]] = {}
    for ref, loc, prod, delta in StockMovement.objects.filter(kind="reserve").values_list(
        "reference", "location_id", "product_id", "reserved_delta"
    ):
        found.setdefault(ref, []).append((loc, prod, delta))
    return {ref: sorted(lines) for ref, lines in found.items()}


def test_many_threads_on_one_hot_row_reserve_exactly_the_stock():
    location, product = LocationFactory(code="hot"), ProductFactory(sku="HOT")
    stock(location, product, 300)
    won = Counter()

    def worker(n: int) -> None:
        for i in range(40):  # 16 x 40 = 640 attempts for 300 units
            try:
                services.stock_reserve(requests=[StockRequest(location.pk, product.pk, 1)], reference=f"W{n}-{i}")
                won[n] += 1
            except InsufficientStock as exc:
                assert str(exc) == "Not enough stock of HOT at hot for 1."

    assert run_threads(worker, 16) == []
    row = Stock.objects.get(location=location, product=product)
    assert (row.on_hand, row.reserved, sum(won.values())) == (300, 300, 300)
    assert StockMovement.objects.filter(kind="reserve").count() == 300
    assert ledger_mismatches() == []


def test_multi_line_requests_are_all_or_nothing_while_others_release_and_adjust():
    location = LocationFactory(code="sha")
    products = [ProductFactory(sku=f"HOT-{i}") for i in range(3)]
    for p in products:
        stock(location, p, 30)
    lock = threading.Lock()
    held: dict[str, list[StockRequest]] = {}
    refused: set[str] = set()
    released: dict[str, list[StockRequest]] = {}
    adjusted = Counter()

    def reserver(n: int) -> None:
        rng = random.Random(n)
        for i in range(40):
            chosen = rng.sample(products, rng.choice([2, 3]))
            reqs = [StockRequest(location.pk, p.pk, rng.randint(1, 3)) for p in chosen]
            ref = f"R{n}-{i}"
            try:
                services.stock_reserve(requests=reqs, reference=ref)
                with lock:
                    held[ref] = reqs
            except InsufficientStock:
                with lock:
                    refused.add(ref)
            if rng.random() < 0.4:
                with lock:
                    mine = [r for r in held if r.startswith(f"R{n}-")]
                    ref = rng.choice(mine) if mine else None
                    reqs = held.pop(ref) if ref else None
                if ref:
                    services.stock_release(requests=reqs, reference=ref, reason="cancelled")
                    with lock:
                        released[ref] = reqs

    def adjuster(n: int) -> None:
        rng = random.Random(100 + n)
        for _ in range(40):
            p = rng.choice(products)
            delta = rng.choice([-2, -1, 1, 2])
            try:
                services.stock_adjust(location=location, product=p, delta=delta, reason="count")
                with lock:
                    adjusted[p.pk] += delta
            except DomainError:
                pass

    assert run_threads(lambda n: reserver(n) if n < 10 else adjuster(n), 14) == []

    assert len(refused) > 0 and len(held) + len(released) > 50  # contention really happened
    written = lines_by_reference()
    for ref, reqs in {**held, **released}.items():
        assert written[ref] == sorted((r.location_id, r.product_id, r.quantity) for r in reqs), ref
    assert not refused & set(written), "a refused request wrote part of its lines"
    for p in products:
        row = Stock.objects.get(location=location, product=p)
        assert row.on_hand == 30 + adjusted[p.pk]
        assert row.reserved == sum(r.quantity for reqs in held.values() for r in reqs if r.product_id == p.pk)
        assert 0 <= row.reserved <= row.on_hand
    assert ledger_mismatches() == []


def test_batches_and_single_reservations_at_once_never_oversell_and_each_key_is_whole():
    location = LocationFactory(code="sha")
    products = [ProductFactory(sku=f"HOT-{i}") for i in range(4)]
    for p in products:
        stock(location, p, 60)
    lock = threading.Lock()
    served: dict[str, list[StockRequest]] = {}
    unserved: set[str] = set()

    def order(rng: random.Random) -> list[StockRequest]:
        return [StockRequest(location.pk, p.pk, rng.randint(1, 3)) for p in rng.sample(products, rng.choice([1, 2]))]

    def batcher(n: int) -> None:
        rng = random.Random(n)
        for w in range(8):
            window = [(f"B{n}-{w}-{k}", order(rng)) for k in range(12)]
            outcome = services.stock_reserve_batch(requests=window, reference_for=str)
            with lock:
                for key, reqs in window:
                    if outcome[key]:
                        served[key] = reqs
                    else:
                        unserved.add(key)

    def single(n: int) -> None:
        rng = random.Random(50 + n)
        for i in range(40):
            ref, reqs = f"S{n}-{i}", order(rng)
            try:
                services.stock_reserve(requests=reqs, reference=ref)
                with lock:
                    served[ref] = reqs
            except InsufficientStock:
                with lock:
                    unserved.add(ref)

    assert run_threads(lambda n: batcher(n) if n < 4 else single(n), 10) == []

    assert len(unserved) > 0 and any(k.startswith("B") for k in served) and any(k.startswith("S") for k in served)
    written = lines_by_reference()
    assert set(written) == set(served)
    for ref, reqs in served.items():
        merged = Counter()
        for r in reqs:
            merged[(r.location_id, r.product_id)] += r.quantity
        assert written[ref] == sorted((loc, prod, q) for (loc, prod), q in merged.items()), ref
    for p in products:
        row = Stock.objects.get(location=location, product=p)
        assert row.reserved == sum(r.quantity for reqs in served.values() for r in reqs if r.product_id == p.pk)
        assert 0 <= row.reserved <= row.on_hand == 60
    assert ledger_mismatches() == []


def test_a_refused_multi_line_request_keeps_no_lock_in_the_callers_transaction():
    """Routing tries one location, then another, in one transaction: the refused try must not keep its rows
    locked (they would be held out of the lock order, and a reroute locking in order deadlocked on them)."""
    location = LocationFactory(code="sha")
    a, b = ProductFactory(sku="SKU-A"), ProductFactory(sku="SKU-B")
    stock(location, a, 5)
    stock(location, b, 1)
    outcome: list[str] = []

    def other_writer(n: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a lock still held fails the write instead of hanging
        services.stock_adjust(location=location, product=a, delta=1, reason="found")
        outcome.append("adjusted")

    with transaction.atomic():
        with pytest.raises(InsufficientStock, match="SKU-B at sha for 2"):
            services.stock_reserve(
                requests=[StockRequest(location.pk, a.pk, 1), StockRequest(location.pk, b.pk, 2)], reference="SO1"
            )
        assert run_threads(other_writer, 1) == []
    assert outcome == ["adjusted"]
    assert Stock.objects.get(location=location, product=a).on_hand == 6
    assert ledger_mismatches() == []
