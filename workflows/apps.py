from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from inventory.resources import receipts_through

        from . import tasks  # noqa: F401  (registers workflows.apply_channel_update)
        from .receipts import stock_receipt

        receipts_through(stock_receipt)  # a receipts import releases waiting presale orders (workflows/receipts.py)
