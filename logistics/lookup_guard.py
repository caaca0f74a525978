"""Guards of the public tracking page: a per-client rate limit (by ``oms.net.client_ip``, so that behind the
documented proxy each customer has their own bucket) and a per-order lockout after repeated failed contact
checks, whatever the IP.

The lockout counts failures per order *number as typed* (normalised), whether or not such an order exists,
so being locked out says nothing about the order's existence. After ``TRACKING_LOOKUP_FAILURES`` failures
within ``TRACKING_LOOKUP_LOCK_MINUTES`` the number is locked for ``TRACKING_LOOKUP_LOCK_MINUTES``. Counters
live in the cache (Redis in production: shared by every web process)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from oms.net import client_ip


def rate_limited(request, scope: str) -> bool:
    """True when this client has used up TRACKING_LOOKUP_RATE requests of ``scope`` this minute (counts one)."""
    key = f"track-{scope}:{client_ip(request)}:{timezone.now():%Y%m%d%H%M}"
    count = cache.get_or_set(key, 0, 70)
    if count >= settings.TRACKING_LOOKUP_RATE:
        return True
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, 70)
    return False


def normalise_number(number: str) -> str:
    return (number or "").strip().upper()


def _keys(number: str) -> tuple[str, str]:
    digest = hashlib.sha256(normalise_number(number).encode()).hexdigest()[:32]
    return f"track-fail:{digest}", f"track-lock:{digest}"


def lookup_locked(number: str) -> bool:
    return bool(cache.get(_keys(number)[1]))


def lookup_failed(number: str) -> bool:
    """Count a failed contact check for this number; True when it is now locked."""
    fails, lock = _keys(number)
    seconds = settings.TRACKING_LOOKUP_LOCK_MINUTES * 60
    cache.add(fails, 0, seconds)  # the window starts at the first failure
    try:
        count = cache.incr(fails)
    except ValueError:
        cache.set(fails, 1, seconds)
        count = 1
    if count >= settings.TRACKING_LOOKUP_FAILURES:
        cache.set(lock, 1, seconds)
        cache.delete(fails)
        return True
    return False


def lookup_succeeded(number: str) -> None:
    cache.delete(_keys(number)[0])
