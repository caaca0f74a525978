"""A short cache of computed report figures, keyed by what was asked.

Report pages are read far more often than the figures move: the dashboard is every role's landing
page and a manager opens the same KPI with the same filters several times a minute. A computed
``KpiResult`` (or the dashboard's figures) is kept for ``REPORTS_CACHE_SECONDS`` (60 by default;
0 turns it off) under a key made of the KPI, the filters and today's date, so a relative period
rolls over at midnight. The page shows when its figures were computed and offers "recompute now"
(``?fresh=1``), which computes and refreshes the cached copy. Scheduled e-mails and exports of a
fresh page never read a stale copy: services call ``kpi.result`` directly.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

PREFIX = "reports:v1:"
logger = logging.getLogger(__name__)


def ttl() -> int:
    return int(getattr(settings, "REPORTS_CACHE_SECONDS", 60))


def _key(*parts) -> str:
    raw = json.dumps([str(p) for p in parts], sort_keys=True)
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def cached(name: str, params: dict, compute, *, fresh: bool = False):
    """(value, computed_at): the cached value of ``compute()`` for ``name`` and ``params`` unless
    ``fresh`` or missing, else computed now and kept for ttl() seconds."""
    seconds = ttl()
    # The language is part of the key: a result holds labels and notes in the language it was computed in.
    key = _key(name, json.dumps(params, sort_keys=True, default=str), timezone.localdate(), get_language())
    if seconds > 0 and not fresh:
        hit = cache.get(key)
        if hit is not None:
            return hit
    value = (compute(), timezone.now())
    if seconds > 0 and getattr(value[0], "available", True):  # "not available yet" is not kept
        try:
            cache.set(key, value, seconds)
        except Exception:  # noqa: BLE001 - a figure that cannot be cached is still shown
            logger.warning("reports: could not cache %s", name, exc_info=True)
    return value


def kpi_result(kpi, filters, *, fresh: bool = False):
    """A KPI's result for these filters, through the cache: (KpiResult, computed_at)."""
    return cached(f"kpi:{kpi.slug}", filters.to_json(), lambda: kpi.result(filters, fresh=fresh), fresh=fresh)
