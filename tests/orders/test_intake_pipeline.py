"""The intake pipeline's rules: the channel's SKU map, releasing orders held for a SKU once it
is mapped, likely duplicates across channels, and the drop folder."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from orders import services
from orders.intake.dropbox import import_drop_folders
from orders.models import ChannelSku, InboundMessage, Order
from orders.status import HoldReason, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, canonical

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def web():
    return ChannelFactory(slug="web", name="Web shop")


@pytest.fixture
def app():
    return ChannelFactory(slug="app", name="App")


def test_channel_sku_map_is_used_before_the_product_sku(web):
    coffee = ProductFactory(sku="COF-1KG")
    ChannelSku.objects.create(channel=web, external_sku="SHOP-COFFEE", product=coffee)
    order = services.order_create(channel=web, data=canonical(lines=[("SHOP-COFFEE", 2)]), source="test").order
    line = order.lines.get()
    assert (line.sku, line.product, order.on_hold) == ("SHOP-COFFEE", coffee, False)


def test_mapping_a_sku_releases_every_order_held_only_for_it(web, app):
    coffee = ProductFactory(sku="COF-1KG")
    ProductFactory(sku="SKU-A")
    only = services.order_create(channel=web, data=canonical("E1", lines=[("X-1", 1)]), source="t").order
    both = services.order_create(channel=web, data=canonical("E2", lines=[("X-1", 1), ("X-2", 1)]), source="t").order
    other_channel = services.order_create(channel=app, data=canonical("E3", lines=[("X-1", 1)]), source="t").order
    mapping, released = services.channel_sku_map(channel=web, external_sku="X-1", product=coffee)
    assert released == [only.number]
    for order in (only, both, other_channel):
        order.refresh_from_db()
    assert only.on_hold is False and only.status == OrderStatus.CONFIRMED and only.lines.get().product == coffee
    assert both.on_hold is True and both.holds.get(released_at__isnull=True).reason == HoldReason.UNKNOWN_SKU
    assert other_channel.on_hold is True
    _mapping, released = services.channel_sku_map(channel=web, external_sku="X-2", product=coffee)
    both.refresh_from_db()
    assert released == [both.number] and both.on_hold is False


def test_same_customer_same_items_on_another_channel_is_held_as_likely_duplicate(web, app):
    ProductFactory(sku="SKU-A")
    placed = timezone.now()
    first = services.order_create(channel=web, data=canonical("W1", placed_at=placed), source="t").order
    again = services.order_create(
        channel=app, data=canonical("A1", placed_at=placed + timedelta(hours=2)), source="t"
    ).order
    hold = again.holds.get()
    assert hold.reason == HoldReason.DUPLICATE
    assert hold.note == f"Looks like {first.number} from Web shop (same customer, same items, placed within 24 h)."
    different_items = services.order_create(
        channel=app, data=canonical("A2", lines=[("SKU-A", 3)], placed_at=placed), source="t"
    ).order
    later = services.order_create(
        channel=app, data=canonical("A3", placed_at=placed + timedelta(days=3)), source="t"
    ).order
    assert [o.on_hold for o in (different_items, later)] == [False, False]


def test_drop_folder_imports_and_moves_files_with_a_report(settings, tmp_path):
    settings.INTAKE_DROP_DIR = tmp_path / "dropbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    ChannelFactory(slug="shop", platform="shopify")
    ProductFactory(sku="SKU-A")
    ProductFactory(sku="SKU-B")
    folder = settings.INTAKE_DROP_DIR / "shop"
    folder.mkdir(parents=True)
    (folder / "orders.csv").write_bytes((FIXTURES / "shopify_orders_export.csv").read_bytes())
    (folder / "broken.csv").write_text("Name,Email\n#9,x@example.com\n")
    done = import_drop_folders(min_age_seconds=0)
    assert [d["outcome"] for d in done] == ["failed", "processed"]
    assert sorted(p.name for p in folder.iterdir()) == ["failed", "processed"]
    report = json.loads((folder / "processed" / "orders.csv.report.json").read_text())
    assert (report["created"], report["format"], report["outcome"]) == (3, "shopify-csv", "processed")
    assert (folder / "failed" / "broken.csv").exists()
    assert (
        "missing column"
        in json.loads((folder / "failed" / "broken.csv.report.json").read_text())["errors"][0]["message"]
    )
    assert Order.objects.count() == 3
    assert InboundMessage.objects.filter(source="file:shopify-csv").count() == 2
    assert import_drop_folders(min_age_seconds=0) == []  # nothing left: the moved files are not re-read


def test_a_big_file_in_batches_gives_the_same_orders_as_one_by_one(tmp_path, settings, web):
    """The bulk path (batches of 500) against order_create: same statuses, holds and events."""
    settings.MEDIA_ROOT = tmp_path / "media"
    from orders.intake.bulk import create_batch

    ProductFactory(sku="SKU-A")
    items = [
        (
            i,
            canonical(
                f"B{i}",
                lines=[("SKU-A", 1)] if i % 3 else [("NEW-SKU", 1)],
                ship_to={"email": f"c{i}@example.com", "phone": f"1390000{i:04d}"},
            ),
        )
        for i in range(1, 31)
    ]
    items.append(
        (31, canonical("B31", cancelled_reason="refunded", ship_to={"email": "c31@example.com", "phone": "139"}))
    )
    outcomes = create_batch(channel=web, items=items, source="file:test")
    assert [o.status for o in outcomes] == ["created"] * 31
    one = ChannelFactory(slug="one", name="One by one")
    for _, data in [
        (
            i,
            canonical(
                f"B{i}",
                lines=[("SKU-A", 1)] if i % 3 else [("NEW-SKU", 1)],
                ship_to={"email": f"d{i}@example.com", "phone": f"1370000{i:04d}"},
            ),
        )
        for i in range(1, 31)
    ] + [(31, canonical("B31", cancelled_reason="refunded", ship_to={"email": "d31@example.com", "phone": "137"}))]:
        services.order_create(channel=one, data=data, source="file:test")

    def shape(channel):
        return [
            (
                o.external_id,
                o.status,
                o.on_hold,
                sorted(o.holds.values_list("reason", flat=True)),
                list(o.events.values_list("kind", "message")),
                list(o.lines.values_list("sku", "product__sku", "quantity")),
            )
            for o in Order.objects.filter(channel=channel).order_by("external_id")
        ]

    bulk_shape = [
        (e, s, h, r, [(k, m.replace("Web shop", "X")) for k, m in ev], ln) for e, s, h, r, ev, ln in shape(web)
    ]
    single_shape = [
        (e, s, h, r, [(k, m.replace("One by one", "X")) for k, m in ev], ln) for e, s, h, r, ev, ln in shape(one)
    ]
    assert bulk_shape == single_shape
    assert all(o.number == f"SO{100000 + o.pk}" for o in Order.objects.all())
    again = create_batch(channel=web, items=items, source="file:test")
    assert [o.status for o in again] == ["duplicate"] * 31
