"""The report facts (reports/facts.py): built from the source rows, followed incrementally as
orders change, equal to a full rebuild after any series of changes, rebuilt when the time zone
changes, and kept by the Celery task and the management command."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from logistics.models import Parcel, TrackingEvent
from orders.models import Order, OrderEvent
from reports import facts, tasks
from reports.kpis import REGISTRY
from reports.models import FactsState, LineFact, OrderFact, ParcelFact
from workflows.cancel import order_cancel

from .conftest import PERIOD, at
from .test_pages import manager_client, users  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Every fact row as plain values (the primary key first)."""
    return {
        model.__name__: sorted(
            tuple(getattr(row, f.attname) for f in model._meta.concrete_fields) for row in model.objects.all()
        )
        for model in (OrderFact, LineFact, ParcelFact)
    }


def age_everything(minutes: int = 60) -> None:
    """Move every change stamp into the past, as if the world had been built an hour ago."""
    past = timezone.now() - timedelta(minutes=minutes)
    Order.objects.update(updated_at=past)
    OrderEvent.objects.update(created_at=past)
    Parcel.objects.update(created_at=past)
    TrackingEvent.objects.update(created_at=past)
    FactsState.objects.update(refreshed_at=timezone.now() - timedelta(minutes=1))


def test_facts_hold_the_known_rows_of_the_world(world):
    assert facts.catch_up() == 5  # six orders, one cancelled: no facts for it
    o1 = OrderFact.objects.get(pk=world.o1.pk)
    assert (o1.day, o1.channel_id, o1.units, o1.first_units) == (date(2026, 3, 2), world.web.pk, 2, 2)
    assert (o1.delivered, o1.delivered_day, o1.promise_date) == (True, date(2026, 3, 4), date(2026, 3, 5))
    assert not OrderFact.objects.filter(pk=world.o4.pk).exists()
    o6 = OrderFact.objects.get(pk=world.o6.pk)
    assert (o6.first_units, o6.delivered, o6.delivered_at, o6.promise_date) == (None, False, None, None)
    assert sorted(LineFact.objects.values_list("order_id", "sku", "quantity")) == sorted(
        [(world.o1.pk, "SKU-A", 2), (world.o2.pk, "SKU-A", 1)]
    )
    p2 = ParcelFact.objects.get(order_id=world.o2.pk)
    assert (p2.failed_attempts, p2.exceptions, p2.lost, p2.province) == (1, 0, 0, "Guangdong")
    assert (p2.delivered_day, p2.expected_delivery) == (date(2026, 3, 6), date(2026, 3, 5))
    assert p2.location_id == world.can.pk
    assert p2.transit_seconds == (at("2026-03-06", "11:00") - at("2026-03-03", "11:00")).total_seconds()
    p3 = ParcelFact.objects.get(order_id=world.o3.pk)
    assert (p3.exceptions, p3.carrier_id, p3.weight_g, p3.delivered_day) == (1, world.sf.carrier_id, 1500, None)


def test_catch_up_follows_changes_and_equals_a_full_rebuild(world, django_capture_on_commit_callbacks):
    facts.catch_up()
    age_everything()
    before = snapshot()
    assert facts.catch_up(force=True) == 0  # nothing changed: nothing refreshed
    assert snapshot() == before

    # Changes through the services, each stamping "now": a cancellation, a delivery after an
    # exception, a lost parcel.
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=world.o6, reason="customer asked")
    world.track(world.o3, "delivered", at("2026-03-07", "15:00"))
    world.track(world.o1, "lost", at("2026-03-04", "13:00"))

    stale = REGISTRY["fill-rate"]  # a page computed now reads the facts as they are after catch-up
    assert facts.catch_up(force=True) == 2  # o3 and o1 keep facts; o6 lost them
    assert FactsState.objects.get().orders_refreshed == 3
    assert not OrderFact.objects.filter(pk=world.o6.pk).exists()
    assert OrderFact.objects.get(pk=world.o3.pk).delivered_day == date(2026, 3, 7)
    assert LineFact.objects.filter(order_id=world.o3.pk).count() == 1
    assert ParcelFact.objects.get(order_id=world.o1.pk).lost == 1
    assert ParcelFact.objects.get(order_id=world.o2.pk).failed_attempts == 1  # untouched, kept

    incremental = snapshot()
    FactsState.objects.all().delete()
    assert facts.catch_up() == 4  # no state: a full rebuild
    assert snapshot() == incremental
    assert stale.result(PERIOD).facts[-1].value == "0"  # o6 was the one order not shipped


def test_a_change_bypassing_the_stamps_is_caught_within_the_overlap(world):
    """A transaction that commits after a catch-up started carries an older stamp: the look-back
    (OVERLAP) still finds it."""
    facts.catch_up()
    age_everything()
    late = timezone.now() - facts.OVERLAP + timedelta(minutes=2)  # older than the last run, within overlap
    Order.objects.filter(pk=world.o5.pk).update(promise_date=date(2026, 3, 20), updated_at=late)
    facts.catch_up(force=True)
    assert OrderFact.objects.get(pk=world.o5.pk).promise_date == date(2026, 3, 20)
    Order.objects.filter(pk=world.o5.pk).update(promise_date=date(2026, 3, 21), updated_at=late - facts.OVERLAP)
    facts.catch_up(force=True)
    assert OrderFact.objects.get(pk=world.o5.pk).promise_date == date(2026, 3, 20)  # too old: not seen


