"""The new-order form's "paste an address" (orders/views/address.py): a pasted name, phone and address
fill the fields and show what was understood; nothing is saved until the form's own Create button."""

import pytest

from oms.roles import MANAGER
from orders.models import InboundMessage, Order
from tests.factories import ChannelFactory, ProductFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(db):
    ProductFactory(sku="SKU-A")
    ChannelFactory(slug="web", name="Web")
    return make_user("boss", MANAGER)


def form_post(**changes) -> dict:
    from orders.models import Channel

    data = {
        "channel": Channel.objects.get(slug="web").pk,
        "external_id": "",
        "ship_name": "",
        "ship_phone": "",
        "ship_email": "",
        "ship_country": "",
        "ship_province": "",
        "ship_city": "",
        "ship_district": "",
        "ship_address1": "",
        "ship_address2": "",
        "ship_postcode": "",
        "requested_service": "",
        "promise_date": "",
        "note": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-sku": "SKU-A",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "19.90",
    }
    data.update(changes)
    return data


def test_the_form_offers_a_paste_box(client, manager):
    client.force_login(manager)
    page = client.get("/orders/new/").content.decode()
    assert '<textarea name="paste" id="id_paste"' in page
    assert 'formaction="/orders/new/paste/"' in page


def test_a_pasted_name_phone_address_fills_the_fields_and_saves_nothing(client, manager):
    client.force_login(manager)
    paste = "收货人：王五，电话：+86 136-0013-6000，地址：江苏省苏州市姑苏区人民路100号"
    response = client.post("/orders/new/paste/", form_post(paste=paste, ship_email="wang@example.com"))
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert {k: initial[k] for k in initial if k.startswith("ship_")} == {
        "ship_name": "王五",
        "ship_phone": "13600136000",
        "ship_email": "wang@example.com",  # typed before: kept
        "ship_country": "CN",
        "ship_province": "江苏省",
        "ship_city": "苏州市",
        "ship_district": "姑苏区",
        "ship_address1": "人民路100号",
        "ship_address2": "",
        "ship_postcode": "",
    }
    page = response.content.decode()
    assert 'value="王五"' in page and 'value="姑苏区"' in page and 'value="SKU-A"' in page
    assert "<dt>District</dt><dd>姑苏区</dd>" in page
    assert "Understood as above" in page
    assert (Order.objects.count(), InboundMessage.objects.count()) == (0, 0)

    # The person checks the fields and creates the order: the parts are stored as shown.
    filled = {k: v for k, v in initial.items() if k.startswith("ship_")}
    response = client.post("/orders/new/", form_post(**filled))
    order = Order.objects.get()
    assert response.status_code == 302
    assert (order.ship_name, order.ship_phone, order.ship_province, order.ship_city, order.ship_district) == (
        "王五",
        "13600136000",
        "江苏省",
        "苏州市",
        "姑苏区",
    )
    assert (order.ship_address1, order.on_hold) == ("人民路100号", False)


def test_a_paste_that_does_not_resolve_shows_the_suggestions(client, manager):
    client.force_login(manager)
    response = client.post("/orders/new/paste/", form_post(paste="王五 13600136000 浙江省杭州市鼓楼区中山路1号"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "&#x27;鼓楼区&#x27; is not a district of 杭州市" in page
    assert "Did you mean: 江苏省 南京市 鼓楼区 / 江苏省 徐州市 鼓楼区 / 福建省 福州市 鼓楼区?" in page
    initial = response.context["form"].initial
    assert (initial["ship_name"], initial["ship_address1"], initial["ship_district"]) == (
        "王五",
        "浙江省杭州市鼓楼区中山路1号",
        "",
    )
    assert Order.objects.count() == 0


def test_a_paste_too_long_is_refused_and_fills_nothing(client, manager):
    client.force_login(manager)
    response = client.post("/orders/new/paste/", form_post(paste="王" * 1001, ship_name="Li"))
    assert response.status_code == 400
    assert "an address has at most 1000" in response.content.decode()
    assert response.context["form"].initial["ship_name"] == "Li"
    assert Order.objects.count() == 0
