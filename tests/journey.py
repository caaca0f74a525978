"""A small world and one order taken through every step with the real services."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from fulfillment import services as fulfillment_services
from logistics import services as logistics_services
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, stock

ROLES = ("admin", "manager", "customer_service", "warehouse")


def users() -> dict:
    result = {}
    for role in ROLES:
        user, _ = get_user_model().objects.get_or_create(username=role)
        user.set_password(role + "-pw")
        user.save()
        user.groups.add(Group.objects.get(name=role))
        result[role] = user
    return result


def world() -> dict:
    location = LocationFactory(code="sha", name="Shanghai DC", city="Shanghai")
    product = ProductFactory(sku="SKU-A", name="云南咖啡豆 1kg")
    stock(location, product, 20, bin="A-01-01")
    ServiceLevelFactory(code="std")
    return {"location": location, "product": product, "channel": ChannelFactory(slug="web", name="Web shop")}


def order_through(capture, stage: str, external_id: str = "J1"):
    """Create an order and take it to a stage: allocated, picking, packed, shipped."""
    w = world() if not ChannelFactory._meta.model.objects.filter(slug="web").exists() else None
    channel = ChannelFactory(slug="web")
    with capture(execute=True):
        order = order_services.order_create(channel=channel, data=canonical(external_id), source="test").order
    order.refresh_from_db()
    if stage == "allocated":
        return order
    shipment = order.shipments.get()
    fulfillment_services.picklist_create(location=shipment.location)
    if stage == "picking":
        return order
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=800)
    if stage == "packed":
        return order
    logistics_services.shipment_dispatch(shipment=shipment)
    del w
    return order
