"""Factories for reference data. Orders, shipments and parcels are made with the real services
(see the helpers at the bottom), never by writing rows directly."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.models import HandlingClass, Location, Product
from inventory.services import stock_receive
from logistics.models import Carrier, ServiceLevel
from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import Channel


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
        name="Li Lei", phone="+86 138 0013 8000", email="li.lei@example.com", country="CN", province="Shanghai",
        city="Shanghai", district="Pudong", address1="88 Century Avenue", postcode="200120",
    )
    address.update(overrides.pop("ship_to", {}))
    return CanonicalOrder(
        external_id=external_id,
        ship_to=CanonicalAddress(**address),
        lines=[CanonicalLine(sku=sku, quantity=qty, unit_price=Decimal("10.00")) for sku, qty in lines],
        customer_email=address["email"],
        **overrides,
    )
