"""Pick lists and packing slips read back out of the PDF."""

import io
import itertools
import os
import re

import pytest
from pypdf import PdfReader

from fulfillment.documents import (
    bin_sort_key,
    packing_slip_pdf,
    picklist_context,
    picklist_pdf,
    shipment_contents,
)
from fulfillment.models import PickList, Shipment, ShipmentLine
from fulfillment.status import ShipmentStatus
from inventory.models import Location, Product, Stock
from orders.models import Channel, Order, OrderLine

A4 = (595.28, 841.89)
A5 = (419.53, 595.28)
_seq = itertools.count(1)


def make_location(code="sz-wh"):
    location, _ = Location.objects.get_or_create(
        code=code,
        defaults={
            "name": "深圳南山仓 Shenzhen DC",
            "province": "广东省",
            "city": "深圳市",
            "address": "南山区西丽街道留仙大道3370号",
            "phone": "0755-86001234",
        },
    )
    return location


def make_product(sku, *, name=None, location=None, bin=""):
    product = Product.objects.create(sku=sku, name=name or f"Product {sku} 商品", weight_g=300)
    if location is not None:
        Stock.objects.create(location=location, product=product, bin=bin, on_hand=100)
    return product


def make_shipment(location, items, *, picklist=None, ship_name="张伟", status=ShipmentStatus.PICKING, **order_fields):
    """An order with one line per (product, qty) in `items` and its shipment from `location`."""
    n = next(_seq)
    channel, _ = Channel.objects.get_or_create(slug="web", defaults={"name": "Web"})
    order = Order.objects.create(
        number=f"SO-{n:06d}",
        channel=channel,
        external_id=f"ext-{n}",
        ship_name=ship_name,
        ship_phone="13800138000",
        ship_country="CN",
        ship_province="广东省",
        ship_city="深圳市",
        ship_district="南山区",
        ship_address1="粤海街道科技园南区深南大道10000号",
        **order_fields,
    )
    shipment = Shipment.objects.create(
        number=f"SH-{n:06d}", order=order, location=location, picklist=picklist, status=status
    )
    for line_no, (product, qty) in enumerate(items, start=1):
        order_line = OrderLine.objects.create(
            order=order, line_no=line_no, product=product, sku=product.sku, quantity=qty, name=product.name
        )
        ShipmentLine.objects.create(shipment=shipment, order_line=order_line, product=product, quantity=qty)
    return shipment


def make_picklist(location):
    picklist = PickList.objects.create(location=location)
    picklist.number = f"PL{100000 + picklist.pk}"
    picklist.save(update_fields=["number"])
    return picklist


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(round(float(p.mediabox.width), 2), round(float(p.mediabox.height), 2)) for p in reader.pages]


def four_sku_picklist():
    """3 orders over 4 SKUs; SKU order and bin order disagree, one SKU has no bin."""
    location = make_location()
    a = make_product("SKU-A", location=location, bin="C-01-01")
    b = make_product("SKU-B", location=location, bin="A-02-10")
    c = make_product("SKU-C", location=location, bin="A-02-9")
    d = make_product("SKU-D", location=location, bin="")
    picklist = make_picklist(location)
    s1 = make_shipment(location, [(a, 1), (d, 2)], picklist=picklist, ship_name="张伟")
    s2 = make_shipment(location, [(b, 3), (a, 2)], picklist=picklist, ship_name="李娜")
    s3 = make_shipment(location, [(c, 1), (b, 1), (d, 1)], picklist=picklist, ship_name="王芳")
    return picklist, [s1, s2, s3]


def test_bin_sort_key_is_natural_and_puts_no_bin_last():
    bins = ["B-1-1", "", "A-2-10", "A-2-9", "a-10-1", "A-3-1"]
    assert sorted(bins, key=bin_sort_key) == ["A-2-9", "A-2-10", "A-3-1", "a-10-1", "B-1-1", ""]


