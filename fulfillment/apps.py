from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders.extensions import register_order_api_extra, register_order_panel

        from . import api, panels, receivers

        receivers.connect()
        register_order_panel(panels.order_shipments_panel, position=10)
        register_order_api_extra(api.order_shipments_extra)
