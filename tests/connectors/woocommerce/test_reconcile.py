"""The reconciliation job (issue 16): shipments shipped here but not confirmed on the platform, orders the
platform shows completed that are open here; shown on the sync page with Confirm again; hourly beat."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connectors import reconcile
from connectors.models import ChannelConnection, Reconciliation, RemoteShipment
from connectors.tasks import reconcile_all
from fulfillment.models import Shipment
from oms.celery import app
from oms.models import OutboxMessage
from tests.factories import make_user

from ..conftest import dispatch, make_order, ship, shipment_rows
from ..fake_woocommerce import woo_order

pytestmark = pytest.mark.django_db


def _age_shipments(minutes=60):
    Shipment.objects.filter(shipped_at__isnull=False).update(shipped_at=timezone.now() - timedelta(minutes=minutes))


def _run(world):
    return reconcile.connection_reconcile(connection_id=world["connection"].pk)


def test_a_dead_confirmation_is_listed_and_confirm_again_sends_it(
    client, woo, woo_world, django_capture_on_commit_callbacks
):
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1))))
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()
    ship(django_capture_on_commit_callbacks, shipment)
    woo.store.fail_next("401")
    assert dispatch() == {"dead": 1}
    assert _run(woo_world).unconfirmed == []  # shipped a moment ago: the outbox still has its chance
    _age_shipments()

    result = _run(woo_world)

    ((entry,),) = [result.unconfirmed]
    assert (entry["shipment"], entry["number"], entry["order"], entry["state"]) == (
        shipment.pk,
        shipment.number,
        order.number,
        "dead",
    )
    assert entry["error"].startswith("Refused: WooCommerce answered 401")
    assert result.unconfirmed_total == 1
    client.force_login(make_user("manager1", "manager"))
    html = client.get(reverse("connectors:channel_sync", args=["woo-cn"])).content.decode()
    assert shipment.number in html and "Confirm again" in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("connectors:channel_confirm_again", args=["woo-cn"]), {"shipment": shipment.pk})
    assert response.status_code == 302
    assert shipment_rows() == [("sent", 1, "")]
    assert len(woo.store.trackings[5001]) == 1
    assert _run(woo_world).unconfirmed == []


def test_shipments_shipped_before_the_connection_are_listed_and_confirmed_again(
    woo, woo_world, django_capture_on_commit_callbacks
):
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", lines=(("SKU-A", 2), ("SKU-B", 1))))
    ChannelConnection.objects.update(active=False)
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()
    ship(django_capture_on_commit_callbacks, shipment, run_outbox=True)
    assert shipment_rows() == [("skipped", 1, "Shipment confirmations are off for this channel.")]
    ChannelConnection.objects.update(active=True)
    _age_shipments()

    assert [(u["shipment"], u["state"]) for u in _run(woo_world).unconfirmed] == [(shipment.pk, "skipped")]

    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile.confirm_again(channel=woo_world["channel"], shipment_ids=[shipment.pk]) == 1
    assert shipment_rows() == [("sent", 1, "")]
    assert RemoteShipment.objects.get().remote_id == "5001"
    assert _run(woo_world).unconfirmed == []


def test_confirm_again_ignores_shipments_of_other_channels_and_garbled_ids(
    client, woo, woo_world, django_capture_on_commit_callbacks
):
    order = make_order(django_capture_on_commit_callbacks, woo_world)
    shipment = order.shipments.get()  # not shipped
    assert reconcile.confirm_again(channel=woo_world["channel"], shipment_ids=[shipment.pk, 999999]) == 0
    assert OutboxMessage.objects.filter(kind="channel.shipment").count() == 0
    client.force_login(make_user("manager1", "manager"))
    url = reverse("connectors:channel_confirm_again", args=["woo-cn"])
    response = client.post(url, {"shipment": "1 OR 1=1"}, follow=True)
    assert "Not a shipment id." in response.content.decode()
    client.force_login(make_user("floor1", "warehouse"))
    assert client.post(url, {"shipment": shipment.pk}).status_code == 403


def test_an_order_completed_there_but_open_here_is_listed(woo, woo_world, django_capture_on_commit_callbacks):
    woo.store.add_order(woo_order(5001, modified="2026-12-05T10:00:00", status="completed"))
    woo.store.add_order(woo_order(5002, modified="2026-12-05T10:00:00", status="processing"))
    first = make_order(django_capture_on_commit_callbacks, woo_world)
    make_order(django_capture_on_commit_callbacks, woo_world, external_id="5002")
    first.refresh_from_db()

    result = _run(woo_world)

    assert result.reverse_checked is True
    assert result.open_here == [
        {
            "order": first.pk,
            "number": first.number,
            "external_id": "5001",
            "status": first.status,
            "theirs": "completed",
        }
    ]
    ((_m, path, query, _b),) = woo.store.calls("GET", "/orders$")
    assert (path, query["status"], sorted(query["include"].split(","))) == (
        "/wp-json/wc/v3/orders",
        "completed",
        ["5001", "5002"],
    )


def test_a_platform_failure_is_the_runs_error_and_the_shipments_are_still_listed(
    woo, woo_world, django_capture_on_commit_callbacks
):
    make_order(django_capture_on_commit_callbacks, woo_world)
    woo.store.fail_next("500")
    result = _run(woo_world)
    assert result.error.startswith("Transient: WooCommerce answered 500")
    assert Reconciliation.objects.count() == 1


def test_the_beat_runs_every_connection_hourly(woo, woo_world, django_capture_on_commit_callbacks):
    assert app.conf.beat_schedule["connectors.reconcile_all"] == {
        "task": "connectors.reconcile_all",
        "schedule": 3600.0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile_all.apply().get() == 1
    assert Reconciliation.objects.get().connection == woo_world["connection"]


def test_reconcile_now_runs_it_and_the_page_shows_both_lists(
    client, woo, woo_world, django_capture_on_commit_callbacks
):
    client.force_login(make_user("manager1", "manager"))
    url = reverse("connectors:channel_sync", args=["woo-cn"])
    assert "Not run yet (it runs every hour)." in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("connectors:channel_reconcile", args=["woo-cn"]))
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "None: every shipment is confirmed." in html
    assert "Fulfilled there, open here" in html
    assert Reconciliation.objects.get().ran_at is not None
