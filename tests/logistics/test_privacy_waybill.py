"""隐私面单: a channel that masks the recipient gets labels (canvas 4x6 and A6, ZPL) and packing slips with the
name and phone masked and the address whole; another channel's documents are unchanged."""

import io

import pytest
from pypdf import PdfReader

from fulfillment.documents import packing_slip_pdf
from logistics.documents import label_pdf
from logistics.zpl import label_zpl
from orders.models import Channel
from orders.privacy import mask_name, mask_phone
from tests.logistics.test_documents import make_parcel, track_url

pytestmark = pytest.mark.django_db


def text_of(pdf: bytes) -> str:
    return "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def masked_parcel(name="王小五", phone="+86 136 0013 6000"):
    Channel.objects.update_or_create(slug="web", defaults={"name": "Web", "mask_recipient": True})
    return make_parcel(ship_name=name, ship_phone=phone, address1="人民路100号")


def test_masking_rules():
    names = ("王小五", "张三", "欧阳小明", "李", "", "John Smith", "madonna", "Anna  Maria Lee")
    assert [mask_name(n) for n in names] == [
        "王*五",
        "张*",
        "欧**明",
        "李",
        "",
        "J*** S.",
        "M***",
        "A*** L.",
    ]
    assert [mask_phone(p) for p in ("13600136000", "+86 136 0013 6000", "021-5555 0000", "123", "")] == [
        "136****6000",
        "136****6000",
        "*******0000",
        "123",
        "",
    ]


@pytest.mark.parametrize("size", ["4x6", "a6"])
def test_a_masked_channel_label_has_no_full_name_or_phone_and_the_whole_address(size):
    parcel = masked_parcel()
    text = text_of(label_pdf([parcel], tracking_url_for=track_url, size=size))
    assert "王*五" in text and "136****6000" in text
    assert "王小五" not in text and "13600136000" not in text and "0013" not in text
    assert "人民路100号" in text and "广东省深圳市南山区" in text


def test_a_masked_channel_zpl_label():
    parcel = masked_parcel(name="John Smith")
    zpl = label_zpl([parcel], tracking_url_for=track_url)
    assert "J*** S." in zpl and "136****6000" in zpl
    assert "John" not in zpl and "Smith" not in zpl and "13600136000" not in zpl
    assert "人民路100号" in zpl


def test_a_masked_channel_packing_slip():
    parcel = masked_parcel()
    text = text_of(packing_slip_pdf(parcel.shipment, tracking_url="https://oms.example.com/t/x/"))
    assert "王*五" in text
    assert "王小五" not in text and "0013" not in text  # the slip prints no recipient phone at all
    assert "人民路100号" in text


def test_an_unmasked_channel_prints_the_recipient_in_full():
    Channel.objects.update_or_create(slug="web", defaults={"name": "Web", "mask_recipient": False})
    parcel = make_parcel(ship_name="王小五", ship_phone="13600136000", address1="人民路100号")
    label = text_of(label_pdf([parcel], tracking_url_for=track_url))
    slip = text_of(packing_slip_pdf(parcel.shipment, tracking_url="https://oms.example.com/t/x/"))
    zpl = label_zpl([parcel], tracking_url_for=track_url)
    for text in (label, zpl):
        assert "王小五" in text and "13600136000" in text and "****" not in text
    assert "王小五" in slip and "王*" not in slip


def test_staff_turn_the_setting_on_in_the_channel_page(client):
    from tests.factories import make_user

    Channel.objects.create(slug="tmall", name="Tmall")
    client.force_login(make_user("boss", "admin"))
    page = client.get("/orders/channels/tmall/")
    assert page.status_code == 200 and 'name="mask_recipient"' in page.content.decode()
    fields = {"name": "Tmall", "kind": "marketplace", "platform": "oms", "stock_policy": "check"}
    fields.update(default_priority="5", active="on", mask_recipient="on")
    done = client.post("/orders/channels/tmall/update/", fields)
    assert done.status_code == 302 and Channel.objects.get(slug="tmall").mask_recipient is True
    fields.pop("mask_recipient")
    client.post("/orders/channels/tmall/update/", fields)
    assert Channel.objects.get(slug="tmall").mask_recipient is False
