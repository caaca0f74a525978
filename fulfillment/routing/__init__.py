"""Scored, explainable routing (docs/routing.md).

1. **Policy**: the live ``RoutingPolicy`` of lowest rank naming the order's channel or one of its tags,
   else the live default policy, else ``BUILTIN`` (the model's default weights, ship complete).
2. **Hard constraints** per location: handling classes and classification capabilities (cold chain,
   bulky), coverage (a location ships within its own country: ``Location.country`` must equal the
   order's ship-to country), today's capacity (shipments created at the location today, not cancelled,
   against ``Location.daily_capacity``) and stock.
3. **Score** of a plan (one location, or a set of locations when the order has to split), lower wins:
   ``weight_distance`` x km/100 to the destination (``geo.locate`` + haversine) + ``weight_cost`` x the
   shipping cost from the carriers' rate cards (the estimator logistics registers) + ``weight_split`` x
   extra shipments + ``weight_load`` x percent of today's capacity used. Unknown distance or cost counts
   as the worst known one, so a location never wins by lacking data.
4. **Short stock**: ship complete holds STOCK_SHORT; otherwise (or when the channel's stock policy is
   "force") what can ship is reserved and the rest becomes ``Backorder`` rows, routed again by
   ``backorders_retry`` when stock arrives.

Every decision stores each candidate (location or set) with its terms, eligibility and verdict.
Reads are batched: one query for lines and products, one for availability, one for today's loads;
locations, policies and channels are cached per process for ``ROUTING_CACHE_SECONDS`` (and for the
whole of a ``routing_batch()``).

The package, by part (each module's docstring says more):

- ``policies``: ``PolicyRules``, ``BUILTIN``, ``policy_for``; the caches (``routing_batch``,
  ``routing_cache_clear``, ``cached``).
- ``candidates``: hard constraints per location (``unscored_candidates`` for reship), today's loads.
- ``scoring``: plans, score terms, split sets, the shipping-cost estimator (``register_cost_estimator``),
  ``evaluate`` and its explanation; late risk.
- ``decide``: ``order_route``, writes (reservations, shipments, decisions), backorders and their retry.
- ``reroute``: ``order_reroute``, ``order_dry_run``, replays.
- ``window``: ``route_window`` / ``route_waiting``: the waiting orders routed in windows, jointly (``solver``:
  HiGHS, greedy fallback), written set-based; ``explain``: why a window did not give an order its cheapest plan.

Import from ``fulfillment.routing``: every name callers use is re-exported here. Module state
(``_cache``, ``_COST_ESTIMATORS``, the batch) lives in the submodules; mutate it there, not by
rebinding names on this package.
"""

from ..shipments import lock_stock_rows  # noqa: F401  (its home is the shipments module)
from .candidates import (  # noqa: F401
    CAPABILITY_FIELDS,
    Need,
    Single,
    has_capability,
    today_loads,
    unscored_candidates,
)
from .decide import (  # noqa: F401
    BACKORDERED,
    POLICY_NEAREST,
    backorder_route,
    backorders_cancel,
    backorders_retry,
    order_route,
    order_route_now,
    short_note,
)
from .policies import (  # noqa: F401
    BUILTIN,
    PolicyRules,
    cached,
    policy_for,
    routing_batch,
    routing_cache_clear,
)
from .reroute import (  # noqa: F401
    REPLAY_KEYS,
    order_dry_run,
    order_reroute,
    replay_compute,
    replay_orders,
    replay_run,
    reroute_blocker,
)
from .scoring import (  # noqa: F401
    FAR_TRANSIT_DAYS,
    MAX_SET_CANDIDATES,
    TERMS,
    TRANSIT_BANDS,
    Evaluation,
    Plan,
    cost_memo,
    estimate_cost,
    evaluate,
    late_risk,
    plan_json,
    register_cost_estimator,
    transit_days_estimate,
)
from .window import (  # noqa: F401
    WINDOW_TASK,
    WindowResult,
    reserve_orders,
    route_waiting,
    route_window,
    waiting_orders,
    window_failed_ids,
    window_size,
)
