"""A routing decision's explanation: compact values when it is decided, rows in words when it is read.

Routing stores with each decision (``RoutingDecision.candidates``) what the order page needs to explain every
candidate, as numbers and codes (``compact``), not words:

- ``singles``: every routing location ``[id, code, km, load %, [hard-constraint reasons]]``;
- ``plans``: the candidate plans shown (every single location's plan, the ten best split sets that ship all of
  it, and the chosen one), best first: ``[[location ids], [codes], km, cost, shipments, load %, stock taken %,
  [terms: distance, cost, split, load, balance], score, units, missing units]``; ``best``: the chosen plan's
  index (None: nothing chosen), ``complete``, ``total`` units and the ``currency``;
- ``window`` (a routing window gave the order a dearer plan than its own best, fulfillment/routing/explain.py):
  the window's size and, per lower-scored plan (its index), what the window's other orders took that it needed:
  ``["stock", sku, location code, [order ids], count]`` or ``["capacity", location code, [order ids], count]``
  (the first ``TAKEN_BY`` orders per resource; ``count`` how many they are), or ``["joint"]``.

``rows`` turns that into the rows the page shows (each candidate's terms, eligibility and verdict, and for a
window why a cheaper plan was not used, naming the orders that took its stock): the words are made here, when
the page renders them, in English (``words``: the page shows them in the reader's language). A decision stored
before this shape (a list of rows) is read as it is.
"""

from __future__ import annotations

from .words import (
    BUSIER,
    CHEAPER,
    CHOSEN_LOWEST,
    CHOSEN_ONLY_LOCATION,
    CHOSEN_ONLY_SET,
    CHOSEN_PARTIAL,
    DEARER,
    FARTHER,
    FEWER_SHIPMENTS,
    KEEPS_STOCK,
    LESS_BUSY,
    NEARER,
    NOT_CHOSEN,
    SAME_SCORE,
    SAME_SCORE_LATER,
    SCORE_COMPARED,
    SHORT_OF_UNITS,
    SPLITS_INTO,
    TAKES_STOCK,
    WINDOW_CAPACITY,
    WINDOW_CHOSEN,
    WINDOW_JOINT,
    WINDOW_LOWER,
    WINDOW_STOCK,
)

VERSION = 2
TERMS = ("distance", "cost", "split", "load", "balance")
SETS_SHOWN = 10  # split sets shown per decision: the best ones that ship all of it
NAMED = 5  # orders named in a window's verdict; the rest are counted
RAW = ("distance_km", "cost", "shipments", "load_pct", "stock_taken_pct")


# ---- compact: when deciding --------------------------------------------------------------------------


def shown_plans(ordered: list, best) -> list:
    """The plans a decision shows, in ``ordered``'s order: every single location's, the best split sets that
    ship all of it (``SETS_SHOWN``) and the chosen one."""
    sets = [p for p in ordered if len(p.locations) > 1 and (not p.missing or p is best)][:SETS_SHOWN]
    keep = {id(p) for p in sets}
    return [p for p in ordered if len(p.locations) == 1 or id(p) in keep]


def plan_values(plan) -> list:
    raw, terms = plan.raw, plan.terms
    return [
        [s.location.pk for s in plan.locations],
        plan.codes,
        raw["distance_km"],
        raw["cost"],
        raw["shipments"],
        raw["load_pct"],
        raw["stock_taken_pct"],
        [terms[t] for t in TERMS],
        plan.score,
        plan.shipped_units,
        plan.missing_units,
    ]


def compact(singles, ordered: list, best, complete: bool, total: int, currency: str) -> dict:
    """The explanation of a decision whose candidates are ``singles`` (every location) and ``ordered`` (every plan,
    the chosen one first), as stored (see the module docstring)."""
    shown = shown_plans(ordered, best)
    return {
        "v": VERSION,
        "total": total,
        "complete": complete,
        "currency": currency,
        "singles": [[s.location.pk, s.location.code, s.distance_km, s.load_pct, list(s.reasons)] for s in singles],
        "plans": [plan_values(p) for p in shown],
        "best": next((i for i, p in enumerate(shown) if p is best), None),
    }


# ---- rows: when reading ------------------------------------------------------------------------------


class _Location:
    __slots__ = ("pk", "code")

    def __init__(self, pk, code) -> None:
        self.pk, self.code = pk, code


class _Single:
    __slots__ = ("location", "distance_km", "load_pct", "reasons")

    def __init__(self, pk, code, distance_km, load_pct, reasons) -> None:
        self.location = _Location(pk, code)
        self.distance_km, self.load_pct, self.reasons = distance_km, load_pct, reasons


