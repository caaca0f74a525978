"""Connector tasks: ids in, one service call each (the beat entry is in oms/celery.py)."""

from celery import shared_task

from oms.background import send

from . import reconcile, services


@shared_task(name="connectors.pull_orders", acks_late=True)
def pull_orders(connection_id: int) -> int:
    """Pull one connection's orders updated since its cursor into the order inbox."""
    return services.connection_pull(connection_id=connection_id)


@shared_task(name="connectors.pull_all", acks_late=True)
def pull_all() -> int:
    """The schedule: one pull task per connection that pulls orders."""
    ids = services.pull_due_connections()
    for pk in ids:
        send("connectors.pull_orders", args=[pk])
    return len(ids)


@shared_task(name="connectors.reconcile", acks_late=True)
def reconcile_connection(connection_id: int) -> int:
    """One connection's reconciliation; returns how many shipments it found unconfirmed."""
    return reconcile.connection_reconcile(connection_id=connection_id).unconfirmed_total


@shared_task(name="connectors.reconcile_all", acks_late=True)
def reconcile_all() -> int:
    """The hourly schedule: one reconciliation task per active connection."""
    ids = reconcile.reconcile_due_connections()
    for pk in ids:
        send("connectors.reconcile", args=[pk])
    return len(ids)
