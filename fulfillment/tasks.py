import logging

from celery import shared_task

from . import routing, services

logger = logging.getLogger(__name__)


@shared_task(name="fulfillment.route_order", acks_late=True)
def route_order(order_id: int) -> None:
    services.order_route(order_id=order_id)


@shared_task(name="fulfillment.route_orders", acks_late=True)
def route_orders(order_ids: list[int]) -> int:
    """Route a chunk of orders (a file import's batch), each in its own transaction as ``route_order``
    does: one order that cannot be routed is logged and the rest go on. Returns how many were tried."""
    for order_id in order_ids:
        try:
            services.order_route(order_id=order_id)
        except Exception:  # noqa: BLE001 (one bad order must not stop its chunk; it stays confirmed)
            logger.exception("routing order %s failed", order_id)
    return len(order_ids)


@shared_task(name="fulfillment.backorders_retry", acks_late=True)
def backorders_retry() -> int:
    """Route open backorders whose stock may have arrived (beat, the button on the routing page)."""
    return routing.backorders_retry()


@shared_task(name="fulfillment.routing_replay")
def routing_replay(replay_id: int) -> None:
    routing.replay_run(replay_id=replay_id)
