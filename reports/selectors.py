"""Read-only figures for the dashboard and reports, through the reports database alias."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from oms.db_router import reports_db
from orders.models import Order
from orders.status import OrderStatus


def dashboard_figures(now=None) -> dict:
    now = now or timezone.now()
    db = reports_db()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    orders = Order.objects.using(db)
    counts = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    late = (
        Shipment.objects.using(db)
        .filter(
            status__in=[ShipmentStatus.RESERVED, ShipmentStatus.PICKING, ShipmentStatus.PACKED],
            created_at__lt=now - timedelta(hours=24),
        )
        .select_related("order", "location")
        .order_by("created_at")
    )
    return {
        "by_status": [{"status": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in OrderStatus],
        "intake_today": orders.filter(created_at__gte=today).count(),
        "intake_yesterday": orders.filter(created_at__gte=today - timedelta(days=1), created_at__lt=today).count(),
        "on_hold": orders.filter(on_hold=True).exclude(status=OrderStatus.CANCELLED).count(),
        "late_shipments": list(late[:20]),
        "late_count": late.count(),
        "by_channel_today": list(
            orders.filter(created_at__gte=today).values("channel__name").annotate(n=Count("id")).order_by("-n")
        ),
    }
