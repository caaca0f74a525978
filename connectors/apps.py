from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Channel connectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from logistics.channel_notices import CHANNEL_SHIPMENT
        from oms import outbox
        from orders import atp
        from orders.channel_notices import CHANNEL_CANCEL, CHANNEL_LINES_CANCEL

        from . import services, tasks  # noqa: F401 (tasks: registered for eager mode and the beat)
        from .amazon.adapter import AmazonAdapter
        from .base import register_adapter
        from .doudian.adapter import DoudianAdapter
        from .shopify.adapter import ShopifyAdapter
        from .woocommerce.adapter import WooCommerceAdapter

        register_adapter("shopify", ShopifyAdapter())
        register_adapter("woocommerce", WooCommerceAdapter())
        register_adapter("doudian", DoudianAdapter())
        register_adapter("amazon", AmazonAdapter())
        # Shipments confirmed to the platform: the generic rows logistics writes when a shipment ships.
        outbox.register_outbox_handler(CHANNEL_SHIPMENT, services.send_shipment_notices)
        # Orders cancelled here, told to the platform (when the connection's cancellation notices are on).
        outbox.register_outbox_handler(CHANNEL_CANCEL, services.send_cancel_notices)
        # Lines cancelled here (a partial cancellation), told to the platform as a refund of those lines.
        outbox.register_outbox_handler(CHANNEL_LINES_CANCEL, services.send_cancel_notices)
        # Stock pushes of connected channels go through the platform's API instead of the push URL.
        atp.register_stock_pusher("shopify", services.push_stock)
        atp.register_stock_pusher("woocommerce", services.push_stock)
        atp.register_stock_pusher("doudian", services.push_stock)
        atp.register_stock_pusher("amazon", services.push_stock)
