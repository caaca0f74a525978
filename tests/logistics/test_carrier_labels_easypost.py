"""EasyPost for real in the pack flow, against a fake EasyPost on loopback (tests/logistics/fake_easypost.py):
the label is bought before the dispatch transaction, the carrier's own file is what the label download and
the wave print, a failed buy leaves the shipment packed with the error shown and a retry that works, and a
cancellation refunds the label once through the outbox."""

import pytest
from django.db import transaction

from fulfillment import packing
from fulfillment.models import Shipment
from logistics import carrier_labels, services
from logistics.carriers.base import CarrierError
from logistics.models import Carrier, LabelPurchase, Parcel, ServiceLevel
from oms.models import OutboxMessage
from oms.outbox import outbox_dispatch
from orders import services as order_services
from orders.models import OrderEvent
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, make_user, stock
from workflows.cancel import order_cancel_request

from .fake_easypost import FakeEasyPost

pytestmark = pytest.mark.django_db
KEY = "EZTK_fake_secret_1234"


@pytest.fixture
def fake():
    server = FakeEasyPost(api_key=KEY).start()
    yield server
    server.stop()


@pytest.fixture
def carrier(fake):
    carrier = Carrier.objects.create(
        code="easypost", name="EasyPost USPS", adapter="easypost", api_key=KEY, api_base_url=fake.base_url
    )
    ServiceLevel.objects.create(
        carrier=carrier, code="us-priority", name="Priority", external_code="USPS:Priority", base_rate="7.00"
    )
    return carrier


@pytest.fixture
def shipment(carrier, django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="TEA-1", name="龙井茶"), 10)
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=ChannelFactory(slug="web"), data=canonical(lines=[("TEA-1", 2)]), source="t"
        ).order
    shipment = order.shipments.get()
    for _ in range(2):
        packing.pack_scan(shipment=shipment, code="TEA-1")
    return shipment


@pytest.fixture
def packer(client):
    client.force_login(make_user("packer", "warehouse"))
    return client


def pack(client, shipment, size="4x6"):
    return client.post(
        f"/logistics/pack/{shipment.number}/ship/", {"weight_kg": "0.900", "package_type": "box-m", "label_size": size}
    )


