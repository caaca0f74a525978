"""The Celery app. Periodic jobs live in the beat schedule here."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {}


def ensure_queue_dirs() -> None:
    """The embedded file-system transport needs its folders to exist."""
    opts = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder"):
        if opts.get(key):
            os.makedirs(opts[key], exist_ok=True)
