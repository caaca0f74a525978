"""Infrastructure tasks of the base package (no business logic lives here)."""

from celery import shared_task
from django.contrib.auth.models import Group

from .background import sweep
from .imports.jobs import preview_in_worker, run_job
from .outbox import outbox_dispatch_all


@shared_task(name="oms.tasks.worker_smoke_test")
def worker_smoke_test(group_name: str) -> int:
    """THE WORKER SMOKE TEST TASK, used only by tests/oms/test_celery_worker.py.

    It proves that a real `celery -A oms worker` takes a task off the broker, runs it with
    Django set up, and writes to the database the test reads. The effect had to be a row in
    a table that exists anyway, so it creates an auth Group named by its argument (the test
    uses a unique, obviously synthetic name). Idempotent, so a redelivery changes nothing.
    Returns the group's id.
    """
    group, _created = Group.objects.get_or_create(name=group_name)
    return group.pk


@shared_task(name="oms.run_import_job", acks_late=True)
def run_import_job(job_id: int) -> None:
    """Run a confirmed spreadsheet import (oms/imports/jobs.py). Only a queued job is claimed, with one
    UPDATE, so a task delivered twice, or for a job already running or done, does nothing."""
    run_job(job_id)


@shared_task(name="oms.sweep_background_work", acks_late=True)
def sweep_background_work() -> dict:
    """Send again the work lost or failed tasks left (oms/background.py probes)."""
    return sweep()


@shared_task(name="oms.preview_import_job", acks_late=True)
def preview_import_job(job_id: int) -> None:
    """Read a big uploaded file's preview in the worker, not the upload request (oms/imports/jobs.py)."""
    preview_in_worker(job_id)


@shared_task(name="oms.outbox_dispatch", acks_late=True, bind=True)
def outbox_dispatch(self) -> dict:
    """Send the due outbox rows in batches until none is left (oms/outbox/). Nudged after the commits that
    write rows, and by the sweep for rows past their retry time; two at once take different rows. Run eagerly
    (the tests' fast lane, inside the nudging commit) it does not wait to gather trickling rows."""
    return outbox_dispatch_all(gather=0 if self.request.is_eager else None)
