from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import atp
        from .care import notification_outbox
        from .care.panels import register_panels
        from .intake import background

        notification_outbox.register()  # customer notices: the outbox handler of kind "notification"
        atp.register()  # stock pushes to channels: the outbox handler of kind "stock_push"
        register_panels()
        from django.db.models.signals import post_delete, post_save

        from .intake.inbox import channels_forget
        from .models import Channel

        # The inbox caches channels per process: a change made in this process is seen at once.
        post_save.connect(channels_forget, sender=Channel, dispatch_uid="orders.inbox.channels_forget")
        post_delete.connect(channels_forget, sender=Channel, dispatch_uid="orders.inbox.channels_forget_delete")
        background.register()  # messages without an outcome: the sweep and its page
