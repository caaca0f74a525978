"""Settings for pytest: the project's settings with test defaults for what the environment
does not say (pytest-django imports settings before any conftest runs)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("OMS_TESTING", "1")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")

from oms.settings import *  # noqa: E402, F403

# Settings the tests depend on are pinned here, whatever the caller's shell exports (scripts/test.sh also
# unsets the documented variables): e.g. OMS_NOTIFICATIONS_SUPPRESSED=1 would silence every customer message.
OMS_NOTIFICATIONS_SUPPRESSED = False
