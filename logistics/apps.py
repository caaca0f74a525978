from django.apps import AppConfig


class LogisticsConfig(AppConfig):
    name = "logistics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from fulfillment.extensions import register_pack_panel, register_shipment_panel
        from fulfillment.waves import register_service_planner

        from .dispatch_views import pack_external_panel, shipment_external_panel, shipment_rates_panel
        from .rating import plan_for_wave

        # Waves cut by carrier need the service rating would choose (fulfillment cannot import logistics).
        register_service_planner(plan_for_wave)
        register_shipment_panel(shipment_rates_panel, position=20)
        # Ship under a number from a label made elsewhere (logistics/external_labels.py).
        register_shipment_panel(shipment_external_panel, position=25)
        register_pack_panel(pack_external_panel, position=20)

        # Labels voided on cancel, intercepts after shipping, merge cost estimates (logistics/voids.py).
        from . import voids

        voids.connect()
        # Voids of labels bought from real carriers go through the outbox (logistics/carrier_labels.py).
        from . import carrier_labels

        carrier_labels.register()
        # Routing's score counts the shipping cost from the rate cards (fulfillment/routing/).
        from . import routing_cost

        routing_cost.connect()

        # Exception cases on the order page (logistics/cases/views.py).
        from orders.extensions import register_customer_panel, register_order_panel

        from .cases.views import customer_cases_panel, order_cases_panel

        register_order_panel(order_cases_panel, position=30)
        register_customer_panel(customer_cases_panel, position=30)

        # Tracking pushes and poll answers are applied by logistics' task: the sweep of messages without an
        # outcome and the intake monitor's Retry send them there (orders/intake/background.py).
        from orders.intake.background import register_source_task

        from .intake import POLL_PARSERS, PUSH_SOURCES

        register_source_task([*PUSH_SOURCES, *POLL_PARSERS, "poll:kdniao"], "logistics.process_tracking_push")

        # Provider secrets are cached per process (logistics/intake.py): a carrier saved or deleted drops them.
        from django.db.models.signals import post_delete, post_save

        from . import tasks  # noqa: F401 (registers the consumer task, so the webhook's nudge finds it in this process)
        from .intake import provider_secrets_forget
        from .models import Carrier

        post_save.connect(provider_secrets_forget, sender=Carrier, dispatch_uid="logistics_secrets_save")
        post_delete.connect(provider_secrets_forget, sender=Carrier, dispatch_uid="logistics_secrets_delete")
