from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders.extensions import register_order_api_extra, register_order_panel

        from . import api, background, panels, receivers

        receivers.connect()
        background.register()  # confirmed orders never routed: the sweep and the Background work page
        from . import merge_views
        from .extensions import register_shipment_panel

        register_shipment_panel(merge_views.shipment_merge_panel, position=5)
        register_order_panel(panels.order_shipments_panel, position=10)
        register_order_api_extra(api.order_shipments_extra)
