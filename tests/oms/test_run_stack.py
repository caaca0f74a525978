"""`make run` the way a newcomer meets it (issue 13, item 1): scripts/run.sh on the embedded default
(SQLite, the file-system broker, a real Celery worker and beat, runserver), a dozen orders posted
through the API at once, each routed or held; links follow the port; a clean Ctrl-C exits 0.

Runs in the SQLite lane only (it starts its own processes on its own SQLite file either way)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ORDERS = 12
WORLD = """
from oms.models import ApiToken
from tests import journey
journey.world()
_, key = ApiToken.issue(journey.users()["manager"])
print("KEY", key)
"""

pytestmark = [
    pytest.mark.skipif(
        "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="the SQLite lane runs the embedded stack"
    ),
    pytest.mark.serial,  # a real worker, beat and runserver beside the test
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path, port: int) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "REPORTS_DATABASE_URL", "SITE_URL"}
        and k not in {"CELERY_TASK_ALWAYS_EAGER", "OMS_TESTING", "PYTEST_XDIST_WORKER", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(OMS_VAR_DIR=str(var_dir), PORT=str(port), OMS_SEED_DEMO="0", OMS_SKIP_APT="1", PYTHONUNBUFFERED="1")
    return env


def _call(url: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=data, headers={"Authorization": f"Token {key}", "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _order(i: int) -> dict:
    return {
        "channel": "web",
        "external_id": f"RUN-{i}",
        "ship_to": {
            "name": "Han Meimei",
            "phone": "13712345678",
            "country": "CN",
            "province": "Shanghai",
            "city": "Shanghai",
            "address1": f"{i} Nanjing Road",
            "postcode": "200001",
        },
        "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "19.90"}],
    }


def test_make_run_routes_every_order_posted_at_once_and_stops_cleanly(tmp_path):
    port = _free_port()
    env = _env(tmp_path / "var", port)
    log = (tmp_path / "run.log").open("w+")
    stack = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)  # noqa: S310
                break
            except OSError:
                assert stack.poll() is None, Path(log.name).read_text()
                assert time.monotonic() < deadline, "the stack did not come up:\n" + Path(log.name).read_text()
                time.sleep(1)
        world = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", WORLD],
            cwd=ROOT,
            env={**env, "DEBUG": "1"},
            capture_output=True,
            text=True,
            check=True,
        )
        key = next(line.split()[1] for line in world.stdout.splitlines() if line.startswith("KEY "))

        with ThreadPoolExecutor(ORDERS) as pool:
            answers = list(pool.map(lambda i: _call(f"{base}/api/v1/orders/", key, _order(i)), range(ORDERS)))
        assert [status for status, _ in answers] == [202] * ORDERS, answers

        deadline = time.monotonic() + 120
        while True:
            _, listing = _call(f"{base}/api/v1/orders/?channel=web&limit=100", key)
            states = {o["external_id"]: (o["status"], o["on_hold"]) for o in listing["results"]}
            waiting = [e for e, (status, held) in states.items() if status == "confirmed" and not held]
            if len(states) == ORDERS and not waiting:
                break
            assert time.monotonic() < deadline, f"never routed: {waiting}\n" + Path(log.name).read_text()[-4000:]
            time.sleep(1)
        assert sorted(states.values()) == [("allocated", False)] * ORDERS
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's foreground group
        try:
            code = stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            code = "killed"
    output = Path(log.name).read_text()
    assert code == 0, output[-3000:]
    assert f"links in labels and e-mails: http://127.0.0.1:{port}" in output
    assert "database is locked" not in output
    for alarm in ("SecurityWarning", "No hostname was supplied", "Do not use it in a production setting"):
        assert alarm not in output, alarm
