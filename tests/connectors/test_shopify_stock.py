"""Push stock (issue 16, "Channels"): the channel's ATP figures, published through the outbox as today, reach a
connected Shopify channel as inventorySetQuantities in batches; SKU -> inventory item is looked up once."""

import pytest

from connectors.models import ChannelConnection, RemoteItem
from connectors.shopify import adapter as shopify_adapter
from inventory.models import Product
from inventory.services import stock_receive
from oms.models import OutboxMessage
from orders import atp
from orders.models import ChannelSku, ChannelStockFigure

from .conftest import LOCATION_GID, dispatch

pytestmark = pytest.mark.django_db

ITEM_A, ITEM_B = "gid://shopify/InventoryItem/501", "gid://shopify/InventoryItem/502"


@pytest.fixture
def pushing(fake, world):
    channel = world["channel"]
    channel.stock_adapter = "push"
    channel.save()
    fake.shop.variants = {"SKU-A": ITEM_A, "SKU-B": ITEM_B}
    return channel


def _publish(capture, channel, run=True):
    with capture(execute=run):
        return atp.channel_stock_publish(channel=channel)


def _set_calls(fake):
    return [v["input"]["quantities"] for _n, v in fake.shop.operations("InventorySet")]


def test_changed_figures_are_set_on_shopify_and_the_items_are_looked_up_once(
    fake, world, pushing, django_capture_on_commit_callbacks
):
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    publication.refresh_from_db()

    assert publication.outcome == "published"
    assert fake.shop.levels == {(ITEM_A, LOCATION_GID): 20, (ITEM_B, LOCATION_GID): 20}
    assert fake.shop.operations("InventorySet")[0][1]["input"] | {"quantities": None} == {
        "name": "available",
        "reason": "correction",
        "ignoreCompareQuantity": True,
        "quantities": None,
    }
    assert fake.shop.operations("VariantsBySku")[0][1] == {"first": 250, "query": "sku:'SKU-A' OR sku:'SKU-B'"}
    assert dict(RemoteItem.objects.values_list("sku", "remote_id")) == {"SKU-A": ITEM_A, "SKU-B": ITEM_B}
    assert dict(ChannelStockFigure.objects.values_list("product__sku", "quantity")) == {"SKU-A": 20, "SKU-B": 20}
    connection = ChannelConnection.objects.get()
    assert (connection.last_push_error, connection.last_push_ok_at is not None) == ("", True)

    stock_receive(location=world["location"], product=Product.objects.get(sku="SKU-B"), quantity=5, reason="test")
    _publish(django_capture_on_commit_callbacks, pushing)

    assert _set_calls(fake)[-1] == [{"inventoryItemId": ITEM_B, "locationId": LOCATION_GID, "quantity": 25}]
    assert len(fake.shop.operations("VariantsBySku")) == 1  # cached


def test_a_big_push_goes_in_batches(fake, world, pushing, django_capture_on_commit_callbacks, monkeypatch):
    monkeypatch.setattr(shopify_adapter, "SET_BATCH", 1)
    _publish(django_capture_on_commit_callbacks, pushing)
    assert _set_calls(fake) == [
        [{"inventoryItemId": ITEM_A, "locationId": LOCATION_GID, "quantity": 20}],
        [{"inventoryItemId": ITEM_B, "locationId": LOCATION_GID, "quantity": 20}],
    ]


def test_the_channels_own_sku_is_used_and_a_sku_shopify_lacks_is_named(
    fake, world, pushing, django_capture_on_commit_callbacks
):
    ChannelSku.objects.create(channel=pushing, external_sku="SHOP-A", product=Product.objects.get(sku="SKU-A"))
    fake.shop.variants = {"SHOP-A": ITEM_A}

    publication = _publish(django_capture_on_commit_callbacks, pushing)

    publication.refresh_from_db()
    assert publication.outcome == "published"
    assert _set_calls(fake) == [[{"inventoryItemId": ITEM_A, "locationId": LOCATION_GID, "quantity": 20}]]
    assert ChannelConnection.objects.get().last_push_error == "not on the platform: SKU-B"
    assert dict(RemoteItem.objects.values_list("sku", "remote_id")) == {"SHOP-A": ITEM_A, "SKU-B": ""}


def test_429_on_a_push_waits_then_sends(fake, world, pushing, django_capture_on_commit_callbacks):
    fake.shop.fail_next("429", retry_after="5")
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    publication.refresh_from_db()
    assert publication.outcome == "queued"
    row = OutboxMessage.objects.get(kind="stock_push")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error.startswith("PushRetryAfter: Shopify answered 429")

    assert dispatch(later_seconds=6) == {"sent": 1}
    publication.refresh_from_db()
    assert publication.outcome == "published"
    assert fake.shop.levels[(ITEM_A, LOCATION_GID)] == 20


def test_a_refused_push_is_dead_and_the_figures_are_not_counted_as_published(
    fake, world, pushing, django_capture_on_commit_callbacks
):
    fake.shop.fail_next("401")
    publication = _publish(django_capture_on_commit_callbacks, pushing)

    publication.refresh_from_db()
    assert publication.outcome == "failed"
    assert publication.error.startswith("PushRefused: Shopify answered 401")
    assert OutboxMessage.objects.get(kind="stock_push").status == "dead"
    assert ChannelStockFigure.objects.count() == 0
    assert fake.shop.levels == {}


def test_a_channel_without_a_connection_still_pushes_to_its_url(
    fake, world, pushing, django_capture_on_commit_callbacks
):
    ChannelConnection.objects.update(push_stock=False)
    publication = _publish(django_capture_on_commit_callbacks, pushing)
    publication.refresh_from_db()
    assert (publication.outcome, publication.error) == ("failed", "PushMisconfigured: The channel has no push URL.")
    assert fake.shop.requests == []
