"""The pack station with real carriers in a real browser, against the fake vendors on loopback: a refused
EasyPost buy shows the carrier's error on the red banner and the shipment stays packed; the retry and a Kdniao
e-waybill open the carrier's own label. Screenshots at desktop and phone widths go to test-artifacts/browser/."""

import pytest

from fulfillment import packing
from logistics.models import Carrier, Parcel, ServiceLevel
from orders import services as order_services
from tests.browser.conftest import DESKTOP, PHONE
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock
from tests.logistics.fake_easypost import FakeEasyPost
from tests.logistics.fake_kdniao import FakeKdniao

pytestmark = [pytest.mark.browser, pytest.mark.serial, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fakes():
    easypost, kdniao = FakeEasyPost(api_key="EZTK_b").start(), FakeKdniao(app_key="kdn-b").start()
    yield easypost, kdniao
    easypost.stop()
    kdniao.stop()


def _shipment(sku: str, external_id: str):
    location = LocationFactory(code="sha", name="上海仓", phone="021-55550000")
    stock(location, ProductFactory(sku=sku, name="龙井茶 特级 250g 礼盒装"), 10)
    data = canonical(external_id=external_id, lines=[(sku, 1)], ship_to={"name": "王小明", "address1": "世纪大道88号"})
    order = order_services.order_create(channel=ChannelFactory(slug="web"), data=data, source="t").order
    shipment = order.shipments.get()
    packing.pack_scan(shipment=shipment, code=sku)
    return shipment


def _pack(page, url, shipment):
    page.goto(f"{url}/fulfillment/pack/{shipment.number}/")
    page.fill("#id_weight_kg", "0.9")
    page.get_by_role("button", name="Pack & print label").click()
    page.wait_for_load_state()


def test_pack_station_with_easypost_and_kdniao(live_server, browser, watch, fakes):
    easypost, kdniao = fakes
    carrier = Carrier.objects.create(
        code="ep", name="EasyPost USPS", adapter="easypost", api_key="EZTK_b", api_base_url=easypost.base_url
    )
    ServiceLevel.objects.create(carrier=carrier, code="us-priority", name="Priority", external_code="USPS:Priority")
    shipment = _shipment("TEA-1", "EXT-1")
    make_user("packer", "warehouse")
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "packer")
    page.fill("#id_password", "pw-packer")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    easypost.fail(
        "/buy", 422, {"error": {"code": "SHIPMENT.POSTAGE.FAILURE", "message": "address not deliverable", "errors": []}}
    )
    _pack(page, live_server.url, shipment)
    assert "EasyPost refused (422): SHIPMENT.POSTAGE.FAILURE address not deliverable" in page.inner_text("body")
    watch.shot(page, "pack-carrier-refused")
    page.set_viewport_size(PHONE)
    watch.shot(page, "pack-carrier-refused")
    page.set_viewport_size(DESKTOP)

    _pack(page, live_server.url, shipment)  # the retry
    parcel = Parcel.objects.get()
    assert "packed and labelled" in page.inner_text("body")
    assert page.locator("iframe.labelframe").get_attribute("src") == f"/logistics/parcels/{parcel.pk}/label/"
    watch.shot(page, "pack-easypost-label")

    Carrier.objects.filter(pk=carrier.pk).update(active=False)
    zto = Carrier.objects.create(
        code="zto",
        name="中通快递",
        adapter="kdniao",
        api_key="kdn-b",
        account_id="1234567",
        api_base_url=kdniao.url,
        shipper_code="ZTO",
        privacy_waybill=True,
    )
    ServiceLevel.objects.create(carrier=zto, code="zto-std", name="标准快递", external_code="1")
    second = _shipment("TEA-2", "EXT-2")
    _pack(page, live_server.url, second)
    assert Parcel.objects.get(shipment=second).tracking_number == "753100000001"
    watch.shot(page, "pack-kdniao-label")
    page.set_viewport_size(PHONE)
    watch.shot(page, "pack-kdniao-label")

    assert not watch.errors
    assert not watch.overflow
