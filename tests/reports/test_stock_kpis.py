"""Stock-out days and stock turnover (reports/kpis/stock.py): the replay in SQL (PostgreSQL) and
the replay in Python (SQLite, and PostgreSQL with ``in_python``) give the same figures.

The ledger below is written with the inventory services, then each row is placed in time. The
period is Monday 2026-03-02 to Sunday 2026-03-08 (Asia/Shanghai), like tests/reports/conftest.py.

east (location)
- P: 5 received 02-20; 03-03 reserve 5, ship 2 (out of stock 03-03, 03-04); 03-05 receive 4;
  03-07 reserve 4 (out of stock 03-07 to past the end of the period); 03-12 receive 10.
- Q: first seen 03-05 (receive 10); 03-06 reserve 3 and ship 3.
- R: 7 received 02-01, nothing in the period.
- S: 2 received 02-10, written off 02-11: nothing available all period.
west
- P: first seen on the last day, 03-08 (receive 3).
- Q: first seen after the period, 03-09.
- T: 6 received 02-25, counted to 0 on 03-02 09:00, 6 received 03-14.
"""

import random
from dataclasses import replace
from datetime import date, timedelta

import pytest

from inventory.models import StockMovement
from inventory.services import StockRequest, stock_adjust, stock_receive, stock_reserve, stock_ship
from oms.errors import DomainError
from reports.kpis import Filters
from reports.kpis.stock import StockOutDays, StockTurnover, replay
from tests.factories import LocationFactory, ProductFactory

from .conftest import PERIOD, at

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 15)


def _placed(when):
    last = StockMovement.objects.order_by("-pk").values("pk")[:1]
    StockMovement.objects.filter(pk=last).update(created_at=when)


class Ledger:
    def __init__(self):
        self.east, self.west = LocationFactory(code="east"), LocationFactory(code="west")
        self.p, self.q, self.r, self.s, self.t = (ProductFactory(sku=f"{x}-1") for x in "PQRST")

    def receive(self, loc, product, qty, when):
        stock_receive(location=loc, product=product, quantity=qty, reason="t")
        _placed(when)

    def adjust(self, loc, product, delta, when):
        stock_adjust(location=loc, product=product, delta=delta, reason="damaged", reason_code="damaged")
        _placed(when)

    def reserve(self, loc, product, qty, when, ref):
        stock_reserve(requests=[StockRequest(loc.pk, product.pk, qty)], reference=ref)
        _placed(when)

    def ship(self, loc, product, qty, when, ref):
        stock_ship(requests=[StockRequest(loc.pk, product.pk, qty)], reference=ref)
        _placed(when)


@pytest.fixture
def ledger():
    g = Ledger()
    e, w = g.east, g.west
    g.receive(e, g.p, 5, at("2026-02-20", "10:00"))
    g.reserve(e, g.p, 5, at("2026-03-03", "10:00"), "R1")
    g.ship(e, g.p, 2, at("2026-03-03", "15:00"), "S1")
    g.receive(e, g.p, 4, at("2026-03-05", "09:00"))
    g.reserve(e, g.p, 4, at("2026-03-07", "23:30"), "R2")
    g.receive(e, g.p, 10, at("2026-03-12", "08:00"))
    g.receive(e, g.q, 10, at("2026-03-05", "00:10"))
    g.reserve(e, g.q, 3, at("2026-03-06", "10:00"), "R3")
    g.ship(e, g.q, 3, at("2026-03-06", "16:00"), "S3")
    g.receive(e, g.r, 7, at("2026-02-01", "10:00"))
    g.receive(e, g.s, 2, at("2026-02-10", "10:00"))
    g.adjust(e, g.s, -2, at("2026-02-11", "10:00"))
    g.receive(w, g.p, 3, at("2026-03-08", "20:00"))
    g.receive(w, g.q, 1, at("2026-03-09", "09:00"))
    g.receive(w, g.t, 6, at("2026-02-25", "10:00"))
    g.adjust(w, g.t, -6, at("2026-03-02", "09:00"))
    g.receive(w, g.t, 6, at("2026-03-14", "09:00"))
    return g


def _pairs(result, g):
    skus = {p.pk: p.sku for p in (g.p, g.q, g.r, g.s, g.t)}
    codes = {g.east.pk: "east", g.west.pk: "west"}
    return {
        (codes[p.location_id], skus[p.product_id]): (p.days, p.stockout_days, p.on_hand_sum, p.shipped)
        for p in result.values()
    }