def test_pack_buys_the_label_and_the_download_is_the_carriers_own_file(
    fake, shipment, packer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        done = pack(packer, shipment)

    parcel = Parcel.objects.get()
    assert done.status_code == 302
    assert (
        done.url == f"/fulfillment/pack/?done={shipment.number}&label=%2Flogistics%2Fparcels%2F{parcel.pk}%2Flabel%2F"
    )
    created, bought, fetched = fake.calls("POST /v2/shipments")[0], fake.calls("/buy")[0], fake.calls("GET /files/")[0]
    sent = created.json()["shipment"]
    assert sent["reference"] == shipment.number
    assert sent["options"] == {"label_format": "PDF"}
    assert sent["to_address"]["street1"] == "Pudong 88 Century Avenue"
    assert bought.json() == {"rate": {"id": fake.shipments[parcel.carrier_reference]["rates"][0]["id"]}}
    assert fetched.path == f"/files/{parcel.carrier_reference}.pdf"
    assert parcel.tracking_number == "9400100000000000000001"
    assert (str(parcel.price), parcel.currency) == ("7.58", "USD")
    shipment.refresh_from_db()
    assert shipment.status == "shipped"

    label = packer.get(f"/logistics/parcels/{parcel.pk}/label/")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    assert label.content == fake.files[f"{parcel.carrier_reference}.pdf"]  # the carrier's bytes, not ours
    assert b"EASYPOST FAKE LABEL 9400100000000000000001" in label.content
    zpl = packer.get(f"/logistics/parcels/{parcel.pk}/label.zpl")  # a ZPL click still prints the carrier's label
    assert zpl.status_code == 302 and zpl.url == f"/logistics/parcels/{parcel.pk}/label/"


def test_zpl_labels_when_the_carrier_is_set_to_zpl(fake, carrier, shipment, packer, django_capture_on_commit_callbacks):
    Carrier.objects.filter(pk=carrier.pk).update(label_format="ZPL")
    with django_capture_on_commit_callbacks(execute=True):
        pack(packer, shipment, size="zpl")
    parcel = Parcel.objects.get()
    assert fake.calls("POST /v2/shipments")[0].json()["shipment"]["options"] == {"label_format": "ZPL"}
    label = packer.get(f"/logistics/parcels/{parcel.pk}/label/")
    assert label["Content-Type"] == "application/zpl; charset=utf-8"
    assert label.content == b"^XA^FO40,40^FDEASYPOST 9400100000000000000001^FS^XZ"


def test_a_failed_buy_leaves_the_shipment_packed_with_the_error_shown_and_a_retry_works(
    fake, shipment, packer, django_capture_on_commit_callbacks
):
    fake.fail("/buy", 503, {"error": {"code": "INTERNAL_SERVER_ERROR", "message": "try later", "errors": []}})

    failed = pack(packer, shipment)

    assert failed.status_code == 302 and failed.url == f"/fulfillment/pack/{shipment.number}/"
    page = packer.get(failed.url).content.decode()
    assert "EasyPost answered 503: INTERNAL_SERVER_ERROR try later" in page
    assert (  # the station's red banner says why there is no label, not "nothing to pack"
        f'data-scan="error">Label from EasyPost USPS could not be bought for {shipment.number}: '
        "EasyPost answered 503: INTERNAL_SERVER_ERROR try later. The shipment stays packed; try again.</div>"
    ) in page
    assert "nothing to pack" not in page
    assert "Pack &amp; print label" in page  # the retry is the same button
    shipment.refresh_from_db()
    assert shipment.status == "packed"
    assert not Parcel.objects.exists() and not LabelPurchase.objects.exists()
    note = OrderEvent.objects.get(order=shipment.order, data__label="failed")
    assert note.message.startswith(f"Label from EasyPost USPS could not be bought for {shipment.number}")

    with django_capture_on_commit_callbacks(execute=True):
        retried = pack(packer, shipment)

    assert retried.status_code == 302 and retried.url.startswith("/fulfillment/pack/?done=")
    shipment.refresh_from_db()
    assert shipment.status == "shipped"
    assert len(fake.calls("/buy")) == 2 and Parcel.objects.get().tracking_number == "9400100000000000000002"


def test_a_label_bought_but_not_fetched_is_not_bought_again(fake, shipment, packer, django_capture_on_commit_callbacks):
    fake.fail("GET /files/", 500)
    pack(packer, shipment)
    purchase = LabelPurchase.objects.get()
    assert purchase.parcel is None and not purchase.label_file
    assert Shipment.objects.get(pk=shipment.pk).status == "packed"

    with django_capture_on_commit_callbacks(execute=True):
        pack(packer, shipment)

    assert len(fake.calls("/buy")) == 1  # one label bought, used on the retry
    purchase.refresh_from_db()
    assert purchase.parcel == Parcel.objects.get() and purchase.parcel.tracking_number == purchase.tracking_number


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("bad_key", "EasyPost refused (401): APIKEY.INACTIVE API key invalid"),
        (
            "no_street",
            "EasyPost refused (422): SHIPMENT.INVALID_PARAMS Invalid shipment (to_address.street1: cannot be blank)",
        ),
        ("throttled", "EasyPost answered 429"),
    ],
)
def test_refusals_are_clear_errors_and_write_nothing(fake, carrier, shipment, setup, message):
    if setup == "bad_key":
        Carrier.objects.filter(pk=carrier.pk).update(api_key="EZTK_wrong_key")
    elif setup == "no_street":
        type(shipment.order).objects.filter(pk=shipment.order_id).update(ship_address1="", ship_district="")
    else:
        fake.fail(
            "POST /v2/shipments",
            429,
            {"error": {"code": "RATE_LIMITED", "message": "slow down", "errors": []}},
            {"Retry-After": "2"},
        )
    shipment = Shipment.objects.get(pk=shipment.pk)
    packing.pack_complete(shipment=shipment, weight_g=900, package_type="box-m")

    with pytest.raises(CarrierError) as error:
        services.shipment_dispatch(shipment=shipment)

    assert str(error.value).startswith(message)
    assert "EZTK" not in str(error.value)  # the key is never shown back
    assert Shipment.objects.get(pk=shipment.pk).status == "packed"
    assert not Parcel.objects.exists() and not LabelPurchase.objects.exists()


def _shipped(shipment, cb):
    packing.pack_complete(shipment=shipment, weight_g=900, package_type="box-m")
    with cb(execute=True):
        return services.shipment_dispatch(shipment=Shipment.objects.get(pk=shipment.pk))


def test_cancel_refunds_the_label_once_through_the_outbox(fake, shipment, django_capture_on_commit_callbacks):
    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    boss = make_user("boss", "manager")

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=shipment.order, reason_code="customer_request", user=boss)
    outbox_dispatch()  # the consumer runs again: nothing more is sent
    outbox_dispatch()

    refunds = fake.calls("/refund")
    assert [r.path for r in refunds] == [f"/v2/shipments/{parcel.carrier_reference}/refund"]
    row = OutboxMessage.objects.get(kind="carrier.void")
    assert (row.status, row.destination, row.payload["tracking_number"]) == ("sent", "easypost", parcel.tracking_number)
    parcel.refresh_from_db()
    assert parcel.voided_at is not None
    assert OrderEvent.objects.filter(order=shipment.order, data__void="requested").count() == 1


