"""Reservations: reserve, release and ship stock for orders, one request or a window of orders.

Every write here changes stock rows by a delta (reserve: reserved +q; release: reserved -q; ship:
on hand and reserved -q) only where the row stays within 0 <= reserved <= on hand (the guard),
and writes one ledger row (StockMovement) per stock row, all or nothing: a request that cannot be
met in full writes nothing and raises (InsufficientStock for a reservation, DomainError for a
release or shipment of stock that is not reserved).

**PostgreSQL: one statement per request**, so a hot stock row is locked for one round trip, not
while Python runs between statements: a call of a PL/pgSQL function (migration 0003, where the
reasons are written down). A one-line request (the common case) is ``inventory_stock_apply_one``:
the guarded UPDATE, then its ledger row when the row changed (a data-modifying CTE does the same
but is parsed and planned on every call; the function's plans are cached, about twice as fast).
A request of several lines is ``inventory_stock_apply``: it locks the rows in (location_id,
product_id) order, returns the first line that cannot be served (nothing written, locks let go) or updates them all
and writes the ledger. (One CTE cannot do several rows all or nothing: all its parts see the
snapshot of the statement's start, so its UPDATE may skip or fail on a row that the lock taken in
the same statement saw differently.) Outside a transaction the statement commits by
itself; inside a caller's transaction it takes part in it. A refusal is not an SQL error, so no
savepoint is needed and the caller's transaction goes on.

**SQLite** (no data-modifying CTEs; the embedded default): the same guard through the ORM in one
transaction, one UPDATE per row in (location_id, product_id) order, then the ledger rows.

``stock_reserve_batch`` reserves a routing window of orders at once, each order all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import TypeVar

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from oms.errors import DomainError, InsufficientStock

from .models import DEFAULT_REASON_CODE, Location, MovementKind, Product, Stock, StockMovement

K = TypeVar("K", bound=Hashable)
REFERENCE_MAX = StockMovement._meta.get_field("reference").max_length


@dataclass(frozen=True)
class StockRequest:
    location_id: int
    product_id: int
    quantity: int


@dataclass(frozen=True)
class _Op:
    """One kind of reservation write: the ledger kind, the deltas per unit, the refusal."""

    kind: str
    on_hand_sign: int
    reserved_sign: int
    refusal: str  # "{q}" the quantity, "{what}" "SKU at location"
    error: type[DomainError]


RESERVE = _Op(MovementKind.RESERVE, 0, 1, "Not enough stock of {what} for {q}.", InsufficientStock)
RELEASE = _Op(MovementKind.RELEASE, 0, -1, "Cannot release {q} of {what}: not reserved.", DomainError)
SHIP = _Op(MovementKind.SHIPMENT, -1, -1, "Cannot ship {q} of {what}: not reserved.", DomainError)

# One stock row: the guarded UPDATE and its ledger row in one call; no row back when it was written, else
# (sku, location code) for the message, so a refusal costs no further query.
_ONE_LINE_SQL = (
    "SELECT o_sku, o_code FROM inventory_stock_apply_one(%(kind)s::text, %(code)s::text, %(on_hand)s::integer, "
    "%(reserved)s::integer, %(loc)s::bigint, %(prod)s::bigint, %(reason)s::text, %(ref)s::text, %(user)s::bigint, "
    "%(now)s::timestamptz)"
)
# Several stock rows, all or none: the lines that could not be served (none: done).
_MANY_LINES_SQL = (
    "SELECT o_location_id, o_product_id, o_quantity FROM inventory_stock_apply(%(kind)s::text, %(code)s::text, "
    "%(on_hand)s::integer, %(reserved)s::integer, %(locs)s::bigint[], %(prods)s::bigint[], %(qs)s::integer[], "
    "%(reason)s::text, %(ref)s::text, %(user)s::bigint, %(now)s::timestamptz)"
)


# ---- helpers ------------------------------------------------------------------------------------


def _normalise(requests: Iterable[StockRequest]) -> list[StockRequest]:
    """Whole positive quantities, one line per stock row, in (location_id, product_id) order."""
    requests = requests if isinstance(requests, list) else list(requests)
    if len(requests) == 1 and type(requests[0]) is StockRequest:  # the hot path: nothing to merge or sort
        r = requests[0]
        if type(r.quantity) is int and r.quantity > 0 and type(r.location_id) is int and type(r.product_id) is int:
            return requests
    merged: dict[tuple[int, int], int] = {}
    for r in requests:
        q = r.quantity
        if isinstance(q, bool) or not isinstance(q, Integral):  # numpy's integers are Integral too
            raise DomainError(
                gettext("Reserved quantities must be whole numbers, not %(quantity)s.") % {"quantity": repr(q)}
            )
        q = int(q)
        if q <= 0:
            raise DomainError(gettext("Reserved quantities must be positive."))
        try:  # ids, or the Location and Product themselves (as the ORM's filters accepted them)
            key = (int(getattr(r.location_id, "pk", r.location_id)), int(getattr(r.product_id, "pk", r.product_id)))
        except (TypeError, ValueError):
            raise DomainError(
                gettext("A stock request needs a location id and a product id, not %(request)s.") % {"request": repr(r)}
            ) from None
        merged[key] = merged.get(key, 0) + q
    return [StockRequest(loc, prod, qty) for (loc, prod), qty in sorted(merged.items())]


def _reference(reference: str) -> str:
    if not isinstance(reference, str) or len(reference) > REFERENCE_MAX:
        raise DomainError(
            gettext("A stock reference is text of at most %(most)s characters, not %(reference)s.")
            % {"most": REFERENCE_MAX, "reference": repr(reference)}
        )
    return reference


def _names(location_id: int, product_id: int) -> str:
    sku = Product.objects.filter(pk=product_id).values_list("sku", flat=True).first() or f"product {product_id}"
    code = Location.objects.filter(pk=location_id).values_list("code", flat=True).first() or f"location {location_id}"
    return f"{sku} at {code}"


def _refuse(op: _Op, item: StockRequest, names: tuple[str | None, str | None] | None = None) -> DomainError:
    if names is None:
        what = _names(item.location_id, item.product_id)
    else:
        what = f"{names[0] or f'product {item.product_id}'} at {names[1] or f'location {item.location_id}'}"
    return op.error(op.refusal.format(q=item.quantity, what=what))


def _write(op: _Op, items: list[StockRequest], *, reference: str, user, reason: str) -> None:
    if not items:
        return
    if connection.vendor == "postgresql":
        _write_pg(op, items, reference=reference, user=user, reason=reason)
    else:
        _write_orm(op, items, reference=reference, user=user, reason=reason)


def _write_pg(op: _Op, items: list[StockRequest], *, reference: str, user, reason: str) -> None:
    params = {
        "kind": op.kind,
        "code": DEFAULT_REASON_CODE[op.kind],
        "reason": reason,
        "ref": reference,
        "user": getattr(user, "pk", user),
        "now": timezone.now(),  # what auto_now_add would write
    }
    with connection.cursor() as cursor:
        if len(items) == 1:
            (item,) = items
            q = item.quantity
            params.update(loc=item.location_id, prod=item.product_id, on_hand=op.on_hand_sign * q)
            params["reserved"] = op.reserved_sign * q
            cursor.execute(_ONE_LINE_SQL, params)
            refused = cursor.fetchone()
            if refused is not None:
                raise _refuse(op, item, refused)
            return
        params.update(on_hand=op.on_hand_sign, reserved=op.reserved_sign, locs=[i.location_id for i in items])
        params.update(prods=[i.product_id for i in items], qs=[i.quantity for i in items])
        cursor.execute(_MANY_LINES_SQL, params)
        short = cursor.fetchall()
    if short:
        raise _refuse(op, StockRequest(*short[0]))


@transaction.atomic
def _write_orm(op: _Op, items: list[StockRequest], *, reference: str, user, reason: str) -> None:
    for item in items:
        on_hand, reserved = op.on_hand_sign * item.quantity, op.reserved_sign * item.quantity
        changed = Stock.objects.filter(
            location_id=item.location_id,
            product_id=item.product_id,
            reserved__gte=-reserved,  # reserved + delta >= 0
            on_hand__gte=F("reserved") + reserved - on_hand,  # reserved + delta <= on hand + delta
        ).update(on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved)
        if not changed:
            raise _refuse(op, item)  # the atomic block rolls back the lines updated before
    StockMovement.objects.bulk_create(
        StockMovement(
            location_id=i.location_id,
            product_id=i.product_id,
            kind=op.kind,
            reason_code=DEFAULT_REASON_CODE[op.kind],
            on_hand_delta=op.on_hand_sign * i.quantity,
            reserved_delta=op.reserved_sign * i.quantity,
            reason=reason,
            reference=reference,
            user=user,
        )
        for i in items
    )


# ---- one request --------------------------------------------------------------------------------


def stock_reserve(*, requests: Iterable[StockRequest], reference: str, user=None) -> None:
    """Reserve all of the requests or none (raises InsufficientStock naming the first short product
    and location; nothing is written then). One statement on PostgreSQL."""
    _write(RESERVE, _normalise(requests), reference=_reference(reference), user=user, reason="")


def stock_release(*, requests: Iterable[StockRequest], reference: str, user=None, reason: str = "") -> None:
    """Give reserved stock back (cancellation, reroute); all or none (DomainError when a line is not reserved)."""
    _write(RELEASE, _normalise(requests), reference=_reference(reference), user=user, reason=reason)


def stock_ship(*, requests: Iterable[StockRequest], reference: str, user=None) -> None:
    """Shipping takes reserved stock out of on hand and out of the reservation; all or none."""
    _write(SHIP, _normalise(requests), reference=_reference(reference), user=user, reason="")


# ---- a window of orders -------------------------------------------------------------------------

_BATCH_LOCK_SQL = (
    "SELECT s.location_id, s.product_id, s.on_hand - s.reserved FROM inventory_stock AS s "
    "JOIN unnest(%s::bigint[], %s::bigint[]) AS r(location_id, product_id) "
    "ON s.location_id = r.location_id AND s.product_id = r.product_id "
    "ORDER BY s.location_id, s.product_id FOR UPDATE OF s"
)
_BATCH_WRITE_SQL = (
    "WITH a AS (SELECT * FROM unnest(%(locs)s::bigint[], %(prods)s::bigint[], %(qs)s::integer[]) "
    "AS a(location_id, product_id, q)), "
    "u AS (UPDATE inventory_stock AS s SET reserved = s.reserved + a.q FROM a "
    "WHERE s.location_id = a.location_id AND s.product_id = a.product_id AND s.on_hand - s.reserved >= a.q "
    "RETURNING 1), "
    "m AS (INSERT INTO inventory_stockmovement (location_id, product_id, kind, reason_code, on_hand_delta, "
    "reserved_delta, reason, reference, user_id, created_at) "
    "SELECT m.location_id, m.product_id, %(kind)s, %(code)s, 0, m.q, '', m.ref, %(user)s, %(now)s "
    "FROM unnest(%(m_locs)s::bigint[], %(m_prods)s::bigint[], %(m_qs)s::integer[], %(m_refs)s::text[]) "
    "WITH ORDINALITY AS m(location_id, product_id, q, ref, n) ORDER BY m.n RETURNING 1) "
    "SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM m)"
)


def stock_reserve_batch(
    *, requests: Sequence[tuple[K, Iterable[StockRequest]]], reference_for: Callable[[K], str], user=None
) -> dict[K, bool]:
    """Reserve stock for a window of orders at once, each order (key) all or nothing.

    ``requests`` lists ``(key, that key's stock requests)`` in priority order; keys are distinct and
    hashable (an order id, say). ``reference_for(key)`` is the ledger reference of that key's rows
    (the order number). Returns ``{key: True}`` for every key whose requests were all reserved and
    ``{key: False}`` for every key that got nothing, in the order given; a key with no requests is
    True and writes nothing.

    Keys are served in list order from the stock available when the window's stock rows are locked:
    an earlier key is served first, and a key that cannot be served in full neither gets a part nor
    stops later keys. One transaction: lock and read the window's stock rows in (location_id,
    product_id) order, decide, then one guarded UPDATE for every row and one ledger row per key and
    stock row (on PostgreSQL both in one statement). The guard stays the last word: should it refuse a
    row (it cannot while the rows are locked) the whole window rolls back with InsufficientStock.
    Bad input (a repeated key, a quantity that is not a positive whole number, a reference too long)
    raises DomainError before anything is written."""
    window: list[tuple[K, list[StockRequest], str]] = []
    seen: set = set()
    for key, items in requests:
        if key in seen:
            raise DomainError(gettext("The key %(key)s appears twice in one reservation batch.") % {"key": repr(key)})
        seen.add(key)
        items = _normalise(items)
        window.append((key, items, _reference(reference_for(key)) if items else ""))
    outcome: dict[K, bool] = {key: True for key, _, _ in window}
    pairs = sorted({(i.location_id, i.product_id) for _, items, _ in window for i in items})
    if not pairs:
        return outcome
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        available = _batch_lock(pairs) if postgres else _batch_read(pairs)
        taken: dict[tuple[int, int], int] = {}
        moves: list[tuple[StockRequest, str]] = []
        for key, items, reference in window:
            if all(available.get((i.location_id, i.product_id), 0) >= i.quantity for i in items):
                for i in items:
                    available[(i.location_id, i.product_id)] -= i.quantity
                    taken[(i.location_id, i.product_id)] = taken.get((i.location_id, i.product_id), 0) + i.quantity
                    moves.append((i, reference))
            else:
                outcome[key] = False
        if taken:
            (_batch_write_pg if postgres else _batch_write_orm)(sorted(taken.items()), moves, user=user)
    return outcome


def _batch_lock(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_LOCK_SQL, [[loc for loc, _ in pairs], [prod for _, prod in pairs]])
        return {(loc, prod): available for loc, prod, available in cursor.fetchall()}


def _batch_read(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """SQLite: the IMMEDIATE transaction already holds the database's write lock."""
    wanted = set(pairs)
    rows = Stock.objects.filter(
        location_id__in={loc for loc, _ in pairs}, product_id__in={prod for _, prod in pairs}
    ).values_list("location_id", "product_id", "on_hand", "reserved")
    return {(loc, prod): on_hand - reserved for loc, prod, on_hand, reserved in rows if (loc, prod) in wanted}


