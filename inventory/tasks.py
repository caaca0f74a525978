"""Scheduled inventory jobs (beat entries in oms/celery.py)."""

from celery import shared_task

from . import services


@shared_task(name="inventory.send_low_stock_alerts", acks_late=True)
def send_low_stock_alerts() -> int:
    """Once a day: the low-stock digest to the managers."""
    return services.low_stock_alerts_mail()
