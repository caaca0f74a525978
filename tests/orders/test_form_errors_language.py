"""The staff new-order form speaks the reader's language about what is wrong (issue 17): the intake
checks' FieldErrors, the address parser's problems (paste panel and the hold the form reports), an
unknown SKU; the JSON API answers the same input in English, and the stored records stay English."""

import pytest
from django.utils import translation

from oms.models import ApiToken
from oms.roles import MANAGER
from orders.intake import address_cn
from orders.intake.canonical import FieldError, OrderRejected, check
from orders.models import InboundMessage, Order
from tests.factories import make_user
from tests.orders.branch_catalogue import branch_chinese
from tests.orders.test_address_paste_form import form_post, manager  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
GOOD_ADDRESS = {
    "ship_name": "王五",
    "ship_phone": "13600136000",
    "ship_country": "CN",
    "ship_province": "江苏省",
    "ship_city": "苏州市",
    "ship_district": "姑苏区",
    "ship_address1": "人民路100号",
}


@pytest.fixture
def chinese(tmp_path):
    address_cn.cache_clear()
    with branch_chinese(tmp_path):
        yield
    address_cn.cache_clear()


@pytest.fixture
def api_key(manager):  # noqa: F811
    _, key = ApiToken.issue(make_user("robot", MANAGER))
    return key


def api_post(client, key, body):
    return client.post(
        "/api/v1/orders/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}", **ZH
    )


def api_body(external_id, **changes):
    body = {
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
        "lines": [{"sku": "SKU-A", "quantity": 2, "unit_price": "19.90"}],
    }
    body.update(changes)
    return body


def test_a_check_error_is_chinese_on_the_form_and_recorded_in_english(client, manager, chinese):  # noqa: F811
    client.force_login(manager)
    response = client.post("/orders/new/", form_post(**GOOD_ADDRESS, promise_date="0001-01-01"), **ZH)
    assert response.status_code == 400
    assert list(response.context["form"].non_field_errors()) == [
        "promise_date: 0001-01-01 须在 1970-01-01 至 2100-12-31 之间。"
    ]
    message = InboundMessage.objects.get()
    assert message.status == "rejected"
    assert message.error == "promise_date: 0001-01-01 must be between 1970-01-01 and 2100-12-31."
    assert message.result["errors"][0]["message"] == "0001-01-01 must be between 1970-01-01 and 2100-12-31."
    assert Order.objects.count() == 0


def test_the_api_answers_the_same_check_in_english_to_a_chinese_browser(client, api_key, chinese):
    response = api_post(client, api_key, api_body("API-D", promise_date="0001-01-01"))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": None, "field": "promise_date", "message": "'0001-01-01' must be between 1970-01-01 and 2100-12-31."}
    ]
    assert Order.objects.count() == 0


def test_a_bad_quantity_is_chinese_on_the_form_and_english_from_the_api(client, manager, api_key, chinese):  # noqa: F811
    client.force_login(manager)
    response = client.post("/orders/new/", form_post(**GOOD_ADDRESS, **{"lines-0-quantity": "0"}), **ZH)
    assert response.status_code == 400
    assert response.context["formset"].forms[0].errors["quantity"] == ["确保该值大于或等于1。"]
    api = api_post(client, api_key, api_body("API-Q", lines=[{"sku": "SKU-A", "quantity": 0, "unit_price": "1"}]))
    assert api.status_code == 400
    assert api.json()["errors"][0]["message"] == "must be at least 1, got 0."
    assert Order.objects.count() == 0


def test_an_unknown_sku_on_the_form_is_reported_in_chinese(client, manager, chinese):  # noqa: F811
    client.force_login(manager)
    response = client.post("/orders/new/", form_post(**GOOD_ADDRESS, **{"lines-0-sku": "NOPE-1"}), follow=True, **ZH)
    order = Order.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert f"订单 {order.number} 已挂起：未知 SKU NOPE-1（请将其对应到商品，或修改该商品行）。" in shown
    assert order.holds.get().note == "Unknown SKU: NOPE-1"  # the record stays English


def test_a_bad_address_on_the_form_is_reported_in_chinese_with_suggestions(client, manager, chinese):  # noqa: F811
    client.force_login(manager)
    wrong = dict(GOOD_ADDRESS, ship_province="湖南省", ship_district="")
    response = client.post("/orders/new/", form_post(**wrong), follow=True, **ZH)
    order = Order.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert (
        f"订单 {order.number} 已挂起：地址不在中国行政区划表中：“苏州市”不是 湖南省 下的城市（它属于 江苏省 苏州市）。"
        " 您是否要找：江苏省 苏州市 / 湖南省 郴州市 / 湖南省 永州市？"
    ) in shown
    hold = order.holds.get()
    assert (hold.reason, hold.note) == (
        "address_invalid",
        "Address not in China's division list: '苏州市' is not a city of 湖南省 (it is in 江苏省 苏州市). "
        "Did you mean: 江苏省 苏州市 / 湖南省 郴州市 / 湖南省 永州市?",
    )


def test_the_paste_panel_names_the_address_problem_in_chinese(client, manager, chinese):  # noqa: F811
    client.force_login(manager)
    response = client.post("/orders/new/paste/", form_post(paste="王五 13600136000 湖南省苏州市人民路1号"), **ZH)
    page = response.content.decode()
    assert "&#x27;苏州市&#x27; is not" not in page
    assert "“苏州市”不是 湖南省 下的城市（它属于 江苏省 苏州市）" in page


def test_a_field_error_made_on_a_chinese_page_is_recorded_in_english(chinese):
    with translation.override("zh-hans"):
        error = FieldError("ship_to.city", address_cn.parse_address("湖南省苏州市人民路1号").problems[0])
        rejected = OrderRejected([error])
    assert error.message == "“苏州市”不是 湖南省 下的城市（它属于 江苏省 苏州市）"
    assert error.english() == "'苏州市' is not a city of 湖南省 (it is in 江苏省 苏州市)"
    assert rejected.english() == "ship_to.city: '苏州市' is not a city of 湖南省 (it is in 江苏省 苏州市)"
    assert FieldError("x", "plain text").english() == "plain text"


def test_a_nul_in_a_marked_message_is_still_made_storable():
    from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder

    order = CanonicalOrder(
        external_id="X-1", ship_to=CanonicalAddress(name="A", country="CN"), lines=[CanonicalLine("S\x00", 1)]
    )
    with pytest.raises(OrderRejected) as caught:
        check(order)
    with translation.override("en"):
        assert str(caught.value) == ("lines[1].sku: contains a NUL character (\\u0000), which cannot be stored.")
