"""Test-wide set-up. The database is whatever DATABASE_URL says (PostgreSQL under `make test`,
SQLite in the fast lane); tasks run eagerly unless a test starts a real worker."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("OMS_TESTING", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
