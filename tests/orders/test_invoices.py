"""发票: invoice requests from the channel (oms_json), the order page and the API; issued, rejected or cancelled
with the order; the finance queue with filters, bulk issue and export."""

import json
from decimal import Decimal

import pytest
from django.utils.timezone import localtime

from oms.errors import DomainError, TransitionNotAllowed
from orders import services
from orders.intake import oms_json
from orders.intake.bulk import create_batch
from orders.intake.canonical import OrderRejected
from orders.intake.invoice import parse_invoice, tax_id_problem
from orders.models import InvoiceRequest, Order
from orders.status import EventKind, InvoiceState, OrderStatus
from tests.factories import ChannelFactory, ProductFactory, make_user

pytestmark = pytest.mark.django_db

USCC = "91350100M000100Y43"  # a unified social credit code with a right check character
COMPANY = {
    "kind": "专票",
    "title": "福州某某科技有限公司",
    "tax_id": USCC,
    "bank_name": "中国银行福州分行",
    "bank_account": "4068 0000 1234",
    "buyer_address": "福州市鼓楼区五四路1号",
    "buyer_phone": "0591-88888888",
}


@pytest.fixture
def channel():
    ProductFactory(sku="SKU-A", price=Decimal("100.00"))
    return ChannelFactory(slug="web", name="Web shop")


def body(external_id="J1", invoice=None, **overrides):
    data = {
        "channel": "web",
        "external_id": external_id,
        "ship_to": {
            "name": "王五",
            "phone": "13600136000",
            "country": "CN",
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "address1": "人民路100号",
        },
        "lines": [{"sku": "SKU-A", "quantity": 2, "unit_price": "100.00"}],
    }
    if invoice is not None:
        data["invoice"] = invoice
    data.update(overrides)
    return data


def from_json(channel, data):
    _slug, order = oms_json.parse(data)
    return services.order_create(channel=channel, data=order, source="api").order


# ---- the tax id -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tax_id", "problem"),
    [
        (USCC, ""),
        ("91110108551385082Q", ""),
        ("110108551385082", ""),  # 15 characters: an old tax registration number
        ("11010855138508212345", ""),  # 20 characters
        (
            "91350100M000100Y44",
            "'91350100M000100Y44' has a wrong check character: the last character should be 3. Check for a typo.",
        ),
        (
            "91350100M000100YI3",
            "'91350100M000100YI3' is not a unified social credit code: it uses letters a code "
            "never has (I, O, Z, S, V) or other characters.",
        ),
        (
            "1234",
            "'1234' is not a tax id: give the 18-character unified social credit code (or a 15- or "
            "20-character old tax registration number); it has 4 characters.",
        ),
    ],
)
def test_tax_id_format_and_check_character(tax_id, problem):
    assert tax_id_problem(tax_id) == problem


def test_parse_accepts_chinese_kind_names_and_fills_the_title_type():
    parsed = parse_invoice({"kind": "电子发票", "title": "张三", "email": "zs@example.com"})
    assert (parsed.kind, parsed.title_type, parsed.amount) == ("electronic", "personal", None)
    special = parse_invoice({**COMPANY, "tax_id": "9135 0100 M000 100Y43"})
    assert (special.kind, special.title_type, special.tax_id) == ("special", "company", USCC)


@pytest.mark.parametrize(
    ("invoice", "errors"),
    [
        (
            {"kind": "plain", "title_type": "company", "title": "某公司"},
            [("invoice.tax_id", "is required for a company title and a special VAT invoice (税号).")],
        ),
        (
            {"kind": "electronic", "title": "张三"},
            [("invoice.email", "is required for an e-invoice (it is sent there).")],
        ),
        (
            {"kind": "special", "title": "某公司", "tax_id": USCC},
            [
                (f"invoice.{name}", "is required for a special VAT invoice (专票).")
                for name in ("bank_name", "bank_account", "buyer_address", "buyer_phone")
            ],
        ),
        (
            {**COMPANY, "title_type": "personal"},
            [("invoice.title_type", "a special VAT invoice (专票) is issued to companies only.")],
        ),
        ({"kind": "receipt", "title": "x"}, [("invoice.kind", "'receipt' is not plain, special or electronic.")]),
        ({"title": ""}, [("invoice.title", "is required (the buyer's name or company name, 抬头).")]),
        ("yes", [("invoice", "must be an object.")]),
        (
            {"title": "x", "amount": "1,5"},
            [
                (
                    "invoice.amount",
                    "invalid amount: '1,5' is not an amount (write amounts like 1234.56: digits, "
                    "a point before the cents, no thousands separators).",
                )
            ],
        ),
    ],
)
def test_bad_invoice_requests_are_rejected_with_clear_errors(channel, invoice, errors):
    with pytest.raises(OrderRejected) as caught:
        from_json(channel, body(invoice=invoice))
    assert [(e.field, e.message) for e in caught.value.errors][: len(errors)] == errors
    assert (Order.objects.count(), InvoiceRequest.objects.count()) == (0, 0)


