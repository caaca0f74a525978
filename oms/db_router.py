"""Send reads of the reports app to the "reports" alias when one is configured."""

from django.conf import settings


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        if hints.get("reports") and "reports" in settings.DATABASES:
            return "reports"
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def reports_db() -> str:
    """The alias report queries read from: a replica when configured, else default."""
    return "reports" if "reports" in settings.DATABASES else "default"
