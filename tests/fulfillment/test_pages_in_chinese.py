"""Fulfillment in Chinese (issue 17): the pack station, its scan results and the warehouse documents for
a person who chose 中文. In English the documents stay bilingual (the floor reads the Chinese half); in
Chinese they are Chinese only."""

import pytest
from django.conf import settings
from django.utils import translation

from fulfillment.documents import packing_slip_pdf, picklist_pdf
from fulfillment.models import PackMismatch
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, ServiceLevelFactory, canonical, make_user
from tests.factories import stock as stock_receive
from tests.fulfillment.test_documents import (
    four_sku_picklist,
    make_location,
    make_product,
    make_shipment,
    pages_text,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset_afterwards():
    """A request through LocaleMiddleware leaves its language active in this thread: put it back, or the
    tests that run next in this process would read Chinese."""
    yield
    translation.deactivate()


@pytest.fixture
def shipment(django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock_receive(location, ProductFactory(sku="TEA-1", barcode="6901234567892", name="龙井茶"), 10)
    ProductFactory(sku="OTHER-9", barcode="4006381333931", name="Teapot")
    ServiceLevelFactory(code="std")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=ChannelFactory(slug="web"), data=canonical(lines=[("TEA-1", 1)]), source="t"
        ).order
    return order.shipments.get()


def test_the_pack_station_and_its_scan_results_in_chinese(shipment, client):
    client.force_login(make_user("packer", "warehouse"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(f"/fulfillment/pack/{shipment.number}/").content.decode()
    assert f"<h1>打包 {shipment.number}</h1>" in page and 'placeholder="扫描商品条码或 SKU"' in page
    assert ">重新开始</button>" in page and ">报缺货</button>" in page

    htmx = {"HTTP_HX_REQUEST": "true"}
    bad = client.post(f"/fulfillment/pack/{shipment.number}/scan/", {"code": "4006381333931"}, **htmx)
    assert f"错货：OTHER-9 Teapot 不在发货单 {shipment.number} 中。请放到一边。" in bad.content.decode()
    assert PackMismatch.objects.filter(shipment=shipment, kind="wrong").count() == 1  # recorded all the same
    done = client.post(f"/fulfillment/pack/{shipment.number}/scan/", {"code": "TEA-1"}, **htmx).content.decode()
    assert "TEA-1 1/1 —— 全部商品已扫描。" in done and ">打包并打印面单</button>" in done
    assert "WRONG ITEM" not in bad.content.decode() and "Pack &amp; print label" not in done


def test_the_pick_list_pdf_is_chinese_only_in_chinese_and_bilingual_in_english():
    picklist, _shipments = four_sku_picklist()
    with translation.override("zh-hans"):
        chinese = pages_text(picklist_pdf(picklist))[0]
    with translation.override("en"):
        english = pages_text(picklist_pdf(picklist))[0]
    assert "拣货单" in chinese and "库位" in chinese and "页码 1 / 1" in chinese
    assert "Pick list" not in chinese and "Bin" not in chinese and "Page 1 of 1" not in chinese
    assert "Pick list" in english and "Bin 库位" in english and "Page 1 of 1" in english


def test_the_packing_slip_in_chinese_says_the_returns_line_once():
    location = make_location()
    shipment = make_shipment(location, [(make_product("SKU-TEA", name="西湖龙井", location=location), 1)])
    url = "https://oms.example.com/track/abc123/"
    with translation.override("zh-hans"):
        text = "".join(pages_text(packing_slip_pdf(shipment, tracking_url=url))[0].split())
    assert "装箱单" in text and "本箱件数" in text and url in text
    assert text.count("如需退货") == 1
    assert "Packing slip" not in text and "To return" not in text