def test_an_amount_above_the_order_total_is_rejected_and_nothing_is_written(channel):
    with pytest.raises(OrderRejected) as caught:
        from_json(channel, body(invoice={"title": "张三", "amount": "200.01"}))
    assert [(e.field, e.message) for e in caught.value.errors] == [
        ("invoice.amount", "200.01 is more than the order's total 200.00.")
    ]
    assert (Order.objects.count(), InvoiceRequest.objects.count()) == (0, 0)


# ---- intake -----------------------------------------------------------------------------------------------


def test_oms_json_invoice_is_requested_with_the_order_total_and_an_event(channel):
    order = from_json(channel, body(invoice=COMPANY))

    request = order.invoice_requests.get()
    assert (request.kind, request.title_type, request.title, request.tax_id, request.amount, request.state) == (
        "special",
        "company",
        "福州某某科技有限公司",
        USCC,
        Decimal("200.00"),
        InvoiceState.REQUESTED,
    )
    assert (request.bank_account, request.buyer_phone, request.source) == ("4068 0000 1234", "0591-88888888", "api")
    event = order.events.get(kind=EventKind.INVOICE)
    assert event.message == f"Invoice requested: Special VAT invoice, 福州某某科技有限公司, tax id {USCC}, 200.00."


def test_the_batch_path_writes_the_same_requests(channel, django_assert_max_num_queries):
    items = []
    for i in range(1, 11):
        invoice = {"kind": "电子发票", "title": f"买家{i}", "email": f"b{i}@example.com", "amount": "150.00"}
        items.append((i, oms_json.parse(body(f"B{i}", invoice=invoice))[1]))
    items.append((11, oms_json.parse(body("B11"))[1]))

    with django_assert_max_num_queries(30):
        outcomes = create_batch(channel=channel, items=items, source="file:test")

    assert [o.status for o in outcomes] == ["created"] * 11
    rows = list(
        InvoiceRequest.objects.order_by("order__external_id").values_list(
            "order__external_id", "kind", "title", "email", "amount", "state", "source"
        )
    )
    assert len(rows) == 10
    assert rows[0] == ("B1", "electronic", "买家1", "b1@example.com", Decimal("150.00"), "requested", "file:test")
    events = Order.objects.get(external_id="B1").events.filter(kind=EventKind.INVOICE)
    assert [e.message for e in events] == ["Invoice requested: E-invoice, 买家1, 150.00."]
    assert not Order.objects.get(external_id="B11").invoice_requests.exists()


def import_csv(tmp_path, text: str) -> dict:
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    try:
        call_command("import_orders", str(path), "--format", "oms-csv", "--channel", "web", "--json", stdout=out)
    except SystemExit:
        pass
    return json.loads(out.getvalue())


CSV_HEAD = (
    "external_id,ship_name,ship_phone,ship_country,ship_province,ship_city,ship_address1,sku,quantity,unit_price,"
    "invoice_kind,invoice_title,invoice_tax_id,invoice_email\n"
)


def test_the_oms_csv_template_carries_an_invoice_and_a_bad_one_rejects_the_order(channel, tmp_path):
    text = CSV_HEAD + (
        "C1,王五,13600136000,CN,江苏省,苏州市,人民路100号,SKU-A,1,100.00,电子发票,王五,,w5@example.com\n"
        f"C2,王五,13600136000,CN,江苏省,苏州市,人民路100号,SKU-A,1,100.00,普票,某公司,{USCC[:-1]}X,\n"
        "C3,王五,13600136000,CN,江苏省,苏州市,人民路100号,SKU-A,1,100.00,,,,\n"
    )
    summary = import_csv(tmp_path, text)

    assert (summary["created"], summary["rejected"]) == (2, 1)
    assert [{k: e[k] for k in ("row", "field", "message")} for e in summary["errors"]] == [
        {
            "row": 3,
            "field": "invoice.tax_id",
            "message": f"'{USCC[:-1]}X' has a wrong check character: the last character should be 3. Check for a typo.",
        }
    ]
    assert list(InvoiceRequest.objects.values_list("order__external_id", "kind", "title", "email", "amount")) == [
        ("C1", "electronic", "王五", "w5@example.com", Decimal("100.00"))
    ]
    assert not Order.objects.filter(external_id="C2").exists()


