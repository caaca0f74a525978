"""End-of-day manifests (PDF and CSV read back), ZPL labels checked structurally, and a wave's labels in one
PDF."""

import csv
import io
import re

import pytest
from pypdf import PdfReader

from fulfillment import services as fulfillment_services
from fulfillment import waves
from logistics import manifests, services
from logistics.models import Manifest, Parcel
from logistics.zpl import escape, label_zpl
from oms.errors import DomainError
from orders import services as order_services
from orders.models import OrderEvent
from tests.factories import (
    CarrierFactory,
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    make_user,
    stock,
)

pytestmark = pytest.mark.django_db
CN_ADDRESS = {
    "name": "欧阳娜娜",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "address1": "文三路 90 号 东部软件园 ^XZ 3 号楼",
    "postcode": "310012",
}


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    """Three parcels from sha shipped today: two with the local carrier, one with SF."""
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="SKU-A"), 50)
    local = ServiceLevelFactory(code="std", base_rate="5.00")
    sf = ServiceLevelFactory(carrier=CarrierFactory(code="sf", name="SF Express"), code="exp", base_rate="20.00")
    parcels = []
    for ext, service, ship_to in [("M1", local, CN_ADDRESS), ("M2", local, {}), ("M3", sf, {})]:
        with django_capture_on_commit_callbacks(execute=True):
            order = order_services.order_create(
                channel=ChannelFactory(slug="web"), data=canonical(external_id=ext, ship_to=ship_to), source="t"
            ).order
        shipment = order.shipments.get()
        fulfillment_services.shipment_pack(shipment=shipment, weight_g=1200 + len(parcels) * 100)
        parcels.append(services.shipment_dispatch(shipment=shipment, service=service))
    return {"location": location, "parcels": parcels, "local": local.carrier, "sf": sf.carrier}


def test_manifest_close_takes_the_days_parcels_of_one_carrier(shipped):
    p1, p2, p3 = shipped["parcels"]
    manifest = manifests.manifest_close(carrier=shipped["local"], location=shipped["location"])

    assert sorted(manifest.parcels.values_list("pk", flat=True)) == [p1.pk, p2.pk]
    assert Parcel.objects.get(pk=p3.pk).manifest is None
    assert re.fullmatch(r"MF\d{8}\d{4}", manifest.number)
    event = OrderEvent.objects.get(order=p1.shipment.order, data__manifest=manifest.number)
    assert event.message == f"Handed to Local Express on manifest {manifest.number}: {p1.tracking_number}"

    with pytest.raises(DomainError, match="No Local Express parcels from sha on .* wait for a manifest."):
        manifests.manifest_close(carrier=shipped["local"], location=shipped["location"])
    assert Manifest.objects.count() == 1


def test_manifest_pdf_and_csv_read_back(shipped):
    p1, p2, _ = shipped["parcels"]
    manifest = manifests.manifest_close(carrier=shipped["local"], location=shipped["location"])

    reader = PdfReader(io.BytesIO(manifests.manifest_pdf(manifest)))
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 1
    assert (float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)) == pytest.approx(
        (595.28, 841.89), abs=0.5
    )
    for expected in (
        manifest.number,
        p1.tracking_number,
        p2.tracking_number,
        "欧阳娜娜",
        "浙江省 杭州市",
        "Total 合计: 2 parcels",
        "2.50",
        "Handed over by 交件人",
        "Received by 收件人",
        "Signature 签名",
    ):
        assert expected in text

    rows = list(csv.reader(io.StringIO(manifests.manifest_csv(manifest).decode("utf-8-sig"))))
    day = f"{manifest.date:%Y-%m-%d}"
    assert rows == [
        manifests.CSV_COLUMNS,
        [
            manifest.number,
            "local",
            "sha",
            day,
            p1.tracking_number,
            "Standard",
            p1.shipment.number,
            p1.shipment.order.number,
            "欧阳娜娜",
            "浙江省",
            "杭州市",
            "1.20",
            "1",
        ],
        [
            manifest.number,
            "local",
            "sha",
            day,
            p2.tracking_number,
            "Standard",
            p2.shipment.number,
            p2.shipment.order.number,
            "Li Lei",
            "Shanghai",
            "Shanghai",
            "1.30",
            "1",
        ],
        [manifest.number, "local", "sha", day, "TOTAL", "", "", "", "", "", "", "2.50", "2"],
    ]


