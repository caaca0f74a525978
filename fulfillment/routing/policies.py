"""Routing policies and routing's reference-data caches.

**Policy choice** (``policy_for``): the live ``RoutingPolicy`` of lowest rank naming the order's channel
or one of its tags, else the live default policy, else ``BUILTIN`` (the model's default weights, ship
complete). ``PolicyRules`` is what routing needs of a policy, from a row or the built-in defaults.

**Caches**: active locations, live policies and channels' stock policies are cached per process for
``ROUTING_CACHE_SECONDS`` and for the whole of a ``routing_batch()`` (per thread); saving or deleting
a location, policy or channel clears them (``routing_cache_clear``). Other apps keep their reference
data with the same lifetime through ``cached`` (logistics' rate cards).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save

from inventory.models import Location
from orders.models import Channel, Order, StockPolicy

from ..models import RoutingPolicy, RoutingPolicyStatus
from .words import BUILTIN_POLICY

# ---- policies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRules:
    """What routing needs of a policy: a ``RoutingPolicy`` row, or the built-in defaults."""

    code: str = "builtin"
    name: str = BUILTIN_POLICY  # English, read through routing_words
    pk: int | None = None
    weight_distance: float = 1.0
    weight_cost: float = 1.0
    weight_split: float = 10.0
    weight_load: float = 0.1
    weight_balance: float = 0.0
    ship_complete: bool = True
    allow_split: bool = True
    max_locations: int = 3
    is_default: bool = False
    rank: int = 100
    channel_ids: frozenset = frozenset()
    tags: frozenset = frozenset()

    @classmethod
    def from_model(cls, policy: RoutingPolicy, channel_ids=None) -> PolicyRules:
        if channel_ids is None:
            channel_ids = [c.pk for c in policy.channels.all()] if policy.pk else []
        return cls(
            code=policy.code,
            name=policy.name,
            pk=policy.pk,
            weight_distance=float(policy.weight_distance),
            weight_cost=float(policy.weight_cost),
            weight_split=float(policy.weight_split),
            weight_load=float(policy.weight_load),
            weight_balance=float(policy.weight_balance),
            ship_complete=policy.ship_complete,
            allow_split=policy.allow_split,
            max_locations=max(1, policy.max_locations or 1),
            is_default=policy.is_default,
            rank=policy.rank,
            channel_ids=frozenset(channel_ids),
            tags=frozenset(t.strip().lower() for t in policy.tags.split(",") if t.strip()),
        )


# The built-in policy: the model's default weights; ship complete (no backorders unless a policy says so).
BUILTIN = PolicyRules()


# ---- caches -----------------------------------------------------------------------------------------

_cache: dict = {}  # process-wide, for ROUTING_CACHE_SECONDS: {key: (monotonic time, value)}
_local = threading.local()  # the current thread's routing_batch() cache, if any


def _cache_seconds() -> float:
    default = 0 if os.environ.get("OMS_TESTING") else 5
    return float(getattr(settings, "ROUTING_CACHE_SECONDS", default))


def active_batch() -> dict | None:
    """The cache of the ``routing_batch()`` this thread is in, or None."""
    return getattr(_local, "batch", None)


def routing_cache_clear(**kwargs) -> None:
    """Forget cached locations, policies and channels (connected to their post_save / post_delete)."""
    _cache.clear()
    batch = active_batch()
    if batch is not None:
        batch.clear()


@contextmanager
def routing_batch() -> Iterator[None]:
    """Keep locations, policies, channels and shipping-cost estimates for the whole block (bench,
    replays, backorder retries): routing many orders then costs no per-order reference reads.
    Per thread: another thread's routing is not affected."""
    if active_batch() is not None:
        yield
        return
    _local.batch = {}
    try:
        yield
    finally:
        _local.batch = None


def _cached(key: str, load: Callable):
    batch = active_batch()
    if batch is not None:
        if key not in batch:
            batch[key] = load()
        return batch[key]
    ttl = _cache_seconds()
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    value = load()
    _cache[key] = (now, value)
    return value


def cached(key: str, load: Callable):
    """Reference data other apps keep with routing's cache (logistics' rate cards): same lifetime."""
    return _cached(key, load)


def routing_locations() -> list[Location]:
    """The active locations by code (read once per routing batch)."""
    return _cached("locations", lambda: list(Location.objects.filter(active=True).order_by("code")))


def _live_policies() -> list[PolicyRules]:
    def load():
        rows = list(
            RoutingPolicy.objects.filter(status=RoutingPolicyStatus.LIVE)
            .prefetch_related("channels")
            .order_by("rank", "code")
        )
        return [PolicyRules.from_model(p) for p in rows]

    return _cached("policies", load)


def channel_force(channel_id: int) -> bool:
    """Whether the channel's stock policy is "force" (trust the channel, not the stock check)."""
    policies = _cached("channels", lambda: dict(Channel.objects.values_list("pk", "stock_policy")))
    return policies.get(channel_id) == StockPolicy.FORCE


for _model in (Location, RoutingPolicy, Channel):
    post_save.connect(routing_cache_clear, sender=_model, dispatch_uid=f"routing_cache_{_model.__name__}_save")
    post_delete.connect(routing_cache_clear, sender=_model, dispatch_uid=f"routing_cache_{_model.__name__}_del")
m2m_changed.connect(routing_cache_clear, sender=RoutingPolicy.channels.through, dispatch_uid="routing_cache_m2m")


def policy_for(order: Order) -> PolicyRules:
    """The live policy of lowest rank naming the order's channel or one of its tags, else the live
    default, else the built-in defaults."""
    live = _live_policies()
    tags = set(order.tag_list)
    for policy in live:
        if order.channel_id in policy.channel_ids or tags & policy.tags:
            return policy
    return next((p for p in live if p.is_default), BUILTIN)
