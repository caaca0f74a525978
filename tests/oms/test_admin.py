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


def test_carrier_api_key_and_account_passwords_are_write_only(admin_client):
    from logistics.models import Carrier

    carrier = CarrierFactory(
        code="zto", adapter="kdniao", api_key="kdn-app-key-789", account_options={"CustomerPwd": "zto-pass-321"}
    )
    page = admin_client.get(f"/admin/logistics/carrier/{carrier.pk}/change/").content.decode()
    assert "kdn-app-key-789" not in page and "zto-pass-321" not in page and "********" in page

    form = {
        "code": "zto",
        "name": "ZTO",
        "adapter": "kdniao",
        "api_key": "",
        "label_format": "PDF",
        "account_options": '{"CustomerPwd": "********", "CustomerName": "acct"}',
        "services-TOTAL_FORMS": "0",
        "services-INITIAL_FORMS": "0",
    }
    saved = admin_client.post(f"/admin/logistics/carrier/{carrier.pk}/change/", form)
    assert saved.status_code == 302
    carrier = Carrier.objects.get(pk=carrier.pk)
    assert carrier.api_key == "kdn-app-key-789"  # kept: empty means unchanged
    assert carrier.account_options == {"CustomerPwd": "zto-pass-321", "CustomerName": "acct"}
