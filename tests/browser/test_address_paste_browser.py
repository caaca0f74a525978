"""The new-order form's "paste an address" in a real browser, at desktop and phone widths: the pasted
text fills the fields, what was understood is shown, nothing overflows. Screenshots go to
test-artifacts/browser/ (order-paste-1366.png, order-paste-390.png)."""

import re

import pytest

from oms.roles import MANAGER
from orders.models import Order
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import ChannelFactory, ProductFactory, make_user

pytestmark = [pytest.mark.browser, pytest.mark.serial, pytest.mark.django_db(transaction=True)]

PASTE = "收货人：欧阳娜娜\n电话：+86 136-0013-6000\n地址：湖南长沙岳麓区麓山南路932号中南大学新校区15栋1302室"


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_paste_an_address_fills_the_new_order_form(live_server, browser, watch, viewport):
    ProductFactory(sku="SKU-A")
    ChannelFactory(slug="web", name="Web")
    make_user("paster", MANAGER)
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    watch.attach(page)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "paster")
    page.fill("#id_password", "pw-paster")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/dashboard/$"))

    page.goto(f"{live_server.url}/orders/new/")
    page.select_option("#id_channel", label="Web")
    page.fill("#id_paste", PASTE)
    page.fill("#id_lines-0-sku", "SKU-A")
    page.fill("#id_lines-0-quantity", "1")
    page.click("button[formaction$='/paste/']")  # 识别并填写 (the page is in Chinese: zh-CN browser)
    page.wait_for_selector("#understood")
    watch.shot(page, "order-paste")

    assert page.input_value("#id_ship_name") == "欧阳娜娜"
    assert page.input_value("#id_ship_phone") == "13600136000"
    assert page.input_value("#id_ship_province") == "湖南省"
    assert page.input_value("#id_ship_city") == "长沙市"
    assert page.input_value("#id_ship_district") == "岳麓区"
    assert page.input_value("#id_ship_address1") == "麓山南路932号中南大学新校区15栋1302室"
    assert page.input_value("#id_lines-0-sku") == "SKU-A"
    assert Order.objects.count() == 0

    page.click("button.primary[type=submit]")  # 创建订单
    page.wait_for_url(re.compile(r"/orders/SO\d+/$"))
    order = Order.objects.get()
    assert (order.ship_province, order.ship_city, order.ship_district) == ("湖南省", "长沙市", "岳麓区")
    assert watch.errors == [] and watch.overflow == {}