# ---- the states -------------------------------------------------------------------------------------------


def test_issue_then_no_second_issue_and_reject_needs_a_reason(channel):
    order = from_json(channel, body(invoice={"title": "张三"}))
    finance = make_user("fin", "manager")
    request = order.invoice_requests.get()

    with pytest.raises(DomainError, match="needs its invoice number"):
        services.invoice_issue(request=request, number=" ", user=finance)
    services.invoice_issue(request=request, number="04400000123", user=finance)
    request.refresh_from_db()
    assert (request.state, request.invoice_number, request.issued_by) == ("issued", "04400000123", finance)
    with pytest.raises(TransitionNotAllowed):
        services.invoice_reject(request=request, reason="wrong", user=finance)
    request.refresh_from_db()
    assert request.state == "issued"
    assert [e.message.split(":")[0] for e in order.events.filter(kind=EventKind.INVOICE)] == [
        "Invoice requested",
        "Invoice Requested → Issued",
    ]


def test_a_new_request_while_one_is_open_is_refused(channel):
    order = from_json(channel, body(invoice={"title": "张三"}))
    with pytest.raises(DomainError, match="already has an invoice requested or issued"):
        services.invoice_request(order=order, invoice=parse_invoice({"title": "李四"}), source="form")
    assert order.invoice_requests.count() == 1


def test_cancelling_the_order_cancels_its_requested_invoice(channel):
    from workflows.cancel import order_cancel

    order = from_json(channel, body(invoice={"title": "张三"}))
    order_cancel(order=order, reason="customer changed mind")

    request = order.invoice_requests.get()
    assert (request.state, request.reject_reason) == ("cancelled", "customer changed mind")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.events.filter(kind=EventKind.INVOICE).last().message == (
        "Invoice Requested → Cancelled: order cancelled (customer changed mind)"
    )


def test_reject_records_the_reason(channel):
    order = from_json(channel, body(invoice={"title": "张三"}))
    request = services.invoice_reject(request=order.invoice_requests.get(), reason="抬头与付款人不符")
    assert (request.state, request.reject_reason) == ("rejected", "抬头与付款人不符")
    again = services.invoice_request(order=order, invoice=parse_invoice({"title": "张三丰"}), source="form")
    assert again.state == "requested"


# ---- the pages --------------------------------------------------------------------------------------------


def test_order_page_shows_the_invoice_and_the_form_requests_one(client, channel):
    order = from_json(channel, body())
    client.force_login(make_user("cs", "customer_service"))

    page = client.get(f"/orders/{order.number}/")
    assert page.status_code == 200 and "No invoice requested." in page.content.decode()

    form = {"kind": "plain", "title_type": "company", "title": "某某公司", "tax_id": "91350100M000100Y44"}
    answer = client.post(f"/orders/{order.number}/invoice/", form, follow=True)
    assert "tax id: &#x27;91350100M000100Y44&#x27; has a wrong check character" in answer.content.decode()
    assert not order.invoice_requests.exists()

    client.post(f"/orders/{order.number}/invoice/", {**form, "tax_id": USCC, "amount": ""})
    request = order.invoice_requests.get()
    assert (request.title, request.tax_id, request.amount, request.source) == (
        "某某公司",
        USCC,
        Decimal("200.00"),
        "form",
    )
    html = client.get(f"/orders/{order.number}/").content.decode()
    assert "某某公司" in html and USCC in html and "Requested" in html


def test_finance_issues_and_rejects_from_the_order_page(client, channel):
    order = from_json(channel, body(invoice={"title": "张三"}))
    request = order.invoice_requests.get()
    client.force_login(make_user("cs", "customer_service"))
    assert client.post(f"/orders/invoices/{request.pk}/issue/", {"number": "1"}).status_code == 403
    client.force_login(make_user("fin", "manager"))

    client.post(f"/orders/invoices/{request.pk}/issue/", {"number": "04400000999", "issued_on": "2026-12-01"})

    request.refresh_from_db()
    assert (request.state, request.invoice_number, str(request.issued_on)) == ("issued", "04400000999", "2026-12-01")
    assert "04400000999" in client.get(f"/orders/{order.number}/").content.decode()


