"""A real `celery -A oms worker` process takes a task off Redis and writes to the test database.

Runs in `make test`'s PostgreSQL + Redis lane. The task is oms.tasks.worker_smoke_test, which
exists only for this test: it creates an auth Group named by its argument.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection

from oms.celery import app

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.serial]

WORKER_START_TIMEOUT = 90  # seconds until the task's effect must be visible
WORKER_STOP_TIMEOUT = 20


def _test_database_url() -> str:
    """A DATABASE_URL naming pytest-django's test database (not the one in DATABASE_URL)."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    password = quote(db["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(db['NAME'], safe='')}"


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()  # warm shutdown
    try:
        worker.wait(WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def test_real_worker_runs_a_task_sent_through_redis(transactional_db, tmp_path: Path):
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert app.conf.task_always_eager is False  # tests/conftest.py turns it off for redis tests

    run_id = uuid.uuid4().hex[:12]
    queue = f"oms-worker-smoke-{run_id}"  # a queue of its own: no other message can interfere
    group_name = f"worker-smoke-test-{run_id}"

    # Send before any worker exists: the message waits in Redis, and nothing in this
    # process runs it (send_task never executes locally, eager or not).
    result = app.send_task("oms.tasks.worker_smoke_test", args=[group_name], queue=queue)
    time.sleep(0.3)
    assert not Group.objects.filter(name=group_name).exists()

    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CONN_MAX_AGE": "0",
        "DJANGO_SETTINGS_MODULE": "oms.settings",
    }
    env.pop("REPORTS_DATABASE_URL", None)
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "oms",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                f"--queues={queue}",
                f"--hostname={queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not Group.objects.filter(name=group_name).exists():
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log_path.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"no effect of the task after {WORKER_START_TIMEOUT} s; worker log:\n"
                    f"{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
    finally:
        _stop(worker)

    assert Group.objects.filter(name=group_name).count() == 1
    log_text = log_path.read_text(errors="replace")
    assert f"oms.tasks.worker_smoke_test[{result.id}] succeeded" in log_text, log_text
    assert worker.returncode is not None