class _Plan:
    """A stored plan, shaped as ``explain_candidates`` reads a ``scoring.Plan``."""

    __slots__ = ("locations", "codes", "raw", "terms", "score", "shipped_units", "missing_units", "missing")

    def __init__(self, values: list, singles: dict) -> None:
        ids, codes, km, cost, shipments, load, taken, terms, score, units, missing = values
        self.locations = [singles.get(pk) or _Single(pk, code, None, 0.0, []) for pk, code in zip(ids, codes)]  # noqa: B905
        self.codes = list(codes)
        self.raw = dict(zip(RAW, (km, cost, shipments, load, taken), strict=True))
        self.terms = dict(zip(TERMS, terms, strict=True))
        self.score, self.shipped_units, self.missing_units = score, units, missing
        self.missing = bool(missing)


def is_compact(candidates) -> bool:
    return isinstance(candidates, dict) and candidates.get("v") == VERSION


def order_ids(candidates) -> set[int]:
    """The ids of the orders a window's explanation names (for ``rows``' ``numbers``)."""
    if not is_compact(candidates) or not candidates.get("window"):
        return set()
    ids = set()
    for reasons in candidates["window"]["why"].values():
        for reason in reasons:
            if reason[0] in ("stock", "capacity"):
                ids.update(reason[-2])
    return ids


def rows(candidates, numbers: dict | None = None) -> list[dict]:
    """The rows the page shows for a decision's stored ``candidates``: compact values turned into words here;
    a list of rows (stored before) as it is. ``numbers``: order id -> number of the orders a window's
    explanation names (``order_ids``)."""
    if not is_compact(candidates):
        return list(candidates or [])
    singles = [_Single(*values) for values in candidates["singles"]]
    by_pk = {s.location.pk: s for s in singles}
    plans = [_Plan(values, by_pk) for values in candidates["plans"]]
    at = candidates.get("best")
    best = plans[at] if at is not None else None
    result = explain_candidates(
        candidates.get("currency", ""), singles, plans, best, candidates["complete"], candidates["total"]
    )
    window = candidates.get("window")
    if window and best is not None:
        _window_rows(result, plans, best, window, numbers or {})
    return result


def _names(numbers: list[str], count: int) -> str:
    shown = ", ".join(numbers[:NAMED])
    more = count - NAMED
    return f"{shown} and {more} more" if more > 0 else shown


def why_words(reasons: list, numbers: dict) -> tuple[list[str], list[str]]:
    """A window's compact reasons for a plan in words, and the numbers of the orders they name."""
    said, taken_by = [], []
    for reason in reasons:
        if reason[0] == "stock":
            _, sku, where, ids, count = reason
            names = [numbers.get(pk, f"#{pk}") for pk in ids]
            said.append(WINDOW_STOCK % {"sku": sku, "location": where, "orders": _names(names, count)})
        elif reason[0] == "capacity":
            _, where, ids, count = reason
            names = [numbers.get(pk, f"#{pk}") for pk in ids]
            said.append(WINDOW_CAPACITY % {"location": where, "orders": _names(names, count)})
        else:
            said.append(WINDOW_JOINT)
            names = []
        taken_by += names
    return said, list(dict.fromkeys(taken_by))


def _window_rows(result: list[dict], plans: list, chosen, window: dict, numbers: dict) -> None:
    by_codes = {tuple(p.codes): str(i) for i, p in enumerate(plans)}
    first_reason, first_codes = "", ""
    for row in result:
        key = by_codes.get(tuple(row["locations"]))
        if row["chosen"] or key is None or key not in window["why"]:
            continue
        plan = plans[int(key)]
        reasons, taken_by = why_words(window["why"][key], numbers)
        row["verdict"] = WINDOW_LOWER % {"score": f"{plan.score:g}", "reasons": "; ".join(reasons)}
        row["taken_by"] = taken_by
        if not first_reason:
            first_reason, first_codes = reasons[0], " + ".join(plan.codes)
    for row in result:
        if row["chosen"] and first_reason:
            row["verdict"] = WINDOW_CHOSEN % {
                "size": window["size"],
                "score": f"{chosen.score:g}",
                "codes": first_codes,
                "reason": first_reason,
            }


def _money(value: float, currency: str) -> str:
    symbol = "¥" if currency in ("CNY", "RMB", "JPY") else f"{currency} "
    return f"{symbol}{value:,.2f}"


