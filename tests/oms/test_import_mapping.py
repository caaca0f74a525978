"""The column-mapping step of the import pages (oms/imports/column_mapping.py, issue 13 item 7): a file's
columns are matched to the importer's fields by name and synonyms (English and Chinese), units are
converted exactly, choice synonyms resolved, the person's changes are honoured, a required field
without a column stops before anything is written, and every column not used is reported.
Driven through the real views: upload → columns → preview → confirm → job (eager Celery)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from inventory.models import Product
from oms.imports import column_mapping as cm
from oms.imports import get_importer, mapped_rows
from oms.models import ImportJob, ImportStatus
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(client):
    user = get_user_model().objects.create(username="admin-user")
    user.groups.add(Group.objects.get(name="admin"))
    client.force_login(user)
    return user


def upload(client, text: str, kind="products", name="catalogue.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    response = client.post("/imports/new/", {"kind": kind, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[-1500:]
    return ImportJob.objects.latest("pk")


def proposal(job) -> dict:
    """The mapping form as the page offers it (the proposal, unchanged)."""
    data = {}
    for column in job.options["column_mapping"]["columns"]:
        data[f"field-{column['index']}"] = column["field"]
        data[f"unit-{column['index']}"] = column["unit"]
    return data


def columns_by_header(job) -> dict:
    return {c["header"]: c for c in job.options["column_mapping"]["columns"]}


def post_columns(client, job, data):
    return client.post(f"/imports/{job.pk}/columns/", data)


def run(client, job, capture):
    with capture(execute=True):
        response = client.post(f"/imports/{job.pk}/confirm/")
    assert response.status_code == 302
    job.refresh_from_db()
    return job


# ---- the catalogue from the issue ----------------------------------------------------------------

HANDLING = ["fragile", "perishable", "bulky", "standard", ""]


def catalogue() -> str:
    lines = ["sku,name,handling,weight_kg,length_cm,width_cm,height_cm,supplier"]
    for i in range(25):
        kg = f"{i + 1}.25" if i % 2 else f"0.{i + 1:03d}"
        lines.append(f"CAT-{i:02d},Item {i},{HANDLING[i % 5]},{kg},{i + 10}.5,20,3.25,Acme {i}")
    return "\n".join(lines) + "\n"


def test_the_catalogue_of_the_issue_imports_handling_weights_and_sizes(
    client, admin, django_capture_on_commit_callbacks
):
    job = upload(client, catalogue())
    assert job.status == ImportStatus.UPLOADED  # stops at the columns: synonyms, units, an unused column
    assert not Product.objects.exists()
    page = client.get(f"/imports/{job.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "2. Columns" in html
    cols = columns_by_header(job)
    assert (cols["handling"]["field"], cols["weight_kg"]["field"], cols["weight_kg"]["unit"]) == (
        "handling_class",
        "weight_g",
        "kg",
    )
    assert [(cols[h]["field"], cols[h]["unit"]) for h in ("length_cm", "width_cm", "height_cm")] == [
        ("length_mm", "cm"),
        ("width_mm", "cm"),
        ("height_mm", "cm"),
    ]
    assert cols["supplier"]["field"] == ""
    assert "Not used (1)" in html and "supplier" in html
    assert "1 kg = 1000 g exactly" in html and 'perishable <span class="muted">→ fresh</span>' in html

    response = post_columns(client, job, proposal(job))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.options["column_mapping"]["confirmed"]
    assert (job.preview["good"], job.preview["bad"]) == (25, 0)
    assert not Product.objects.exists()
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Not used (1):</b> supplier" in html and "weight_kg → Weight (kg)" in html

    job = run(client, job, django_capture_on_commit_callbacks)
    assert (job.status, job.created, job.rejected) == ("done", 25, 0)
    products = {p.sku: p for p in Product.objects.all()}
    assert len(products) == 25
    expected_class = {
        "fragile": "fragile",
        "perishable": "fresh",
        "bulky": "bulky",
        "standard": "standard",
        "": "standard",
    }
    for i in range(25):
        p = products[f"CAT-{i:02d}"]
        kg = Decimal(f"{i + 1}.25") if i % 2 else Decimal(f"0.{i + 1:03d}")
        assert p.handling_class == expected_class[HANDLING[i % 5]], p.sku
        assert p.weight_g == int(kg * 1000), p.sku
        assert (p.length_mm, p.width_mm, p.height_mm) == ((i + 10) * 10 + 5, 200, 33), p.sku  # 3.25 cm = 32.5 → 33
    assert products["CAT-01"].weight_g == 2250 and products["CAT-00"].weight_g == 1
    assert sorted({p.handling_class for p in products.values()}) == ["bulky", "fragile", "fresh", "standard"]
    result = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Columns not used (1):</b> supplier" in result


def test_pounds_inches_and_millimetres_are_converted_exactly(client, admin, django_capture_on_commit_callbacks):
    text = (
        "SKU,Title,Weight (lb),Length (in),width_mm,Height (mm),Dimensions (in)\n"
        "LB-1,One pound,1,1,123,7,\n"
        "LB-2,Two and a half,2.5,0.5,0,0,\n"
        "LB-3,Tenth,0.1,12.7,5,5,2x3x4\n"
        "LB-4,Cell unit,500 g,30 cm,1,1,\n"
    )
    job = upload(client, text)
    cols = columns_by_header(job)
    assert (cols["Weight (lb)"]["unit"], cols["Length (in)"]["unit"], cols["Height (mm)"]["unit"]) == ("lb", "in", "mm")
    assert cols["Dimensions (in)"]["field"] == "dimensions" and cols["Dimensions (in)"]["unit"] == "in"
    post_columns(client, job, proposal(job))
    job.refresh_from_db()
    assert job.preview["good"] == 4, job.preview["rows"]
    job = run(client, job, django_capture_on_commit_callbacks)
    got = {p.sku: (p.weight_g, p.length_mm, p.width_mm, p.height_mm) for p in Product.objects.all()}
    # 1 lb = 453.59237 g; 1 in = 25.4 mm; rounded half-up to the whole stored unit
    assert got == {
        "LB-1": (454, 25, 123, 7),  # 453.59237 g, 25.4 mm
        "LB-2": (1134, 13, 0, 0),  # 1133.980925 g, 12.7 mm
        "LB-3": (45, 323, 5, 5),  # 45.359237 g, 322.58 mm; the dimensions only fill what is not given
        "LB-4": (500, 300, 1, 1),  # a unit in the cell wins over the column's
    }


def test_decimal_conversion_has_no_float_drift():
    weight = next(f for f in get_importer("products").fields() if f.name == "weight_g")
    convert = mapped_rows.convert
    assert weight.stored_unit == "g"
    # float: 4.35 * 1000 = 4349.999999999999, 1.005 * 1000 = 1004.9999999999999
    assert convert("4.35", weight, "kg") == ("4350", "")
    assert convert("1.005", weight, "kg") == ("1005", "")
    assert convert("0.0005", weight, "kg") == ("1", "")  # 0.5 g, half-up
    assert convert("0.0004", weight, "kg") == ("0", "")
    assert convert("3", weight, "lb") == ("1361", "")  # 1360.77711
    assert convert("16", weight, "oz") == ("454", "")  # 453.59237
    assert convert("1,5", weight, "kg")[0] == "" and "ambiguous" in convert("1,5", weight, "kg")[1]
    assert convert("abc", weight, "kg") == ("", "'abc' is not a number.")
    assert convert("2 cm", weight, "kg") == ("", "'2 cm': cm is not a weight unit.")
    assert convert("12.5", weight, "g") == ("12.5", "")  # the stored unit: passed on, the importer judges it


def test_a_chinese_header_file(client, admin, django_capture_on_commit_callbacks):
    text = (
        "商品编码,品名,类型,重量(千克),长(厘米),宽（厘米）,高cm,备注\n"
        "ZH-1,冷鲜鸡胸肉,生鲜,1.2,30,20,10,冷藏\n"
        "ZH-2,玻璃杯,易碎,0.35,10,10,12,\n"
        "ZH-3,沙发,大件,45,200,90,80,\n"
        "ZH-4,毛巾,普通,0.2,40,30,2,\n"
    ).encode("gb18030")
    job = upload(client, text)
    cols = columns_by_header(job)
    assert {h: (c["field"], c["unit"]) for h, c in cols.items()} == {
        "商品编码": ("sku", ""),
        "品名": ("name", ""),
        "类型": ("handling_class", ""),
        "重量(千克)": ("weight_g", "kg"),
        "长(厘米)": ("length_mm", "cm"),
        "宽（厘米）": ("width_mm", "cm"),
        "高cm": ("height_mm", "cm"),
        "备注": ("", ""),
    }
    assert "备注" in client.get(f"/imports/{job.pk}/").content.decode()
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.created, job.rejected) == (4, 0)
    got = {
        p.sku: (p.name, p.handling_class, p.weight_g, p.length_mm, p.width_mm, p.height_mm)
        for p in Product.objects.all()
    }
    assert got == {
        "ZH-1": ("冷鲜鸡胸肉", "fresh", 1200, 300, 200, 100),
        "ZH-2": ("玻璃杯", "fragile", 350, 100, 100, 120),
        "ZH-3": ("沙发", "bulky", 45000, 2000, 900, 800),
        "ZH-4": ("毛巾", "standard", 200, 400, 300, 20),
    }


def test_the_persons_changes_to_the_proposal_are_honoured(client, admin, django_capture_on_commit_callbacks):
    text = "Item code,Title,Weight,Type,Description\nOV-1,Mug,0.4,fragile,A mug\nOV-2,Tea,1.5,perishable,Green\n"
    job = upload(client, text)
    cols = columns_by_header(job)
    assert cols["Weight"]["field"] == "weight_g" and cols["Weight"]["unit"] == "g" and cols["Weight"]["unit_assumed"]
    assert cols["Type"]["field"] == "handling_class" and cols["Description"]["field"] == ""
    assert "no unit in the header: g assumed" in client.get(f"/imports/{job.pk}/").content.decode()
    data = proposal(job)
    data["unit-2"] = "kg"  # the weights are kilograms
    data["field-3"] = ""  # the Type column is not the handling class here
    assert post_columns(client, job, data).status_code == 302
    job.refresh_from_db()
    assert [(c["field"], c["unit"]) for c in job.options["column_mapping"]["columns"]] == [
        ("sku", ""),
        ("name", ""),
        ("weight_g", "kg"),
        ("", ""),
        ("", ""),
    ]
    assert job.preview["good"] == 2
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Not used (2):</b> Type, Description" in page
    job = run(client, job, django_capture_on_commit_callbacks)
    assert sorted(Product.objects.values_list("sku", "weight_g", "handling_class")) == [
        ("OV-1", 400, "standard"),
        ("OV-2", 1500, "standard"),
    ]


def test_the_columns_can_be_changed_from_the_preview(client, admin):
    job = upload(client, "sku,name,weight,colour\nCH-1,Cup,250,red\n")
    post_columns(client, job, proposal(job))
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.preview["rows"][0]["values"]["weight_g"] == "250"
    assert client.get(f"/imports/{job.pk}/columns/").status_code == 200
    data = proposal(job) | {"unit-2": "lb"}
    assert post_columns(client, job, data).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.preview["rows"][0]["values"]["weight_g"] == "113398"
    assert not Product.objects.exists()


def test_a_required_field_without_a_column_is_an_error_and_nothing_is_written(client, admin):
    ProductFactory(sku="KEEP", name="Kept", weight_g=5)
    before = list(Product.objects.values_list("sku", "name", "weight_g"))
    job = upload(client, "article,title,weight_kg\nA-1,Cup,0.3\n")
    cols = columns_by_header(job)
    assert cols["article"]["field"] == ""  # not a synonym of SKU: the person must say
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Missing column(s): SKU" in html and "required: choose a column" in html
    response = post_columns(client, job, proposal(job))
    assert response.status_code == 400 and "Missing column(s): SKU" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED and not job.options["column_mapping"]["confirmed"] and not job.preview
    assert client.post(f"/imports/{job.pk}/confirm/").status_code == 302  # not previewed: nothing starts
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED
    assert list(Product.objects.values_list("sku", "name", "weight_g")) == before

    # two columns for one field, and a unit of the wrong kind, are refused the same way
    data = proposal(job) | {"field-0": "name", "unit-2": "cm"}
    html = post_columns(client, job, data).content.decode()
    assert "Name is chosen for two columns" in html and "choose a weight unit" in html
    assert list(Product.objects.values_list("sku", "name", "weight_g")) == before

    # the person names the SKU column: now it goes through
    assert post_columns(client, job, proposal(job) | {"field-0": "sku"}).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.PREVIEWED and job.preview["good"] == 1


def test_the_template_itself_skips_the_columns_step(client, admin):
    job = upload(client, "sku,name,handling_class,weight_g,length_mm\nT-1,Cup,fragile,250,90\n")
    assert job.status == ImportStatus.PREVIEWED and job.options["column_mapping"]["confirmed"]
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "weight_g → Weight (g)" in html and "Change the columns" in html and "Not used" not in html


def test_a_bad_value_is_that_rows_error(client, admin, django_capture_on_commit_callbacks):
    job = upload(client, 'sku,name,weight_kg,handling\nBV-1,Cup,"1,5",fragile\nBV-2,Tea,0.5,radioactive\nBV-3,Pot,2,\n')
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.created, job.rejected) == (1, 2)
    errors = {e["row"]: (e["field"], e["message"]) for e in job.errors}
    assert errors[2][0] == "weight_g" and "ambiguous" in errors[2][1]
    assert errors[3][0] == "handling_class" and "'radioactive' is not one of" in errors[3][1]
    assert list(Product.objects.values_list("sku", "weight_g")) == [("BV-3", 2000)]


def test_perishable_fragile_bulky_flags_give_the_handling_class(client, admin, django_capture_on_commit_callbacks):
    text = "sku,name,perishable,fragile\nF-1,Milk,yes,no\nF-2,Vase,no,yes\nF-3,Box,no,no\nF-4,Odd,yes,yes\n"
    job = upload(client, text)
    assert columns_by_header(job)["perishable"]["field"] == "perishable"
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.created, job.rejected) == (3, 1)
    assert dict(Product.objects.values_list("sku", "handling_class")) == {
        "F-1": "fresh",
        "F-2": "fragile",
        "F-3": "standard",
    }
    assert "a product has one handling class" in job.errors[0]["message"]


def test_stock_files_map_common_synonyms(client, admin, django_capture_on_commit_callbacks):
    from tests.factories import LocationFactory

    LocationFactory(code="sh")
    ProductFactory(sku="S-1")
    job = upload(client, "仓库,商品编码,数量,批次\nsh,S-1,7,B1\n", kind="stock", name="stock.csv")
    assert [(c["header"], c["field"]) for c in job.options["column_mapping"]["columns"]] == [
        ("仓库", "location"),
        ("商品编码", "sku"),
        ("数量", "quantity"),
        ("批次", ""),
    ]
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.created, job.rejected) == (1, 0)
    assert "Columns not used (1):</b> 批次" in client.get(f"/imports/{job.pk}/").content.decode()


# ---- the matching itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("weight_kg", ("weight", "kg")),
        ("Weight (kg)", ("weight", "kg")),
        ("weight [lb]", ("weight", "lb")),
        ("重量(千克)", ("重量", "kg")),
        ("重量（公斤）", ("重量", "kg")),
        ("长cm", ("长", "cm")),
        ("length in", ("length", "in")),
        ("item", ("item", "")),
        ("name", ("name", "")),
        ("kg", ("kg", "")),
    ],
)
def test_units_are_read_from_the_header(header, expected):
    assert cm.split_unit(cm.norm(header)) == expected


def test_an_order_file_with_other_names_maps_to_the_template():
    importer = get_importer("orders-oms-csv")
    header = ["订单号", "商品编码", "数量", "收件人", "手机", "省", "市", "详细地址", "单价", "店铺"]
    mapping = cm.propose(header, importer.fields())
    assert [c["field"] for c in mapping["columns"]] == [
        "external_id",
        "sku",
        "quantity",
        "ship_name",
        "ship_phone",
        "ship_province",
        "ship_city",
        "ship_address1",
        "unit_price",
        "",
    ]
    assert cm.unused(mapping) == ["店铺"]
    assert not cm.check(mapping, importer.fields())
    renamed = list(mapped_rows.renamed_header(iter([(1, header), (2, ["A1"] * 10)]), mapping))
    assert renamed[0][1][:3] == ["external_id", "sku", "quantity"] and renamed[0][1][-1] == ""
    assert renamed[1] == (2, ["A1"] * 10)


# ---- order files: the web page and the command ----------------------------------------------------


@pytest.fixture
def channel():
    from tests.factories import ChannelFactory

    ProductFactory(sku="SKU-A")
    return ChannelFactory(slug="web", name="Web shop")


def test_an_order_file_with_chinese_headers_through_the_page(
    client, admin, channel, django_capture_on_commit_callbacks
):
    from orders.models import Order

    text = (
        "订单号,商品编码,数量,收件人,手机,省,市,详细地址,单价,店铺\n"
        "W1,SKU-A,2,张三,13800138000,上海,上海,世纪大道88号,10.00,旗舰店\n"
        "W2,SKU-A,1,李四,13900139000,上海,上海,南京路1号,10.00,旗舰店\n"
        "W2,SKU-A,0,李四,13900139000,上海,上海,南京路1号,10.00,旗舰店\n"
    )
    response = client.post(
        "/imports/new/",
        {"kind": "orders-oms-csv", "opt-channel": channel.pk, "file": SimpleUploadedFile("o.csv", text.encode())},
    )
    assert response.status_code == 302
    job = ImportJob.objects.latest("pk")
    assert job.status == ImportStatus.UPLOADED and "店铺" in client.get(f"/imports/{job.pk}/").content.decode()
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.status, job.created, job.rejected) == ("done", 1, 1), job.errors
    order = Order.objects.get(external_id="W1")
    assert (order.ship_name, order.ship_city, list(order.lines.values_list("sku", "quantity"))) == (
        "张三",
        "上海",
        [("SKU-A", 2)],
    )
    # the rejected order comes back whole (both of its rows), grouped by the column mapped to external_id
    text = b"".join(client.get(f"/imports/{job.pk}/rejected.csv").streaming_content).decode("utf-8-sig")
    rows = text.strip().splitlines()
    assert rows[0].startswith("订单号,商品编码") and [r.split(",")[0] for r in rows[1:]] == ["W2", "W2"]


def test_an_order_file_without_a_quantity_column_stops_at_the_columns(client, admin, channel):
    from orders.models import InboundMessage, Order

    response = client.post(
        "/imports/new/",
        {"kind": "orders-oms-csv", "opt-channel": channel.pk, "file": SimpleUploadedFile("o.csv", b"order,sku\n1,A\n")},
    )
    job = ImportJob.objects.latest("pk")
    assert response.status_code == 302 and job.status == ImportStatus.UPLOADED
    assert "Missing column(s): quantity" in client.get(f"/imports/{job.pk}/").content.decode()
    assert post_columns(client, job, proposal(job)).status_code == 400
    assert not Order.objects.exists() and not InboundMessage.objects.exists()


def test_the_import_orders_command_reports_the_columns_it_did_not_use(tmp_path, channel):
    import json
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "orders.csv"
    path.write_text("external_id,sku,quantity,gift_wrap,店铺\nC1,SKU-A,1,yes,旗舰店\n", encoding="utf-8")
    out = StringIO()
    call_command("import_orders", str(path), "--format", "oms-csv", "--channel", "web", stdout=out, stderr=StringIO())
    assert f"{path}: 2 column(s) not used: gift_wrap, 店铺" in out.getvalue()
    out = StringIO()
    call_command("import_orders", str(path), "--format", "oms-csv", "--channel", "web", "--json", stdout=out)
    assert json.loads(out.getvalue())["unused_columns"] == {str(path): ["gift_wrap", "店铺"]}


def test_the_inventory_stock_import_page_reports_columns_it_does_not_read(client, admin):
    from tests.factories import LocationFactory

    LocationFactory(code="sh")
    ProductFactory(sku="S-1")
    upload = SimpleUploadedFile("r.csv", b"location,sku,quantity,batch_no\nsh,S-1,3,B7\n", content_type="text/csv")
    body = client.post("/inventory/stock/import/", {"kind": "receipts", "file": upload}).content.decode()
    assert "1 row would be imported" in body and "Columns not used (1):</b> batch_no" in body


def test_an_xlsx_catalogue_with_numbers_stored_as_floats(client, admin, django_capture_on_commit_callbacks):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Item Code", "Product Name", "Handling Class", "Weight (kg)", "Length (mm)", "Size (cm)"])
    sheet.append(["X-1", "Kettle", "Fragile", 4.35, 310, "30 x 20 x 10"])
    sheet.append(["X-2", "Ice cream", "frozen", 1.005, 120.0, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(client, buffer.getvalue(), name="catalogue.xlsx")
    assert [c["field"] for c in job.options["column_mapping"]["columns"]] == [
        "sku",
        "name",
        "handling_class",
        "weight_g",
        "length_mm",
        "dimensions",
    ]
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert (job.created, job.rejected) == (2, 0), job.errors
    got = {p.sku: (p.handling_class, p.weight_g, p.length_mm, p.width_mm, p.height_mm) for p in Product.objects.all()}
    assert got == {"X-1": ("fragile", 4350, 310, 200, 100), "X-2": ("fresh", 1005, 120, 0, 0)}


def test_the_columns_page_checks_permission_and_state(client, admin, django_capture_on_commit_callbacks):
    job = upload(client, "sku,title,weight_kg\nP-1,Cup,0.3\n")
    before = job.options["column_mapping"]
    other = get_user_model().objects.create(username="cs-user")
    other.groups.add(Group.objects.get(name="customer_service"))
    client.force_login(other)
    assert client.get(f"/imports/{job.pk}/columns/").status_code == 403
    assert post_columns(client, job, proposal(job) | {"field-1": ""}).status_code == 403
    job.refresh_from_db()
    assert job.options["column_mapping"] == before and job.status == ImportStatus.UPLOADED

    client.force_login(admin)
    post_columns(client, job, proposal(job))
    job = run(client, ImportJob.objects.get(pk=job.pk), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE
    done = job.options["column_mapping"]
    response = post_columns(client, job, proposal(job) | {"field-1": ""})
    assert response.status_code == 302  # a finished job keeps its columns
    job.refresh_from_db()
    assert job.options["column_mapping"] == done and Product.objects.get().name == "Cup"