def test_picklist_context_consolidates_by_sku_in_bin_order(db):
    picklist, (s1, s2, s3) = four_sku_picklist()

    context = picklist_context(picklist)

    assert [(i["bin"], i["sku"], i["quantity"], i["shipments"]) for i in context["items"]] == [
        ("A-02-9", "SKU-C", 1, 1),
        ("A-02-10", "SKU-B", 4, 2),
        ("C-01-01", "SKU-A", 3, 2),
        ("", "SKU-D", 3, 2),
    ]
    assert context["counts"] == {"shipments": 3, "orders": 3, "skus": 4, "units": 11}
    assert [(g["shipment_number"], g["order_number"], g["recipient"]) for g in context["breakdown"]] == [
        (s1.number, s1.order.number, "张伟"),
        (s2.number, s2.order.number, "李娜"),
        (s3.number, s3.order.number, "王芳"),
    ]
    # Within a shipment the lines follow the walk too.
    assert [(line["sku"], line["quantity"]) for line in context["breakdown"][2]["lines"]] == [
        ("SKU-C", 1),
        ("SKU-B", 1),
        ("SKU-D", 1),
    ]


def test_picklist_pdf_lists_skus_in_bin_order(db):
    picklist, shipments = four_sku_picklist()

    pdf = picklist_pdf(picklist)

    assert page_sizes(pdf) == [A4]
    text = pages_text(pdf)[0]
    assert picklist.number in text
    assert "Page 1 of 1" in text
    pick_section = text.split("Sort 分拣")[0]
    positions = [pick_section.index(sku) for sku in ["SKU-C", "SKU-B", "SKU-A", "SKU-D"]]
    assert positions == sorted(positions)
    assert pick_section.index("A-02-9") < pick_section.index("A-02-10") < pick_section.index("C-01-01")
    sort_section = text.split("Sort 分拣")[1]
    for shipment in shipments:
        assert shipment.number in sort_section
        assert shipment.order.number in sort_section
        assert shipment.order.ship_name in sort_section


def test_picklist_queries_do_not_grow_with_lines(db, django_assert_max_num_queries):
    picklist, _ = four_sku_picklist()
    picklist = PickList.objects.get(pk=picklist.pk)

    with django_assert_max_num_queries(7):
        picklist_pdf(picklist)


def test_picklist_leaves_out_cancelled_shipments(db):
    picklist, (s1, s2, s3) = four_sku_picklist()
    Shipment.objects.filter(pk=s3.pk).update(status=ShipmentStatus.CANCELLED)

    context = picklist_context(picklist)

    assert [i["sku"] for i in context["items"]] == ["SKU-B", "SKU-A", "SKU-D"]
    assert context["counts"] == {"shipments": 2, "orders": 2, "skus": 3, "units": 8}


def test_long_picklist_spans_pages_with_page_x_of_y_and_repeated_header(db):
    location = make_location()
    picklist = make_picklist(location)
    long_name = "超长商品名称 Extra long product name that has to wrap inside its column " * 2
    products = [
        make_product(f"SKU-{i:03d}", name=f"{long_name}{i}", location=location, bin=f"A-{i // 10:02d}-{i % 10:02d}")
        for i in range(150)
    ]
    for start in range(0, 150, 5):
        make_shipment(location, [(p, 1) for p in products[start : start + 5]], picklist=picklist)

    pdf = picklist_pdf(picklist)

    texts = pages_text(pdf)
    n = len(texts)
    assert n >= 3
    assert set(page_sizes(pdf)) == {A4}
    assert f"Page 1 of {n}" in texts[0]
    assert f"Page {n} of {n}" in texts[-1]
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text
    # The table header repeats on the continuation pages.
    assert "Bin 库位" in texts[1]
    all_text = "\n".join(texts)
    skus = re.findall(r"SKU-\d{3}", all_text.split("Sort 分拣")[0])
    assert skus == [f"SKU-{i:03d}" for i in range(150)]