def _compare(plan, other, currency: str, *, winner: bool) -> str:
    """The term that separates two plans most, in words ("cheaper by ¥3.20", "farther by 120 km")."""
    diffs = {t: other.terms[t] - plan.terms[t] for t in TERMS}  # plan is the better one
    term = max(TERMS, key=lambda t: diffs[t])
    if diffs[term] <= 0:
        return SAME_SCORE if winner else SAME_SCORE_LATER
    a, b = plan, other
    if term == "cost":
        money = _money(b.raw["cost"] - a.raw["cost"], currency)
        return (CHEAPER if winner else DEARER) % {"money": money}
    if term == "distance":
        km = f"{b.raw['distance_km'] - a.raw['distance_km']:,.0f} km"
        return (NEARER if winner else FARTHER) % {"km": km}
    if term == "split":
        if winner:
            return FEWER_SHIPMENTS % {"shipments": a.raw["shipments"], "other": b.raw["shipments"]}
        return SPLITS_INTO % {"shipments": b.raw["shipments"]}
    if term == "balance":
        if winner:
            return KEEPS_STOCK % {
                "taken": f"{a.raw['stock_taken_pct']:.0f}",
                "other": f"{b.raw['stock_taken_pct']:.0f}",
            }
        return TAKES_STOCK % {
            "taken": f"{b.raw['stock_taken_pct']:.0f}",
            "other": f"{a.raw['stock_taken_pct']:.0f}",
        }
    if winner:
        return LESS_BUSY % {"load": f"{a.raw['load_pct']:.0f}", "other": f"{b.raw['load_pct']:.0f}"}
    return BUSIER % {"load": f"{b.raw['load_pct']:.0f}", "other": f"{a.raw['load_pct']:.0f}"}


def _plan_row(plan) -> dict:
    return {
        "kind": "set" if len(plan.locations) > 1 else "location",
        "location_id": plan.locations[0].location.pk if len(plan.locations) == 1 else None,
        "location": " + ".join(plan.codes),
        "locations": plan.codes,
        "eligible": not plan.missing,
        "distance_km": plan.raw["distance_km"] if len(plan.locations) > 1 else plan.locations[0].distance_km,
        "cost": plan.raw["cost"],
        "shipments": plan.raw["shipments"],
        "load_pct": plan.raw["load_pct"],
        "stock_taken_pct": plan.raw["stock_taken_pct"],
        "terms": plan.terms,
        "score": plan.score,
        "units": plan.shipped_units,
        "missing_units": plan.missing_units,
    }


def explain_candidates(currency: str, singles, ordered: list, best, complete: bool, total: int) -> list[dict]:
    """Every candidate as a row: its terms, eligibility and verdict against ``best``."""
    rows_ = []
    by_location = {p.locations[0].location.pk: p for p in ordered if len(p.locations) == 1}
    runner_up = next((p for p in ordered if p is not best and not p.missing), None)
    for s in singles:  # every location, eligible or not
        plan = by_location.get(s.location.pk)
        if plan is not None:
            row = _plan_row(plan)
        else:
            row = {
                "kind": "location",
                "location_id": s.location.pk,
                "location": s.location.code,
                "locations": [s.location.code],
                "eligible": False,
                "distance_km": s.distance_km,
                "cost": None,
                "shipments": 1,
                "load_pct": s.load_pct,
                "terms": {},
                "score": None,
                "units": 0,
                "missing_units": total,
            }
        row["eligible"] = not s.reasons
        row["reasons"] = list(s.reasons)
        rows_.append((plan, row))
    # Sets: the full ones (and the chosen partial one), best first, ten at most.
    sets = [p for p in ordered if len(p.locations) > 1 and (not p.missing or p is best)][:SETS_SHOWN]
    for plan in sets:
        row = _plan_row(plan)
        row["reasons"] = [] if not plan.missing else [SHORT_OF_UNITS % {"units": plan.missing_units}]
        rows_.append((plan, row))
    result = []
    for plan, row in rows_:
        row["chosen"] = plan is not None and plan is best
        if row["chosen"]:
            if not complete:
                row["verdict"] = CHOSEN_PARTIAL % {"shipped": plan.shipped_units, "total": total}
            elif runner_up is None:
                row["verdict"] = CHOSEN_ONLY_SET if len(plan.locations) > 1 else CHOSEN_ONLY_LOCATION
            else:
                row["verdict"] = CHOSEN_LOWEST % {
                    "score": f"{plan.score:g}",
                    "compare": _compare(plan, runner_up, currency, winner=True),
                    "other": " + ".join(runner_up.codes),
                }
        elif row["reasons"]:
            row["verdict"] = "; ".join(row["reasons"])
        elif plan is not None and best is not None:
            row["verdict"] = SCORE_COMPARED % {
                "score": f"{plan.score:g}",
                "compare": _compare(best, plan, currency, winner=False),
            }
        else:
            row["verdict"] = NOT_CHOSEN
        result.append(row)
    result.sort(key=lambda r: (not r["chosen"], not r["eligible"], r["score"] is None, r["score"] or 0, r["location"]))
    return result
