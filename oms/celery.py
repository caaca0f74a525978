"""The Celery app. Periodic jobs live in the beat schedule here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {}
# Files partners drop into var/dropbox/<channel>/ (orders.intake.dropbox), once a minute.
app.conf.beat_schedule["orders.import_drop_folders"] = {"task": "orders.import_drop_folders", "schedule": 60.0}


def ensure_queue_dirs() -> None:
    """The embedded file-system transport needs its folders to exist."""
    opts = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if opts.get(key):
            os.makedirs(opts[key], exist_ok=True)
