"""Helpers of the stage-rule tests (their fixtures world, cs and boss are in conftest.py): place an
order through the real intake; the stock a location has reserved."""

from inventory.models import Stock
from orders import services
from tests.factories import canonical


def place_order(world, cb, ext="E1", lines=(("SKU-A", 2),)):
    with cb(execute=True):
        result = services.order_create(channel=world["channel"], data=canonical(ext, lines=lines), source="test")
    result.order.refresh_from_db()
    return result.order


def reserved(loc, product):
    return Stock.objects.get(location=loc, product=product).reserved