def test_manifest_pages(shipped, client):
    client.force_login(make_user("wh", "warehouse"))
    page = client.get("/logistics/manifests/").content.decode()
    assert "Local Express" in page and "SF Express" in page and "Close manifest" in page
    response = client.post(
        "/logistics/manifests/close/", {"carrier": shipped["sf"].pk, "location": shipped["location"].pk}
    )
    manifest = Manifest.objects.get()
    assert response.status_code == 302 and manifest.carrier == shipped["sf"]
    assert client.get(f"/logistics/manifests/{manifest.pk}/pdf/")["Content-Type"] == "application/pdf"
    assert client.get(f"/logistics/manifests/{manifest.pk}/csv/").content.startswith("\ufeffmanifest,".encode())
    client.force_login(make_user("cs", "customer_service"))
    assert (
        client.post(
            "/logistics/manifests/close/", {"carrier": shipped["local"].pk, "location": shipped["location"].pk}
        ).status_code
        == 403
    )
    assert Manifest.objects.count() == 1


# ---- ZPL --------------------------------------------------------------------------------------


def url_for(parcel):
    return f"https://oms.example/t/{parcel.tracking_number}"


def test_zpl_label_structure_4x6(shipped):
    parcel = shipped["parcels"][0]
    zpl = label_zpl([parcel], tracking_url_for=url_for)
    lines = zpl.splitlines()
    assert lines[:5] == ["^XA", "^CI28", "^PW812", "^LL1218", "^LH0,0"]
    assert lines[-2:] == ["^PQ1", "^XZ"]
    assert f"^BCN,170,N,N,N^FD{parcel.tracking_number}^FS" in zpl
    assert f"^BQN,2,4^FH_^FDMA,https://oms.example/t/{parcel.tracking_number}^FS" in zpl
    assert "^A@N,48,48,E:SIMSUN.TTF^FB492,1,0,L,0^FH_^FD欧阳娜娜^FS" in zpl
    assert "浙江省 杭州市 西湖区" in zpl
    # The address's "^XZ" is escaped: it cannot end the label early.
    assert zpl.count("^XZ") == 1 and "东部软件园 _5EXZ 3 号楼" in zpl
    assert all(line.startswith("^") for line in lines)


def test_zpl_a6_300_dpi_and_many_labels(shipped, settings):
    settings.ZPL_FONT = "E:NOTOSANSCJKSC.TTF"
    zpl = label_zpl(shipped["parcels"], tracking_url_for=url_for, size="a6", dpi=300)
    assert zpl.count("^XA") == zpl.count("^XZ") == 3
    assert "^PW1240\n^LL1748" in zpl
    assert "E:NOTOSANSCJKSC.TTF" in zpl and "SIMSUN" not in zpl
    order = [m for m in re.findall(r"\^BCN,\d+,N,N,N\^FD([^^]+)\^FS", zpl)]
    assert order == [p.tracking_number for p in shipped["parcels"]]


def test_zpl_escape():
    assert escape("a^b~c_d\n e") == "a_5Eb_7Ec_5Fd e"


# ---- a wave's labels ------------------------------------------------------------------------------


def test_wave_labels_in_one_pdf_one_page_each(client, django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="SKU-A"), 50)
    ServiceLevelFactory(code="std")
    for ext in ("W1", "W2", "W3"):
        with django_capture_on_commit_callbacks(execute=True):
            order_services.order_create(channel=ChannelFactory(slug="web"), data=canonical(external_id=ext), source="t")
    wave = waves.wave_create(location=location)
    for shipment in wave.shipments.all():
        fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
        services.shipment_dispatch(shipment=shipment)
    client.force_login(make_user("wh", "warehouse"))

    response = client.get(f"/logistics/picklists/{wave.pk}/labels/")
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages} == {(288, 432)}
    numbers = list(Parcel.objects.order_by("shipment_id").values_list("tracking_number", flat=True))
    assert [next(n for n in numbers if n in page.extract_text()) for page in reader.pages] == numbers
    a6 = PdfReader(io.BytesIO(client.get(f"/logistics/picklists/{wave.pk}/labels/?size=a6").content))
    assert {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in a6.pages} == {(298, 420)}
    zpl = client.get(f"/logistics/picklists/{wave.pk}/labels/?format=zpl").content.decode()
    assert zpl.count("^XA") == 3
