"""Settings read from the environment. Settings are evaluated once per process, so each
case imports them in a fresh Python subprocess with exactly the environment it names."""

import json
import os
import subprocess
import sys

from django.conf import settings

from oms.db_router import ReportsReplicaRouter, reports_db

# Variables that settings read; removed from the subprocess's environment unless a test sets them.
SETTINGS_VARS = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REPORTS_DATABASE_URL",
    "CONN_MAX_AGE",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "REDIS_URL",
    "OMS_TESTING",
    "OMS_VAR_DIR",
    "DJANGO_SETTINGS_MODULE",
)

# Only the settings module is imported (no django.setup()): these tests are about settings.
SETUP = "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'oms.settings'; from django.conf import settings; "


def run_settings(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "-c", SETUP + code],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_json(expression: str, preamble: str = "", **env: str):
    statements = [preamble, f"print(json.dumps({expression}, default=str))"]
    proc = run_settings("; ".join(s for s in statements if s), **env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_secret_key_is_required_when_debug_is_off():
    proc = run_settings("settings.DEBUG; print('started')", DEBUG="0")

    assert proc.returncode != 0
    assert "started" not in proc.stdout
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in proc.stderr


def test_secret_key_given_with_debug_off_starts_with_it(tmp_path):
    key = "k" * 60
    result = settings_json(
        "[settings.DEBUG, settings.SECRET_KEY, settings.ALLOWED_HOSTS]",
        DEBUG="0",
        SECRET_KEY=key,
        ALLOWED_HOSTS="oms.example.com, www.example.com",
        OMS_VAR_DIR=str(tmp_path),
    )

    assert result == [False, key, ["oms.example.com", "www.example.com"]]


def test_debug_without_secret_key_uses_the_dev_key(tmp_path):
    result = settings_json("[settings.DEBUG, settings.SECRET_KEY]", DEBUG="1", OMS_VAR_DIR=str(tmp_path))

    assert result == [True, "dev-only-insecure-key-do-not-use-in-production"]


def test_database_url_for_postgresql_is_parsed(tmp_path):
    db = settings_json(
        "{k: settings.DATABASES['default'][k] for k in "
        "('ENGINE', 'NAME', 'USER', 'PASSWORD', 'HOST', 'PORT', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')}",
        DEBUG="1",
        DATABASE_URL="postgres://oms_user:s%40cret@db.example.internal:5433/oms_prod",
        OMS_VAR_DIR=str(tmp_path),
    )

    assert db == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "oms_prod",
        "USER": "oms_user",
        "PASSWORD": "s@cret",
        "HOST": "db.example.internal",
        "PORT": 5433,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def test_conn_max_age_comes_from_the_environment(tmp_path):
    age = settings_json(
        "settings.DATABASES['default']['CONN_MAX_AGE']",
        DEBUG="1",
        DATABASE_URL="postgres://u:p@localhost/oms",
        CONN_MAX_AGE="0",
        OMS_VAR_DIR=str(tmp_path),
    )

    assert age == 0


def test_no_database_url_means_embedded_sqlite_under_the_var_dir(tmp_path):
    db = settings_json("settings.DATABASES['default']", DEBUG="1", OMS_VAR_DIR=str(tmp_path))

    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "oms.sqlite3")
    assert db["CONN_MAX_AGE"] == 0
    # Writers wait for each other instead of failing with "database is locked" (make run: web, worker, beat).
    assert db["OPTIONS"]["timeout"] == 30
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_no_reports_alias_without_a_replica(tmp_path):
    aliases = settings_json(
        "sorted(settings.DATABASES)", DEBUG="1", DATABASE_URL="postgres://u:p@primary/oms", OMS_VAR_DIR=str(tmp_path)
    )

    assert aliases == ["default"]


def test_reports_database_url_adds_a_reports_alias_mirroring_default_in_tests(tmp_path):
    db = settings_json(
        "[sorted(settings.DATABASES), settings.DATABASES['reports']['HOST'], settings.DATABASES['reports']['TEST']]",
        DEBUG="1",
        DATABASE_URL="postgres://u:p@primary/oms",
        REPORTS_DATABASE_URL="postgres://ro:p@replica/oms",
        OMS_VAR_DIR=str(tmp_path),
    )

    assert db == [["default", "reports"], "replica", {"MIRROR": "default"}]


def test_router_sends_report_reads_to_the_replica_when_configured(tmp_path):
    # The router never looks at the model, so None stands in for one (no app loading needed).
    result = settings_json(
        "[r.db_for_read(None, reports=True), r.db_for_read(None), r.db_for_write(None, reports=True), "
        "r.allow_migrate('default', 'orders'), r.allow_migrate('reports', 'orders'), reports_db()]",
        preamble="from oms.db_router import ReportsReplicaRouter, reports_db; r = ReportsReplicaRouter()",
        DEBUG="1",
        DATABASE_URL="postgres://u:p@primary/oms",
        REPORTS_DATABASE_URL="postgres://ro:p@replica/oms",
        OMS_VAR_DIR=str(tmp_path),
    )

    assert result == ["reports", None, "default", True, False, "reports"]


def test_router_without_a_replica_reads_from_default():
    from django.contrib.auth.models import User

    assert "reports" not in settings.DATABASES
    router = ReportsReplicaRouter()

    assert router.db_for_read(User, reports=True) is None
    assert router.db_for_read(User) is None
    assert router.db_for_write(User) == "default"
    assert router.allow_migrate("default", "orders") is True
    assert reports_db() == "default"
    assert "oms.db_router.ReportsReplicaRouter" in settings.DATABASE_ROUTERS
