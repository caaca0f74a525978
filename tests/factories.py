"""Factories for reference data. Orders, shipments and parcels are made with the real services
(see the helpers at the bottom), never by writing rows directly."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from inventory.models import HandlingClass, Location, Product
from inventory.services import stock_receive
from logistics.models import Carrier, ServiceLevel
from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import Channel, ChannelSku


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"wh{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    city = "Shanghai"
    province = "Shanghai"
    address = "1 Warehouse Road"
    phone = "021-5555 0000"
    latitude = 31.2304
    longitude = 121.4737


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Product {o.sku}")
    handling_class = HandlingClass.STANDARD
    weight_g = 500
    price = Decimal("19.90")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"Shop {o.slug}")


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = "local"
    name = "Local Express"
    adapter = "local"
    tracking_url_template = "https://track.example/{tracking_number}"


class ServiceLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceLevel

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"std{n}")
    name = "Standard"
    kind = "standard"
    transit_days = 3
    base_rate = Decimal("8.00")
    per_kg_rate = Decimal("2.00")


def make_user(username: str, role: str):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    user.groups.add(Group.objects.get(name=role))
    return user


def stock(location, product, quantity, bin=""):
    return stock_receive(location=location, product=product, quantity=quantity, reason="test", bin=bin)


def canonical(external_id="EXT-1", lines=(("SKU-A", 1),), **overrides) -> CanonicalOrder:
    address = dict(
        name="Li Lei",
        phone="+86 138 0013 8000",
        email="li.lei@example.com",
        country="CN",
        province="Shanghai",
        city="Shanghai",
        district="Pudong",
        address1="88 Century Avenue",
        postcode="200120",
    )
    address.update(overrides.pop("ship_to", {}))
    return CanonicalOrder(
        external_id=external_id,
        ship_to=CanonicalAddress(**address),
        lines=[CanonicalLine(sku=sku, quantity=qty, unit_price=Decimal("10.00")) for sku, qty in lines],
        customer_email=address["email"],
        **overrides,
    )


def api_order(external_id: str, address1: str = "1 Nanjing Road", qty: int = 1, **extra) -> dict:
    """An order body the API takes (POST /api/v1/orders/, or one of a batch's ``orders``): Han Meimei in
    Shanghai, ``qty`` of SKU-A on the ``web`` channel; ``extra``: more keys of the order."""
    return {
        "channel": "web",
        "external_id": external_id,
        "ship_to": {
            "name": "Han Meimei",
            "phone": "137 1234 5678",
            "country": "CN",
            "province": "Shanghai",
            "city": "Shanghai",
            "address1": address1,
            "postcode": "200001",
        },
        "lines": [{"sku": "SKU-A", "quantity": qty, "unit_price": "19.90"}],
        **extra,
    }


# ---- 预售 (presale) --------------------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def presale_day(n: int) -> date:
    """``n`` days from today (the presale tests' days)."""
    return timezone.localdate() + timedelta(days=n)


def presale_world(*, batch: int | None = None, on_hand: int = 0, listing: str = "") -> dict:
    """The presale tests' world: the ``sha`` location, PRE-1 presale from day 10 (with an expected batch of
    ``batch`` units, and ``on_hand`` units at sha), PRE-2 presale from day 20, STD-1 sold from stock, the ``web``
    channel; ``listing``: the web channel's listing of PRE-1 under that SKU, presale from day 12."""
    sha = LocationFactory(code="sha", name="Shanghai DC")
    pre = ProductFactory(sku="PRE-1", presale_ship_from=presale_day(10), presale_batch_qty=batch)
    world = {
        "sha": sha,
        "pre": pre,
        "pre2": ProductFactory(sku="PRE-2", presale_ship_from=presale_day(20)),
        "std": ProductFactory(sku="STD-1"),
        "web": ChannelFactory(slug="web", name="Web shop"),
    }
    if on_hand:
        stock(sha, pre, on_hand)
    if listing:
        ChannelSku.objects.create(
            channel=world["web"], external_sku=listing, product=pre, presale_ship_from=presale_day(12)
        )
    return world


def presale_order(world: dict, external_id: str, hour: int, lines=(("PRE-1", 1),), *, waiting: bool = True):
    """An order of the web channel paid on 1 December 2026 at ``hour`` (Shanghai), through the real intake;
    ``waiting``: it must be waiting for its presale day."""
    from orders import services

    data = canonical(external_id, lines=lines, placed_at=datetime(2026, 12, 1, hour, tzinfo=SHANGHAI))
    order = services.order_create(channel=world["web"], data=data, source="test").order
    if waiting:
        assert order.presale_waiting
    return order