def _bulk_picklist(location, *, shipments: int, lines_each: int, skus: int) -> PickList:
    """A pick list of shipments x lines_each lines over `skus` products, written in bulk."""
    picklist = make_picklist(location)
    channel, _ = Channel.objects.get_or_create(slug="web", defaults={"name": "Web"})
    products = Product.objects.bulk_create(
        Product(sku=f"BULK-{i:04d}", name=f"云南咖啡豆 {i} 号 Coffee", weight_g=500) for i in range(skus)
    )
    Stock.objects.bulk_create(
        Stock(location=location, product=p, bin=f"{'ABCD'[i % 4]}-{i // 40:02d}-{i % 40:02d}", on_hand=100)
        for i, p in enumerate(products)
    )
    orders = Order.objects.bulk_create(
        Order(
            number=f"SO-B{i:05d}", channel=channel, external_id=f"bulk-{i}", ship_name=f"收件人{i}", ship_country="CN"
        )
        for i in range(shipments)
    )
    rows = Shipment.objects.bulk_create(
        Shipment(number=f"SH-B{i:05d}", order=o, location=location, picklist=picklist, status=ShipmentStatus.PICKING)
        for i, o in enumerate(orders)
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(order=o, line_no=j + 1, product=products[(i * lines_each + j) % skus], sku="", quantity=1)
        for i, o in enumerate(orders)
        for j in range(lines_each)
    )
    by_order = {s.order_id: s for s in rows}
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=by_order[ol.order_id], order_line=ol, product_id=ol.product_id, quantity=1)
        for ol in order_lines
    )
    return picklist


def test_picklist_of_1000_lines_renders(db):
    """A 1,050-line pick list (210 shipments x 5 lines over 350 SKUs): the queries stay valid on SQLite
    (no expression too large) and the PDF reads back with every SKU once in the pick section and every
    shipment in the sort section, on A4 pages numbered x of y."""
    location = make_location()
    picklist = _bulk_picklist(location, shipments=210, lines_each=5, skus=350)

    context = picklist_context(picklist)
    assert context["counts"] == {"shipments": 210, "orders": 210, "skus": 350, "units": 1050}
    assert sum(len(group["lines"]) for group in context["breakdown"]) == 1050

    pdf = picklist_pdf(picklist)

    texts = pages_text(pdf)
    n = len(texts)
    assert n >= 20
    assert set(page_sizes(pdf)) == {A4}
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text
    all_text = "\n".join(texts)
    pick, sort = all_text.split("Sort 分拣", 1)
    assert sorted(set(re.findall(r"BULK-\d{4}", pick))) == [f"BULK-{i:04d}" for i in range(350)]
    assert set(re.findall(r"SH-B\d{5}", sort)) == {f"SH-B{i:05d}" for i in range(210)}


def test_packing_slip_a5(db):
    location = make_location()
    p1 = make_product("SKU-TEA", name="西湖龙井 West Lake Longjing tea 250 g", location=location)
    p2 = make_product("SKU-CUP", name="Celadon cup 青瓷杯", location=location)
    shipment = make_shipment(location, [(p1, 2), (p2, 1)], ship_name="李娜")
    url = "https://oms.example.com/track/abc123/"

    pdf = packing_slip_pdf(shipment, tracking_url=url)

    assert page_sizes(pdf) == [A5]
    text = "".join(pages_text(pdf)[0].split())
    assert shipment.order.number in text
    assert shipment.number in text
    assert "李娜" in text
    assert "粤海街道科技园南区深南大道10000号" in text
    assert "SKU-TEA" in text and "SKU-CUP" in text
    assert "西湖龙井WestLakeLongjingtea250g" in text
    assert "Toreturnanitem,visit" in text
    assert url in text


def test_packing_slip_a4_and_split_note(db):
    location = make_location()
    product = make_product("SKU-X", location=location)
    shipment = make_shipment(location, [(product, 1)])
    Shipment.objects.create(number="SH-OTHER", order=shipment.order, location=location)

    pdf = packing_slip_pdf(shipment, tracking_url="https://oms.example.com/track/t/", size="A4")

    assert page_sizes(pdf) == [A4]
    assert "ships in 2 parcels" in pages_text(pdf)[0]


