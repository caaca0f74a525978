"""Two identical receipts posted at once (PostgreSQL, real threads) add the stock once: the unique
(location, product, reference) row is the guard the second post waits on, then finds."""

import threading

import pytest
from django.core.management import call_command
from django.db import connections

from inventory.models import Stock, StockMovement, StockReceipt
from oms.errors import DomainError
from tests.factories import LocationFactory, ProductFactory
from workflows.receipts import stock_receipt

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_at_once(quantities):
    sha = LocationFactory(code="sha")
    product = ProductFactory(sku="SKU-A")
    barrier = threading.Barrier(len(quantities))
    outcomes: list[str] = []
    lock = threading.Lock()

    def post(quantity):
        try:
            barrier.wait()
            stock = stock_receipt(location=sha, product=product, quantity=quantity, reference="R-1")
            outcome = "already" if stock.already_received else f"added {quantity}"
        except DomainError:
            outcome = f"refused {quantity}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=post, args=(q,)) for q in quantities]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    call_command("reconcile_stock")  # exits 1 when stock and ledger disagree
    return sorted(outcomes), Stock.objects.get(location=sha, product=product).on_hand


def test_two_identical_receipts_at_once_add_once():
    outcomes, on_hand = post_at_once([5, 5])
    assert outcomes == ["added 5", "already"]
    assert on_hand == 5
    assert StockMovement.objects.filter(kind="receipt").count() == 1
    assert list(StockReceipt.objects.values_list("reference", "quantity")) == [("R-1", 5)]


def test_two_quantities_under_one_reference_at_once_one_is_refused():
    outcomes, on_hand = post_at_once([5, 7])
    assert outcomes in (["added 5", "refused 7"], ["added 7", "refused 5"])
    assert on_hand == int(outcomes[0].split()[1])
    assert StockMovement.objects.filter(kind="receipt").count() == 1