def test_pages_catch_up_at_most_every_min_interval(world, settings):
    facts.catch_up()
    age_everything()
    settings.REPORTS_FACTS_MIN_INTERVAL = 3600
    Order.objects.filter(pk=world.o5.pk).update(promise_date=date(2026, 3, 20), updated_at=timezone.now())
    assert facts.catch_up() is None  # refreshed a minute ago: left for later
    assert OrderFact.objects.get(pk=world.o5.pk).promise_date == date(2026, 3, 12)
    assert facts.catch_up(force=True) == 1
    assert OrderFact.objects.get(pk=world.o5.pk).promise_date == date(2026, 3, 20)


def test_a_different_time_zone_rebuilds_the_days(world, settings):
    facts.catch_up()
    assert OrderFact.objects.get(pk=world.o1.pk).day == date(2026, 3, 2)
    OrderFact.objects.filter(pk=world.o1.pk).update(day=date(2000, 1, 1))  # would survive a catch-up
    FactsState.objects.update(time_zone="UTC")
    facts.catch_up()
    assert OrderFact.objects.get(pk=world.o1.pk).day == date(2026, 3, 2)
    assert FactsState.objects.get().time_zone == settings.TIME_ZONE


def test_the_task_and_the_command_keep_the_facts(world):
    assert tasks.refresh_facts.delay().get() == 5
    OrderFact.objects.all().delete()
    out = StringIO()
    call_command("reports_facts", "--rebuild", stdout=out)
    assert "5 orders rebuilt" in out.getvalue()
    assert OrderFact.objects.count() == 5


def test_the_kpi_page_says_how_fresh_its_facts_are_and_recomputes_them(manager_client, world, settings):  # noqa: F811
    facts.catch_up()
    age_everything()
    settings.REPORTS_FACTS_MIN_INTERVAL = 3600  # only "recompute now" catches up here
    url = "/reports/kpi/fill-rate/?date_from=2026-03-02&date_to=2026-03-08"

    def not_shipped(response) -> str:
        assert response.status_code == 200
        return {fact.label: fact.value for fact in response.context["section"]["result"].facts}[
            "Orders not shipped yet"
        ]

    page = manager_client.get(url)
    assert "from the report facts of" in page.content.decode()
    assert not_shipped(page) == "1"  # o6
    Order.objects.filter(pk=world.o6.pk).update(status="cancelled", updated_at=timezone.now())
    assert not_shipped(manager_client.get(url + "&fresh=1")) == "0"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_catch_up_at_a_time_on_postgresql():
    """A second catch-up while one runs (the advisory lock is held) skips instead of writing the
    same rows twice."""
    import threading

    from django.db import connection, transaction

    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [facts.LOCK_KEY])
                held.set()
                release.wait(10)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(10)
    try:
        assert facts.catch_up(force=True) is None
        assert not FactsState.objects.exists()
    finally:
        release.set()
        thread.join(10)
    assert done.is_set()
    assert facts.catch_up(force=True) == 0  # no orders: an empty rebuild
    assert FactsState.objects.exists()


def test_a_large_database_without_facts_queues_the_build_instead_of_making_the_page_wait(
    manager_client,  # noqa: F811
    world,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.REPORTS_FACTS_INLINE_REBUILD_MAX = 3  # the world's six orders count as "large" here
    url = "/reports/kpi/on-time-delivery/?date_from=2026-03-02&date_to=2026-03-08"
    with django_capture_on_commit_callbacks(execute=False) as queued:
        page = manager_client.get(url + "&fresh=1")  # "recompute now" too says so, no error page
    assert page.status_code == 200
    assert "being built" in page.content.decode()
    assert not FactsState.objects.exists()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        page = manager_client.get(url)
    assert page.status_code == 200
    assert "being built" in page.content.decode()
    assert len(queued) == 1  # the task, queued after the request's transaction
    assert FactsState.objects.exists()  # eager Celery in this lane: the task ran and built them
    page = manager_client.get(url)
    assert "being built" not in page.content.decode()
    assert page.context["section"]["result"].value == 33.3  # as test_kpis computes it without this detour


def test_pages_on_a_replica_read_the_facts_and_never_write_them(world):
    """Through a replica nothing is written: without facts the figure says they are not built;
    once the task built them on the primary the replica's pages read them."""
    with pytest.raises(facts.FactsNotReady):
        facts.ensure_fresh("default", writable=False)
    assert not FactsState.objects.exists()  # nothing written
    assert tasks.refresh_facts.delay().get() == 5  # the task builds them on the primary
    facts.ensure_fresh("default", writable=False)  # readable now: no error
    Order.objects.filter(pk=world.o6.pk).update(status="cancelled", updated_at=timezone.now())
    facts.ensure_fresh("default", writable=False)
    assert OrderFact.objects.filter(pk=world.o6.pk).exists()  # a replica page never catches up itself