def _batch_write_pg(taken: list[tuple[tuple[int, int], int]], moves: list[tuple[StockRequest, str]], *, user) -> None:
    params = {
        "locs": [loc for (loc, _), _ in taken],
        "prods": [prod for (_, prod), _ in taken],
        "qs": [q for _, q in taken],
        "m_locs": [i.location_id for i, _ in moves],
        "m_prods": [i.product_id for i, _ in moves],
        "m_qs": [i.quantity for i, _ in moves],
        "m_refs": [ref for _, ref in moves],
        "kind": MovementKind.RESERVE,
        "code": DEFAULT_REASON_CODE[MovementKind.RESERVE],
        "user": getattr(user, "pk", user),
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_BATCH_WRITE_SQL, params)
        updated, written = cursor.fetchone()
    if updated != len(taken) or written != len(moves):
        raise InsufficientStock(
            f"The stock of a reservation batch changed under its lock ({updated} of {len(taken)} rows); nothing was "
            "reserved."
        )


def _batch_write_orm(taken: list[tuple[tuple[int, int], int]], moves: list[tuple[StockRequest, str]], *, user) -> None:
    for (loc, prod), q in taken:
        if not Stock.objects.filter(location_id=loc, product_id=prod, on_hand__gte=F("reserved") + q).update(
            reserved=F("reserved") + q
        ):
            raise _refuse(RESERVE, StockRequest(loc, prod, q))
    StockMovement.objects.bulk_create(
        StockMovement(
            location_id=i.location_id,
            product_id=i.product_id,
            kind=MovementKind.RESERVE,
            reason_code=DEFAULT_REASON_CODE[MovementKind.RESERVE],
            reserved_delta=i.quantity,
            reference=reference,
            user=user,
        )
        for i, reference in moves
    )
