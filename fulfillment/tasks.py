import logging

from celery import shared_task

from oms.background import MAX_TRANSIENT_RETRIES, failure_record, failures_resolve, retry_delay
from oms.transient import is_transient

from . import presale, routing, services

logger = logging.getLogger(__name__)


@shared_task(name="fulfillment.route_order", acks_late=True, failure_subject="order")
def route_order(order_id: int) -> None:
    services.order_route(order_id=order_id)


@shared_task(name="fulfillment.route_orders", acks_late=True, bind=True)
def route_orders(self, order_ids: list[int]) -> int:
    """Route a chunk of orders (a file import's batch, a sweep), each in its own transaction as
    ``route_order`` does. An order that fails for good is recorded as a failed ``route_order`` of that
    order (the order page and the Background work page show it) and the rest go on; orders that met a
    transient error are tried again together, later. Returns how many were tried."""
    again, done = [], []
    for order_id in order_ids:
        try:
            services.order_route(order_id=order_id)
        except Exception as exc:  # noqa: BLE001 (one bad order must not stop its chunk; it stays confirmed)
            if is_transient(exc) and not self.request.called_directly:
                again.append(order_id)
                continue
            logger.exception("routing order %s failed", order_id)
            failure_record(task_name=route_order.name, args=[order_id], subject=f"order:{order_id}", exc=exc)
        else:
            done.append([order_id])
    failures_resolve(task_name=route_order.name, args_list=done, resolution="succeeded")
    if again:
        raise self.retry(args=[again], countdown=retry_delay(self.request.retries), max_retries=MAX_TRANSIENT_RETRIES)
    return len(order_ids)


@shared_task(name="fulfillment.route_window", acks_late=True)
def route_window() -> int:
    """Route every order waiting for routing, window by window (fulfillment/routing/window.py): nudged after
    an order is ready, and on the beat every ``ROUTING_WINDOW_BEAT_SECONDS``. A window that fails for a
    reason other than a transient database error is rolled back and its orders are routed one by one
    (``route_orders``): one bad order is recorded as its own failed ``route_order`` and left out of later
    windows, the others go on. Returns how many orders were routed or handed to single-order routing."""
    try:
        results = routing.route_waiting()
    except Exception as exc:
        if is_transient(exc):
            raise  # OmsTask retries it with backoff
        logger.exception("a routing window failed; its orders are routed one by one")
        waiting = routing.waiting_orders().exclude(pk__in=routing.window_failed_ids())
        ids = list(waiting.values_list("pk", flat=True)[: routing.window_size()])
        route_orders(ids)
        return len(ids)
    return sum(r.routed + r.single + r.groups for r in results)


@shared_task(name="fulfillment.backorders_retry", acks_late=True)
def backorders_retry() -> int:
    """Route open backorders whose stock may have arrived (beat, the button on the routing page)."""
    return routing.backorders_retry()


@shared_task(name="fulfillment.routing_replay")
def routing_replay(replay_id: int) -> None:
    routing.replay_run(replay_id=replay_id)


@shared_task(name="fulfillment.presale_release", acks_late=True)
def presale_release() -> int:
    """预售: release the presale orders whose ship-from day has come and route them, first paid first
    (fulfillment/presale.py), chunk by chunk. On the beat (oms/celery.py). Returns how many were released."""
    total = 0
    while True:
        ids = presale.presale_release_and_route()
        total += len(ids)
        if len(ids) < presale.RELEASE_CHUNK:
            return total
