"""The Celery app. Periodic jobs live in the beat schedule here."""

import os
import warnings

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
if os.environ.get("OMS_ROOT_WORKER_OK") == "1":
    # `make run` as root (a fresh machine, a container): Celery's superuser warning on every start says
    # nothing the developer can act on there. The serializer is JSON, so Celery's real refusal stays.
    from celery.exceptions import SecurityWarning

    warnings.filterwarnings("ignore", category=SecurityWarning)

# Every task retries typed transient database errors and records real failures (oms/background.py).
app = Celery("oms", task_cls="oms.background:OmsTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {}
# Files partners drop into var/dropbox/<channel>/ (orders.intake.dropbox), once a minute.
app.conf.beat_schedule["orders.import_drop_folders"] = {"task": "orders.import_drop_folders", "schedule": 60.0}
# Tracking polls for carriers that must be asked, and exception detection (logistics), every 15 minutes.
app.conf.beat_schedule["logistics.poll_tracking"] = {"task": "logistics.poll_tracking", "schedule": 900.0}
app.conf.beat_schedule["logistics.detect_exceptions"] = {"task": "logistics.detect_exceptions", "schedule": 900.0}
# Scheduled reports (reports.services.send_due_schedules): each is sent once on its day from its hour.
app.conf.beat_schedule["reports.send_scheduled_reports"] = {
    "task": "reports.send_scheduled_reports",
    "schedule": 3600.0,
}
# Work a lost or failed task left (oms/background.py probes): sent again once a minute; this includes outbox
# rows past their retry time (oms/outbox/: e-mails, stock pushes), so no beat entry of their own.
app.conf.beat_schedule["oms.sweep_background_work"] = {"task": "oms.sweep_background_work", "schedule": 60.0}
# Report facts (reports/facts.py): the orders changed since the last run, every minute.
app.conf.beat_schedule["reports.refresh_facts"] = {"task": "reports.refresh_facts", "schedule": 60.0}

# Stock for sale on each channel (orders/atp.py): changed figures pushed every 5 minutes (orders/tasks.py).
app.conf.beat_schedule["orders.publish_channel_stock"] = {"task": "orders.publish_channel_stock", "schedule": 300.0}
# ... and on change: the products whose stock moved since each channel last looked, every
# OMS_STOCK_ON_CHANGE_SECONDS (default 30), batched per channel (orders/atp.py publish_changed_stock).
app.conf.beat_schedule["orders.publish_changed_stock"] = {
    "task": "orders.publish_changed_stock",
    "schedule": float(os.environ.get("OMS_STOCK_ON_CHANGE_SECONDS", "30")),
}
# Channel connectors (connectors/): orders updated on the platforms pulled since each cursor, every 5 minutes
# (for missed webhooks and platforms without them).
app.conf.beat_schedule["connectors.pull_all"] = {"task": "connectors.pull_all", "schedule": 300.0}
# Reconciliation (connectors/reconcile.py): shipped here but not confirmed there, and the reverse, hourly.
app.conf.beat_schedule["connectors.reconcile_all"] = {"task": "connectors.reconcile_all", "schedule": 3600.0}
# Open backorders routed again when stock has arrived (fulfillment/routing/), every 10 minutes.
app.conf.beat_schedule["fulfillment.backorders_retry"] = {"task": "fulfillment.backorders_retry", "schedule": 600.0}
# Orders waiting for routing, routed in windows (fulfillment/routing/window.py); also nudged after intake.
app.conf.beat_schedule["fulfillment.route_window"] = {
    "task": "fulfillment.route_window",
    "schedule": float(os.environ.get("ROUTING_WINDOW_BEAT_SECONDS", "5")),
}
# 预售: presale orders whose ship-from day has come, released and routed first paid first (fulfillment/presale.py).
app.conf.beat_schedule["fulfillment.presale_release"] = {"task": "fulfillment.presale_release", "schedule": 900.0}
# Low-stock digest to the managers (inventory.tasks), every day at 07:00.
app.conf.beat_schedule["inventory.send_low_stock_alerts"] = {
    "task": "inventory.send_low_stock_alerts",
    "schedule": crontab(hour=7, minute=0),
}


def ensure_queue_dirs() -> None:
    """The embedded file-system transport needs its folders to exist."""
    opts = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if opts.get(key):
            os.makedirs(opts[key], exist_ok=True)
