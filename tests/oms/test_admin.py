"""Reference data is editable in the admin; secrets are never shown there."""

import pytest

from tests import journey
from tests.factories import CarrierFactory, ChannelFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/inventory/location/",
    "/admin/inventory/product/",
    "/admin/inventory/stockrule/",
    "/admin/logistics/carrier/",
    "/admin/logistics/ratecardrow/",
    "/admin/orders/channel/",
    "/admin/orders/customer/",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_lists_render(admin_client, url):
    journey.world()
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url + "add/").status_code == 200


def test_secrets_are_not_shown_in_the_admin(admin_client):
    channel = ChannelFactory(slug="shop", webhook_secret="chan-secret-123")
    carrier = CarrierFactory(code="ep", webhook_secret="carrier-secret-456")
    channel_page = admin_client.get(f"/admin/orders/channel/{channel.pk}/change/").content.decode()
    carrier_page = admin_client.get(f"/admin/logistics/carrier/{carrier.pk}/change/").content.decode()
    assert "chan-secret-123" not in channel_page and "carrier-secret-456" not in carrier_page
    assert 'name="name"' in channel_page
