"""The KPI catalogue: every figure the reports show, each with its formula and drill-down.

``REGISTRY`` maps slug -> KPI object; ``catalogue()`` lists them in catalogue order, grouped.
"""

from django.utils.translation import gettext_lazy as _

from . import delivery, fulfilment, gifts, quality, sales, stock, waiting
from .base import NO_DATA_SOURCE, Filters, Kpi, KpiResult

__all__ = ["NO_DATA_SOURCE", "REGISTRY", "Filters", "Kpi", "KpiResult", "catalogue", "get"]

_ORDER = [*sales.KPIS, *gifts.KPIS, *fulfilment.KPIS, *delivery.KPIS, *stock.KPIS, *quality.KPIS, *waiting.KPIS]
GROUPS = [_("Orders and revenue"), _("Fulfilment"), _("Delivery"), _("Inventory"), _("Returns and service")]

REGISTRY: dict[str, Kpi] = {}
for _kpi in _ORDER:
    assert _kpi.slug not in REGISTRY, _kpi.slug
    REGISTRY[_kpi.slug] = _kpi


def get(slug: str) -> Kpi | None:
    return REGISTRY.get(slug)


def catalogue() -> list[tuple[str, list[Kpi]]]:
    return [(g, [k for k in REGISTRY.values() if k.group == g]) for g in GROUPS]
