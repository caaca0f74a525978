from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Queued by name (oms.background.send, reports/facts.py): registered here so eager mode finds the task.
        from . import tasks  # noqa: F401
