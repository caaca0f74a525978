from celery import shared_task

from . import services


@shared_task(name="fulfillment.route_order", acks_late=True)
def route_order(order_id: int) -> None:
    services.order_route(order_id=order_id)
