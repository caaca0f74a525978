from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import atp, background, notification_outbox
        from .customer_panels import register_panels

        notification_outbox.register()  # customer notices: the outbox handler of kind "notification"
        atp.register()  # stock pushes to channels: the outbox handler of kind "stock_push"
        register_panels()
        background.register()  # messages without an outcome: the sweep and its page
