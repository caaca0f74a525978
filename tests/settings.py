"""Settings for pytest: the project's settings with test defaults for what the environment
does not say (pytest-django imports settings before any conftest runs)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("OMS_TESTING", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

# Under pytest-xdist each worker gets a var folder of its own (media, the drop folder, the embedded broker's
# folders), a subfolder named after the worker, so no worker sees another's files.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw"):
    from pathlib import Path

    _var = Path(os.environ.get("OMS_VAR_DIR") or Path(__file__).resolve().parent.parent / "var") / _xdist_worker
    _var.mkdir(parents=True, exist_ok=True)
    os.environ["OMS_VAR_DIR"] = str(_var)

from oms.settings import *  # noqa: E402, F403

# Settings the tests depend on are pinned here, whatever the caller's shell exports (scripts/test.sh also
# unsets the documented variables): e.g. OMS_NOTIFICATIONS_SUPPRESSED=1 would silence every customer message.
OMS_NOTIFICATIONS_SUPPRESSED = False
# Tests make users with passwords all the time (tests/journey.py's four roles, factories.make_user, seed_demo):
# the production hasher (PBKDF2, a million rounds) spends ~0.3 s of CPU on each. No test is about the hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Under pytest-xdist each worker has a test database of its own (pytest-django); it gets a Redis cache database of
# its own too (gw0 -> 2, gw1 -> 3, ...; a run without xdist keeps REDIS_URL's), since tests clear the cache
# (FLUSHDB) and cache pages by ids that repeat between the workers' databases. The broker (CELERY_BROKER_URL) stays
# shared: tests that run a real worker are `serial` and never run beside another test.
if _xdist_worker.startswith("gw") and os.environ.get("REDIS_URL"):
    from urllib.parse import urlsplit, urlunsplit

    _redis = urlsplit(os.environ["REDIS_URL"])
    _db = 2 + int(_xdist_worker[2:])
    if _db > 15:
        raise RuntimeError(f"xdist worker {_xdist_worker}: Redis has databases 0-15 only; run fewer workers")
    CACHES["default"]["LOCATION"] = urlunsplit(_redis._replace(path=f"/{_db}"))  # noqa: F405
