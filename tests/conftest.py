"""Test-wide set-up. The database is whatever DATABASE_URL says (PostgreSQL under `make test`,
SQLite in the fast lane); tasks run eagerly unless a test starts a real worker.

Markers (declared in pyproject.toml):

- ``postgres``: skipped unless the default database is PostgreSQL;
- ``redis``: skipped unless CELERY_BROKER_URL is a redis:// URL; Celery's eager mode is
  switched off for the duration of such a test, so tasks really go through the broker;
- ``browser``: skipped unless Debian's chromium is installed (CHROMIUM_PATH, default
  /usr/bin/chromium);
- ``serial``: cannot share the machine with another test (it restarts PostgreSQL, runs a real Celery
  worker or `make run`, drives a browser). scripts/test.sh runs the serial tests of a lane first, one at
  a time, then the rest with pytest-xdist. Every ``redis`` and ``browser`` test is serial too (added
  below), so a new one cannot land in the parallel step by mistake.

With OMS_REQUIRE_ALL=1 (set by scripts/test.sh, i.e. `make test` and CI) a missing
PostgreSQL, Redis or chromium fails those tests instead of skipping them.

Note: pytest-django imports oms.settings before this file runs, so the defaults below only
reach the settings when they are already in the environment: scripts/test.sh exports them.
They stay here for subprocesses started by tests and as the record of what tests assume.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("OMS_TESTING", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _require_all() -> bool:
    return os.environ.get("OMS_REQUIRE_ALL", "").strip().lower() in {"1", "true", "yes", "on"}


def _missing_requirements(item: pytest.Item) -> list[str]:
    from django.conf import settings

    missing = []
    if item.get_closest_marker("postgres"):
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            missing.append(f"PostgreSQL (the default database is {engine}; set DATABASE_URL=postgres://...)")
    if item.get_closest_marker("redis"):
        broker = settings.CELERY_BROKER_URL or ""
        if not broker.startswith(("redis://", "rediss://")):
            missing.append(f"Redis (CELERY_BROKER_URL is {broker!r}; set it to redis://...)")
    if item.get_closest_marker("browser"):
        if not os.access(CHROMIUM_PATH, os.X_OK):
            missing.append(f"chromium ({CHROMIUM_PATH} is missing; apt-get install chromium)")
    return missing


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    # tryfirst: ahead of pytest's own hook, which deselects by -m.
    for item in items:
        if item.get_closest_marker("serial") is None and (
            item.get_closest_marker("redis") is not None or item.get_closest_marker("browser") is not None
        ):
            item.add_marker(pytest.mark.serial)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = _missing_requirements(item)
    if not missing:
        return
    message = "needs " + "; ".join(missing)
    if _require_all():
        pytest.fail(f"{message} (OMS_REQUIRE_ALL is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _celery_eager_off_for_redis_tests(request):
    """Eager execution stays on for normal tests; a `redis` test talks to a real broker."""
    if request.node.get_closest_marker("redis") is None:
        yield
        return
    from oms.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def chromium_path() -> Path:
    """Debian's chromium, for Playwright's `executable_path` (its own browser download fails here)."""
    return Path(CHROMIUM_PATH)


def _compile_stale_catalogues() -> None:
    """Build the .mo of every catalogue whose .mo is missing or older than its .po (``make install`` does
    this with gettext; a test run started another way, or after a catalogue changed, would otherwise see
    English). Written with babel to a temporary file and moved into place, so parallel workers agree."""
    import tempfile

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    for po in [*root.glob("locale/*/LC_MESSAGES/django.po"), *root.glob("*/locale/*/LC_MESSAGES/django.po")]:
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        fd, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as handle:
            write_mo(handle, catalog)
        os.replace(temporary, mo)


def pytest_configure(config) -> None:
    _compile_stale_catalogues()


@pytest.fixture(autouse=True)
def _english_unless_a_test_asks():
    """Each test starts in the default language: a request in Chinese leaves Chinese active in the thread
    (LocaleMiddleware), which would make the next test's texts Chinese."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
