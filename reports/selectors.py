"""Read-only figures for the dashboard, through the reports database alias.

Kept to a handful of indexed queries: the dashboard is every role's landing page.
"""

from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.status import ShipmentStatus
from inventory import selectors as inventory_selectors
from oms.db_router import reports_db
from orders.models import Order
from orders.status import OrderStatus

LATE_AFTER = timedelta(hours=24)


def low_stock_panel(limit: int = 10):
    """LOW-STOCK PANEL: the inventory app provides ``inventory.selectors.low_stock_alerts()``
    (a list or queryset of alerts). Until it exists the dashboard shows no panel."""
    alerts = getattr(inventory_selectors, "low_stock_alerts", None)
    if alerts is None:
        return None
    return list(alerts()[:limit])


def dashboard_figures(now=None) -> dict:
    now = now or timezone.now()
    db = reports_db()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    orders = Order.objects.using(db)
    counts = dict(orders.values_list("status").annotate(n=Count("id")).order_by())
    # Today's and yesterday's intake in one indexed range scan on created_at.
    intake = orders.filter(created_at__gte=today - timedelta(days=1)).aggregate(
        today=Count("id", filter=Q(created_at__gte=today)), yesterday=Count("id", filter=Q(created_at__lt=today))
    )
    open_statuses = [ShipmentStatus.RESERVED, ShipmentStatus.PICKING, ShipmentStatus.PACKED]
    late = Shipment.objects.using(db).filter(status__in=open_statuses, created_at__lt=now - LATE_AFTER)
    # The 20 oldest: the 20 oldest of each status, each an ordered range of the (status, created_at)
    # index, merged here. One ORDER BY over the IN list walks the created_at index from the oldest
    # shipment, through every delivered one (0.7 s at 1,000,000 orders).
    late_list = sorted(
        (
            shipment
            for status in open_statuses
            for shipment in late.filter(status=status).select_related("order", "location").order_by("created_at")[:20]
        ),
        key=lambda shipment: (shipment.created_at, shipment.pk),
    )[:20]
    return {
        "by_status": [{"status": s.value, "label": s.label, "count": counts.get(s.value, 0)} for s in OrderStatus],
        "intake_today": intake["today"],
        "intake_yesterday": intake["yesterday"],
        "on_hold": orders.filter(on_hold=True).exclude(status=OrderStatus.CANCELLED).count(),
        "late_shipments": late_list,
        "late_count": len(late_list) if len(late_list) < 20 else late.count(),
        "by_channel_today": list(
            orders.filter(created_at__gte=today).values("channel__name").annotate(n=Count("id")).order_by("-n")
        ),
        "low_stock": low_stock_panel(),
    }