def test_a_failed_refund_is_retried_and_a_refused_one_is_a_dead_letter(
    fake, shipment, django_capture_on_commit_callbacks
):
    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    fake.fail("/refund", 502)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        from logistics.voids import shipments_labels_void

        shipments_labels_void(shipment_ids=[shipment.pk])
    row = OutboxMessage.objects.get(kind="carrier.void")
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "EasyPost answered 502: no error details")

    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    fake.fail("/refund", 422, {"error": {"code": "SHIPMENT.REFUND.INVALID", "message": "already used", "errors": []}})
    outbox_dispatch()
    row.refresh_from_db()
    assert row.status == "dead"
    assert row.last_error == (
        f"EasyPost USPS refused to void {parcel.tracking_number}: "
        "EasyPost refused (422): SHIPMENT.REFUND.INVALID already used"
    )


def test_the_wave_pdf_carries_the_carriers_own_pages(fake, shipment, packer, django_capture_on_commit_callbacks):
    from fulfillment import services as fulfillment_services

    with django_capture_on_commit_callbacks(execute=True):
        picklist = fulfillment_services.picklist_create(location=shipment.location, shipment_ids=[shipment.pk])
    parcel = _shipped(shipment, django_capture_on_commit_callbacks)
    wave = packer.get(f"/logistics/picklists/{picklist.pk}/labels/")
    assert wave.status_code == 200
    assert carrier_labels.carrier_label_file(parcel).content == fake.files[f"{parcel.carrier_reference}.pdf"]
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(wave.content)).pages
    assert len(pages) == 1 and "EASYPOST FAKE LABEL" in pages[0].extract_text()


def test_rate_shopping_uses_the_carriers_live_rates_when_configured(
    fake, carrier, shipment, django_capture_on_commit_callbacks
):
    # The price list says Express is cheaper; EasyPost's own rates say Priority (7.58) beats Express (30.30).
    ServiceLevel.objects.filter(carrier=carrier).update(base_rate="40.00")
    ServiceLevel.objects.create(
        carrier=carrier, code="us-express", name="Express", external_code="USPS:Express", base_rate="5.00"
    )
    ServiceLevel.objects.create(
        carrier=carrier, code="us-media", name="Media Mail", external_code="USPS:MediaMail", base_rate="1.00"
    )
    packing.pack_complete(shipment=Shipment.objects.get(pk=shipment.pk), weight_g=900, package_type="box-m")
    assert services.service_choose(shipment).code == "us-media"  # without live rates: the price list

    Carrier.objects.filter(pk=carrier.pk).update(live_rates=True)
    with django_capture_on_commit_callbacks(execute=True):
        parcel = services.shipment_dispatch(shipment=Shipment.objects.get(pk=shipment.pk))

    assert parcel.service.code == "us-priority" and str(parcel.price) == "7.58"
    quotes = {q["service_code"]: q for q in parcel.quotes}
    assert quotes["us-priority"]["breakdown"] == {"live": "7.58"} and quotes["us-priority"]["chosen"]
    assert quotes["us-express"]["amount"] == "30.30"
    assert quotes["us-media"]["reasons"] == ["EasyPost USPS offered no rate USPS:MediaMail"]
    assert [r.path for r in fake.requests if r.method == "POST"].count("/v2/shipments") == 2  # to rate, to buy


def test_live_rates_unavailable_fall_back_to_the_price_list(
    fake, carrier, shipment, django_capture_on_commit_callbacks
):
    Carrier.objects.filter(pk=carrier.pk).update(live_rates=True)
    packing.pack_complete(shipment=Shipment.objects.get(pk=shipment.pk), weight_g=900, package_type="box-m")
    fake.fail("POST /v2/shipments", 503)
    with django_capture_on_commit_callbacks(execute=True):
        parcel = services.shipment_dispatch(shipment=Shipment.objects.get(pk=shipment.pk))
    (quote,) = parcel.quotes
    assert quote["breakdown"]["live"] == "unavailable, price list used: EasyPost answered 503: no error details"
    assert parcel.service.code == "us-priority" and str(parcel.price) == "7.58"  # the label's own price


def test_a_label_bought_for_a_shipment_cancelled_before_shipping_is_refunded(
    fake, shipment, packer, django_capture_on_commit_callbacks
):
    fake.fail("GET /files/", 500)
    pack(packer, shipment)  # bought, but its file could not be fetched: the shipment stays packed
    purchase = LabelPurchase.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel_request(order=shipment.order, reason_code="customer_request", user=make_user("boss", "manager"))

    assert Shipment.objects.get(pk=shipment.pk).status == "cancelled"
    assert [r.path for r in fake.calls("/refund")] == [f"/v2/shipments/{purchase.carrier_reference}/refund"]
    purchase.refresh_from_db()
    assert purchase.void_requested_at is not None and purchase.parcel is None
    assert OutboxMessage.objects.get(kind="carrier.void").status == "sent"
