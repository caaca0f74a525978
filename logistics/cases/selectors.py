"""Reads for the case queue, the case page, the order panel and the knowledge base's figures."""

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from orders.models import Order

from ..models import CarrierClaim, CaseAction, ExceptionCase
from .services import playbook_for
from .types import OPEN_CASE_STATUSES, CaseType


def case_list() -> QuerySet[ExceptionCase]:
    return ExceptionCase.objects.select_related("order", "owner", "carrier", "location", "parcel")


def cases_for_order(order: Order) -> list[ExceptionCase]:
    return list(ExceptionCase.objects.filter(order=order).select_related("owner").order_by("-opened_at", "-pk"))


def case_actions(case: ExceptionCase) -> list[CaseAction]:
    return list(case.actions.select_related("user"))


def case_claims(case: ExceptionCase) -> list[CarrierClaim]:
    return list(case.claims.select_related("carrier").prefetch_related("files"))


def type_figures(case_type: str | None = None, *, worst: int = 3) -> list[dict]:
    """Per type: cases, open, resolved, mean hours to resolve, the carriers and locations with most cases."""
    qs = ExceptionCase.objects.all()
    if case_type:
        qs = qs.filter(type=case_type)
    per_type = {
        row["type"]: row
        for row in qs.values("type").annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status__in=sorted(OPEN_CASE_STATUSES))),
            resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
            mean=Avg(
                ExpressionWrapper(F("resolved_at") - F("opened_at"), output_field=DurationField()),
                filter=Q(resolved_at__isnull=False),
            ),
        )
    }
    result = []
    for value, label in CaseType.choices:
        if case_type and value != case_type:
            continue
        row = per_type.get(value, {})
        mean = row.get("mean")
        of_type = qs.filter(type=value)
        result.append(
            {
                "type": value,
                "label": label,
                "playbook": playbook_for(value),
                "total": row.get("total", 0),
                "open": row.get("open", 0),
                "resolved": row.get("resolved", 0),
                "mean_hours": round(mean.total_seconds() / 3600, 1) if mean is not None else None,
                "worst_carriers": list(
                    of_type.exclude(carrier=None)
                    .values("carrier__name")
                    .annotate(n=Count("pk"))
                    .order_by("-n", "carrier__name")[:worst]
                ),
                "worst_locations": list(
                    of_type.exclude(location=None)
                    .values("location__code")
                    .annotate(n=Count("pk"))
                    .order_by("-n", "location__code")[:worst]
                ),
                "root_causes": list(
                    of_type.exclude(root_cause="").values("root_cause").annotate(n=Count("pk")).order_by("-n")[:worst]
                ),
            }
        )
    return result