def test_the_replay_worked_out_by_hand(ledger):
    """Runs on either database: the SQL replay on PostgreSQL, the Python one on SQLite."""
    got = _pairs(replay(PERIOD, "default", TODAY), ledger)
    assert got == {
        # days, stock-out days, Σ end-of-day on hand, shipped
        ("east", "P-1"): (7, 4, 5 + 3 + 3 + 7 + 7 + 7 + 7, 2),
        ("east", "Q-1"): (4, 0, 10 + 7 + 7 + 7, 3),
        ("east", "R-1"): (7, 0, 49, 0),
        ("east", "S-1"): (7, 7, 0, 0),
        ("west", "P-1"): (1, 0, 3, 0),
        ("west", "T-1"): (7, 7, 0, 0),
    }
    # Days after today are not counted; the stock-out of east P runs on to "today".
    got = _pairs(replay(replace(PERIOD, location=ledger.east.pk), "default", date(2026, 3, 7)), ledger)
    assert got[("east", "P-1")] == (6, 3, 5 + 3 + 3 + 7 + 7 + 7, 2)
    assert set(got) == {("east", "P-1"), ("east", "Q-1"), ("east", "R-1"), ("east", "S-1")}

    r = StockOutDays().result(replace(PERIOD, location=ledger.east.pk), today=TODAY)
    assert r.value == 11
    assert [(x["sku"], x["days"], x["of"]) for x in r.tables[0].rows] == [("S-1", 7, 7), ("P-1", 4, 7)]
    r = StockTurnover().result(replace(PERIOD, location=ledger.east.pk), today=TODAY)
    # Shipped 5; average on hand 39/7 + 31/4 + 7 + 0.
    assert r.value == round(5 / (39 / 7 + 31 / 4 + 7), 2)


FILTERS = [
    PERIOD,
    Filters(date(2026, 3, 6), date(2026, 3, 12)),  # the end after a movement, before another
    Filters(date(2026, 3, 9), date(2026, 3, 9)),  # one day
    Filters(date(2026, 2, 1), date(2026, 3, 31)),  # past today
    Filters(date(2026, 1, 1), date(2026, 1, 31)),  # before the ledger: nothing
    Filters(date(2026, 3, 16), date(2026, 3, 20)),  # after today: nothing
    Filters(date(2026, 3, 14), date(2026, 3, 15)),  # up to today, a movement on its first day
]


@pytest.mark.postgres
@pytest.mark.parametrize("today", [TODAY, date(2026, 3, 5), date(2026, 3, 8)])
@pytest.mark.parametrize("where", ["all", "east", "west"])
@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f"{f.date_from:%m%d}-{f.date_to:%m%d}")
def test_the_sql_replay_gives_the_python_figures(ledger, f, where, today):
    if where != "all":
        f = replace(f, location=getattr(ledger, where).pk)
    in_python = replay(f, "default", today, in_python=True)
    assert replay(f, "default", today) == in_python
    # Each page asks only for its own figures.
    assert {k: (p.days, p.stockout_days) for k, p in replay(f, "default", today, on_hand=False).items()} == {
        k: (p.days, p.stockout_days) for k, p in in_python.items()
    }
    assert {k: (p.days, p.on_hand_sum, p.shipped) for k, p in replay(f, "default", today, stockout=False).items()} == {
        k: (p.days, p.on_hand_sum, p.shipped) for k, p in in_python.items()
    }
    for kpi in (StockOutDays, StockTurnover):
        python = kpi()
        python.in_python = True
        assert kpi().result(f, today=today) == python.result(f, today=today)


@pytest.mark.postgres
def test_the_sql_replay_on_a_busier_ledger(ledger):
    """Many pairs and days, several movements a day, reservations and movements after the end."""
    rng = random.Random(8)
    locations = [ledger.east, ledger.west, LocationFactory(code="north")]
    products = [ProductFactory(sku=f"B-{i}") for i in range(6)]
    start = at("2026-02-20", "00:00")
    for _ in range(300):
        loc, product = rng.choice(locations), rng.choice(products)
        when = start + timedelta(minutes=rng.randrange(0, 30 * 24 * 60))
        kind = rng.random()
        try:
            if kind < 0.4:
                ledger.receive(loc, product, rng.randint(1, 5), when)
            elif kind < 0.7:
                ledger.reserve(loc, product, rng.randint(1, 3), when, "R")
            elif kind < 0.9:
                ledger.ship(loc, product, rng.randint(1, 2), when, "S")
            else:
                ledger.adjust(loc, product, -rng.randint(1, 2), when)
        except DomainError:  # not enough stock: that movement does not happen
            continue
    for f in (PERIOD, Filters(date(2026, 2, 25), date(2026, 3, 20)), replace(PERIOD, location=ledger.west.pk)):
        for today in (TODAY, date(2026, 3, 4)):
            in_python = replay(f, "default", today, in_python=True)
            assert in_python and replay(f, "default", today) == in_python