def test_the_finance_queue_filters_issues_in_bulk_and_exports(client, channel):
    a = from_json(channel, body("A", invoice={"kind": "电子发票", "title": "买家甲", "email": "a@example.com"}))
    b = from_json(channel, body("B", invoice=COMPANY))
    c = from_json(channel, body("C", invoice={"title": "买家丙"}))
    services.invoice_reject(request=c.invoice_requests.get(), reason="重复")
    client.force_login(make_user("fin", "manager"))

    page = client.get("/orders/invoices/?state=requested&kind=special").content.decode()
    assert b.number in page and a.number not in page and c.number not in page

    ra, rb = a.invoice_requests.get(), b.invoice_requests.get()
    answer = client.post(
        "/orders/invoices/issue/",
        {"requests": [ra.pk, rb.pk], f"number_{ra.pk}": "E-001", f"number_{rb.pk}": "", "issued_on": ""},
        follow=True,
    )
    html = answer.content.decode()
    assert f"Issued 1 invoice(s): {a.number}." in html and "needs its invoice number" in html
    ra.refresh_from_db(), rb.refresh_from_db()
    assert (ra.state, ra.invoice_number, rb.state) == ("issued", "E-001", "requested")

    csv = client.get("/orders/invoices/?state=requested&_export=csv")
    assert csv.status_code == 200
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0].split(",")[:8] == ["Order", "State", "Kind", "Title type", "Title", "Tax id", "Amount", "Currency"]
    assert len(rows) == 2
    assert rows[1].startswith(
        f"{b.number},Requested,Special VAT invoice,Company,福州某某科技有限公司,{USCC},200.00,CNY,"
    )
    assert rows[1].endswith(
        ",4068 0000 1234,,,Web shop," + localtime(b.invoice_requests.get().created_at).strftime("%Y-%m-%d %H:%M")
    )
    xlsx = client.get("/orders/invoices/?_export=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


# ---- the API ----------------------------------------------------------------------------------------------


@pytest.fixture
def api(client, channel, django_capture_on_commit_callbacks):
    from oms.models import ApiToken

    _, key = ApiToken.issue(make_user("apiboss", "manager"))
    _, cs_key = ApiToken.issue(make_user("apics", "warehouse"))

    def call(method, url, data=None, token=key):
        kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
        if data is not None:
            kwargs.update(data=json.dumps(data), content_type="application/json")
        with django_capture_on_commit_callbacks(execute=True):  # the inbox applies API orders after commit
            return getattr(client, method)(url, **kwargs)

    call.other_key = cs_key
    return call


def test_api_posts_an_invoice_request_shows_it_in_the_order_and_lists_it(api, channel):
    order = from_json(channel, body())

    bad = api("post", f"/api/v1/orders/{order.number}/invoice/", {"kind": "electronic", "title": "张三"})
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"row": None, "field": "invoice.email", "message": "is required for an e-invoice (it is sent there)."}
    ]
    assert not order.invoice_requests.exists()

    made = api(
        "post",
        f"/api/v1/orders/{order.number}/invoice/",
        {"kind": "electronic", "title": "张三", "email": "zs@example.com", "amount": "99.00"},
    )
    assert made.status_code == 201
    assert {k: made.json()[k] for k in ("order", "state", "kind", "amount", "source")} == {
        "order": order.number,
        "state": "requested",
        "kind": "electronic",
        "amount": "99.00",
        "source": "api",
    }
    again = api("post", f"/api/v1/orders/{order.number}/invoice/", {"title": "李四"})
    assert again.status_code == 409

    detail = api("get", f"/api/v1/orders/{order.number}/").json()
    assert (detail["invoice"]["title"], detail["invoice"]["state"]) == ("张三", "requested")
    listed = api("get", "/api/v1/invoices/?state=requested").json()
    assert [r["order"] for r in listed["results"]] == [order.number]
    assert api("get", "/api/v1/invoices/?state=nope").status_code == 400
    assert api("get", "/api/v1/invoices/", token=api.other_key).status_code == 403
    assert api("post", "/api/v1/orders/NOPE/invoice/", {"title": "x"}).status_code == 404


def test_api_order_post_carries_the_invoice(api, channel):
    answer = api("post", "/api/v1/orders/", body("API-9", invoice={"kind": "普票", "title": "王五"}))
    assert answer.status_code in (201, 202)
    order = Order.objects.get(external_id="API-9")
    assert list(order.invoice_requests.values_list("kind", "title", "amount")) == [("plain", "王五", Decimal("200.00"))]
    rejected = api("post", "/api/v1/orders/", body("API-10", invoice={"kind": "专票", "title": "某公司"}))
    assert rejected.status_code == 400
    assert not Order.objects.filter(external_id="API-10").exists()
