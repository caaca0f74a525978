from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import background, notification_tasks, notifications  # noqa: F401  (registers the outbox's tasks)
        from .customer_panels import register_panels

        notifications.connect()
        register_panels()
        background.register()  # messages without an outcome, notices never sent: the sweep and its page
