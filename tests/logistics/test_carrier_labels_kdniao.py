"""Kdniao e-waybills (电子面单) against a fake Kdniao EOrderService on loopback (tests/logistics/fake_kdniao.py):
the waybill number and sort codes taken at pack time and drawn on our 100x180 mm label (read back with
pdftotext), the signature checked by the fake, the privacy waybill, refusals, and the cancel (1147) of a
waybill whose shipment is cancelled before hand-over, through the outbox."""

import shutil
import subprocess

import pytest

from fulfillment import packing
from fulfillment.models import Shipment
from logistics import services
from logistics.carriers.base import CarrierAccount, CarrierError, LabelRequest
from logistics.carriers.kdniao import KdniaoCarrier
from logistics.carriers.kdniao_label import mask_name, mask_phone
from logistics.manifests import manifest_close
from logistics.models import Carrier, LabelPurchase, Parcel, ServiceLevel
from oms.models import OutboxMessage
from oms.outbox import outbox_dispatch
from orders import services as order_services
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock
from workflows.cancel import order_cancel_request

from .fake_kdniao import FakeKdniao

pytestmark = pytest.mark.django_db
APP_KEY = "kdn-app-key-0001"


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "label.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def fake():
    server = FakeKdniao(e_business_id="1234567", app_key=APP_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def carrier(fake):
    carrier = Carrier.objects.create(
        code="zto",
        name="中通快递",
        adapter="kdniao",
        api_key=APP_KEY,
        account_id="1234567",
        api_base_url=fake.url + "/api/EOrderService",
        shipper_code="ZTO",
        account_options={"CustomerName": "zto-acct", "CustomerPwd": "zto-pass", "PayType": 3},
    )
    ServiceLevel.objects.create(carrier=carrier, code="zto-std", name="标准快递", external_code="1", base_rate="6.00")
    return carrier


@pytest.fixture
def shipment(carrier, django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha", name="上海仓", phone="021-55550000", province="上海", city="上海市")
    stock(location, ProductFactory(sku="TEA-1", name="龙井茶"), 10)
    data = canonical(
        lines=[("TEA-1", 2)],
        ship_to={
            "name": "王小明",
            "phone": "+86 138 0013 8000",
            "province": "上海",
            "city": "上海市",
            "district": "浦东新区",
            "address1": "世纪大道88号",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(channel=ChannelFactory(slug="web"), data=data, source="t").order
    shipment = order.shipments.get()
    for _ in range(2):
        packing.pack_scan(shipment=shipment, code="TEA-1")
    return shipment


def pack(client, shipment):
    return client.post(
        f"/logistics/pack/{shipment.number}/ship/", {"weight_kg": "0.900", "package_type": "box-m", "label_size": "4x6"}
    )


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_pack_takes_the_waybill_and_prints_it_with_the_sort_codes(
    fake, shipment, client, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(make_user("packer", "warehouse"))
    with django_capture_on_commit_callbacks(execute=True):
        done = pack(client, shipment)

    parcel = Parcel.objects.get()
    assert done.status_code == 302 and done.url.endswith(f"%2Flogistics%2Fparcels%2F{parcel.pk}%2Flabel%2F")
    assert parcel.tracking_number == "753100000001" and parcel.carrier_reference == shipment.number
    (call,) = fake.calls("POST /api/EOrderService")
    form, data = fake.form(call), fake.data(call)
    assert (form["RequestType"], form["EBusinessID"], form["DataType"]) == ("1007", "1234567", "2")
    assert call.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=utf-8"
    assert data["OrderCode"] == shipment.number and data["ShipperCode"] == "ZTO" and data["ExpType"] == "1"
    assert (data["PayType"], data["CustomerName"], data["CustomerPwd"]) == (3, "zto-acct", "zto-pass")
    assert data["Receiver"] == {
        "Name": "王小明",
        "Mobile": "13800138000",
        "ProvinceName": "上海",
        "CityName": "上海市",
        "ExpAreaName": "浦东新区",
        "Address": "世纪大道88号",
        "PostCode": "200120",
    }
    assert data["Sender"]["Name"] == "上海仓" and data["Commodity"] == [{"GoodsName": "龙井茶", "Goodsquantity": 2}]
    assert data["Weight"] == 0.9 and data["IsReturnPrintTemplate"] == "0"
    assert LabelPurchase.objects.get().data["MarkDestination"] == "沪 浦东 A12-03"

    label = client.get(f"/logistics/parcels/{parcel.pk}/label/")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    text = pdf_text(label.content, tmp_path)
    for expected in ("753100000001", "沪 浦东 A12-03", "上海浦东集包", "A12-03", "中通快递", "王小明", "龙井茶 ×2"):
        assert expected in text
    assert "138" in text and "8000" in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_privacy_waybill_masks_the_name_and_phone_on_the_label(
    fake, carrier, shipment, client, tmp_path, django_capture_on_commit_callbacks
):
    Carrier.objects.filter(pk=carrier.pk).update(privacy_waybill=True)
    client.force_login(make_user("packer", "warehouse"))
    with django_capture_on_commit_callbacks(execute=True):
        pack(client, shipment)
    parcel = Parcel.objects.get()

    text = pdf_text(client.get(f"/logistics/parcels/{parcel.pk}/label/").content, tmp_path)

    assert "王*明" in text and "138****8000" in text
    assert "王小明" not in text and "0013" not in text
    assert fake.data(fake.requests[0])["Receiver"]["Name"] == "王小明"  # the carrier still gets them in full


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_channel_privacy_setting_masks_the_kdniao_waybill_too(
    fake, carrier, shipment, client, tmp_path, django_capture_on_commit_callbacks
):
    assert not Carrier.objects.get(pk=carrier.pk).privacy_waybill
    shipment.order.channel.__class__.objects.filter(pk=shipment.order.channel_id).update(mask_recipient=True)
    client.force_login(make_user("packer", "warehouse"))
    with django_capture_on_commit_callbacks(execute=True):
        pack(client, shipment)

    text = pdf_text(client.get(f"/logistics/parcels/{Parcel.objects.get().pk}/label/").content, tmp_path)

    assert "王*明" in text and "138****8000" in text
    assert "王小明" not in text and "0013" not in text
    assert "世纪大道88号" in text  # the address stays whole
    assert fake.data(fake.requests[0])["Receiver"]["Name"] == "王小明"


def test_masking():
    assert [mask_name(n) for n in ("王五", "王小明", "李", "")] == ["王*", "王*明", "李", ""]
    assert [mask_phone(p) for p in ("13800000000", "+86 138 0013 8000", "021-5555 0000", "123")] == [
        "138****0000",
        "138****8000",
        "*******0000",
        "123",
    ]


def test_a_bad_signature_is_refused_and_nothing_is_written(fake, carrier, shipment):
    Carrier.objects.filter(pk=carrier.pk).update(api_key="not-the-app-key")
    shipment = Shipment.objects.get(pk=shipment.pk)
    packing.pack_complete(shipment=shipment, weight_g=900, package_type="box-m")

    with pytest.raises(CarrierError) as error:
        services.shipment_dispatch(shipment=shipment)

    assert str(error.value) == f"Kdniao did not issue a waybill for {shipment.number}: 102 DataSign 验证失败"
    assert Shipment.objects.get(pk=shipment.pk).status == "packed"
    assert not Parcel.objects.exists() and not LabelPurchase.objects.exists()


def test_a_refused_order_names_the_missing_fields(fake):
    adapter = KdniaoCarrier(
        CarrierAccount(api_key=APP_KEY, account_id="1234567", base_url=fake.url, shipper_code="ZTO")
    )
    request = LabelRequest(shipment_number="SH1", service_code="std", weight_g=500, recipient={"name": "王五"})
    with pytest.raises(CarrierError, match="105 缺少必填字段: Sender.Name, Sender.Mobile"):
        adapter.create_label(request)
    fake.fail("POST", 502)
    with pytest.raises(CarrierError, match="Kdniao answered 502"):
        adapter.create_label(request)


def test_the_same_order_code_again_gets_the_same_waybill(fake):
    adapter = KdniaoCarrier(
        CarrierAccount(api_key=APP_KEY, account_id="1234567", base_url=fake.url, shipper_code="YTO")
    )
    person = {"name": "王五", "phone": "13800000000", "province": "上海", "city": "上海市", "address1": "世纪大道1号"}
    request = LabelRequest(shipment_number="SH9", service_code="std", weight_g=500, sender=person, recipient=person)
    first, again = adapter.create_label(request), adapter.create_label(request)
    assert first.tracking_number == again.tracking_number == "753100000001"
    assert (first.data["ResultCode"], again.data["ResultCode"]) == ("100", "106")


def _shipped(shipment, cb):
    packing.pack_complete(shipment=shipment, weight_g=900, package_type="box-m")
    with cb(execute=True):
        return services.shipment_dispatch(shipment=Shipment.objects.get(pk=shipment.pk))


def test_cancel_before_hand_over_cancels_the_waybill_once(fake, shipment, django_capture_on_commit_callbacks):
    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=shipment.order, reason_code="customer_request", user=make_user("boss", "manager"))
    outbox_dispatch()

    (cancel,) = [r for r in fake.requests if fake.form(r)["RequestType"] == "1147"]
    assert fake.data(cancel) == {
        "ShipperCode": "ZTO",
        "OrderCode": shipment.number,
        "ExpNo": parcel.tracking_number,
        "CustomerName": "zto-acct",
        "CustomerPwd": "zto-pass",
    }
    assert fake.cancelled == [parcel.tracking_number]
    assert OutboxMessage.objects.get(kind="carrier.void").status == "sent"


def test_after_hand_over_the_waybill_is_not_cancelled(fake, carrier, shipment, django_capture_on_commit_callbacks):
    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    manifest_close(carrier=carrier, location=shipment.location, user=None)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=shipment.order, reason_code="customer_request", user=make_user("boss", "manager"))

    assert fake.cancelled == [] and not OutboxMessage.objects.filter(kind="carrier.void").exists()
    parcel.refresh_from_db()
    assert parcel.voided_at is None  # with the carrier: an intercept case, not a cancel


def test_an_unused_purchase_is_voided_but_never_a_number_in_use(
    fake, carrier, shipment, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from logistics.carrier_labels import unused_purchases_void

    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    service = parcel.service
    # A second click raced the first: Kdniao answered its repeat with the same waybill (106), and another
    # purchase was left over with a number of its own.
    LabelPurchase.objects.create(shipment=shipment, service=service, tracking_number=parcel.tracking_number)
    LabelPurchase.objects.create(shipment=shipment, service=service, tracking_number="753199999999")

    with transaction.atomic():
        done = unused_purchases_void(shipment_ids=[shipment.pk])

    assert done == ["unused label 753199999999: void requested from 中通快递"]
    row = OutboxMessage.objects.get(kind="carrier.void")
    assert row.payload["tracking_number"] == "753199999999"
    assert LabelPurchase.objects.get(parcel=parcel).void_requested_at is None