def test_packing_slip_of_a_merge_lead_lists_the_members_lines(db):
    location = make_location()
    tea = make_product("SKU-TEA", name="西湖龙井 250 g", location=location)
    cup = make_product("SKU-CUP", name="Celadon cup 青瓷杯", location=location)
    pot = make_product("SKU-POT", name="Teapot 茶壶", location=location)
    lead = make_shipment(location, [(tea, 2)], ship_name="李娜")
    member = make_shipment(location, [(cup, 1), (pot, 3)], ship_name="李娜")
    gone = make_shipment(location, [(pot, 9)], ship_name="李娜", status=ShipmentStatus.CANCELLED)
    Shipment.objects.filter(pk__in=[member.pk, gone.pk]).update(merged_into=lead)

    contents = shipment_contents(lead)

    assert [(c["order_number"], c["sku"], c["quantity"]) for c in contents] == [
        (lead.order.number, "SKU-TEA", 2),
        (member.order.number, "SKU-CUP", 1),
        (member.order.number, "SKU-POT", 3),
    ]
    assert [(c["sku"], c["quantity"]) for c in shipment_contents(member)] == [("SKU-CUP", 1), ("SKU-POT", 3)]

    pdf = packing_slip_pdf(lead, tracking_url="https://oms.example.com/track/m/")

    text = pages_text(pdf)[0]
    assert "SKU-TEA" in text and "SKU-CUP" in text and "SKU-POT" in text
    assert gone.order.number not in text
    assert f"Also in this parcel 同箱订单 {member.order.number}" in text
    assert member.number in text
    assert re.search(r"本箱件数\s*6", text)


def test_packing_slip_prints_the_packing_notes_of_every_order_in_the_box_once(db):
    from orders.models import Order

    location = make_location()
    glass = make_product("SKU-GLASS", location=location)
    lead = make_shipment(location, [(glass, 1)])
    member = make_shipment(location, [(glass, 2)])
    Order.objects.filter(pk=lead.order_id).update(packing_notes="Fragile packing: wrap each item.")
    Order.objects.filter(pk=member.order_id).update(packing_notes="Fragile packing: wrap each item.\nGift wrap.")
    Shipment.objects.filter(pk=member.pk).update(merged_into=lead)
    lead.order.refresh_from_db()

    text = pages_text(packing_slip_pdf(lead, tracking_url=""))[0]

    assert "包装要求" in text
    assert text.count("Fragile packing: wrap each item.") == 1 and "Gift wrap." in text
    plain = make_shipment(location, [(glass, 1)])
    assert "包装要求" not in pages_text(packing_slip_pdf(plain, tracking_url=""))[0]


def test_packing_slip_without_members_has_no_merge_note(db):
    location = make_location()
    shipment = make_shipment(location, [(make_product("SKU-ONE", location=location), 1)])

    text = pages_text(packing_slip_pdf(shipment, tracking_url=""))[0]

    assert "Also in this parcel" not in text
    assert re.search(r"本箱件数\s*1", text)


@pytest.mark.skipif(not os.environ.get("OMS_DOCS_OUT"), reason="set OMS_DOCS_OUT=/tmp/docs to write sample PDFs")
def test_write_sample_documents(db):
    out = os.environ["OMS_DOCS_OUT"]
    os.makedirs(out, exist_ok=True)
    picklist, shipments = four_sku_picklist()
    with open(os.path.join(out, "picklist-small.pdf"), "wb") as fh:
        fh.write(picklist_pdf(picklist))
    location = make_location()
    big = make_picklist(location)
    products = [
        make_product(
            f"LONG-{i:03d}",
            name=("超长商品名称 Extra long product name that wraps " * (1 + i % 3)) + str(i),
            location=location,
            bin=f"B-{i // 10:02d}-{i % 10:02d}" if i % 17 else "",
        )
        for i in range(150)
    ]
    for start in range(0, 150, 5):
        make_shipment(location, [(p, 1 + start % 3) for p in products[start : start + 5]], picklist=big)
    with open(os.path.join(out, "picklist-150.pdf"), "wb") as fh:
        fh.write(picklist_pdf(big))
    with open(os.path.join(out, "packing-slip-a5.pdf"), "wb") as fh:
        fh.write(
            packing_slip_pdf(shipments[2], tracking_url="https://oms.example.com/track/eyJvIjoiU08tMDAwMDAzIn0:1vK/")
        )
