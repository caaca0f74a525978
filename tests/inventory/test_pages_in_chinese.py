"""The stock pages in Chinese (issue 17): a person who chose 中文 gets the pages, the messages and the
errors of a stock action in Chinese, and nothing changes when an action is refused. (The catalogue and
template checks are tests/oms/test_translations.py; this drives the pages through the language cookie.)"""

import pytest
from django.conf import settings
from django.utils import translation

from inventory.models import Stock, StockMovement, Transfer
from tests.factories import LocationFactory, ProductFactory, make_user, stock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _language_reset_afterwards():
    """A request through LocaleMiddleware leaves its language active in this thread: put it back, or the
    tests that run next in this process would read Chinese."""
    yield
    translation.deactivate()


@pytest.fixture
def zh(client):
    client.force_login(make_user("keeper", "warehouse"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    sha = LocationFactory(code="sha")
    LocationFactory(code="can")
    stock(sha, ProductFactory(sku="SKU-A"), 10)
    return client


def state():
    return sorted(Stock.objects.values_list("location__code", "product__sku", "on_hand", "reserved")), (
        StockMovement.objects.count(),
        Transfer.objects.count(),
    )


def test_the_stock_list_speaks_chinese(zh):
    page = zh.get("/inventory/stock/").content.decode()
    assert "<h1>库存</h1>" in page
    assert ">在库</a>" in page or ">在库</th>" in page  # the table header, sortable or not
    assert ">入库</a>" in page and ">盘点</a>" in page and ">报损</a>" in page
    assert "On hand" not in page and "Write off" not in page


def test_a_transfer_in_chinese_then_its_page(zh):
    response = zh.post(
        "/inventory/transfers/new/", {"from_location": "sha", "to_location": "can", "lines": "SKU-A 4"}, follow=True
    )
    transfer = Transfer.objects.get()
    page = response.content.decode()
    assert f"调拨单 {transfer.number} 已调出：货物运输中。" in page
    assert "<dt>调出方</dt>" in page and "<dt>调入方</dt>" in page and "尚未入库：运输中" in page
    assert "dispatched" not in page


def test_a_refused_adjustment_says_why_in_chinese_and_changes_nothing(zh):
    before = state()
    response = zh.post("/inventory/stock/adjust/", {"location": "sha", "sku": "SKU-A", "delta": "-11", "reason": "x"})
    assert response.status_code == 400
    assert "sha 的 SKU-A：在库 10，已占用 0；无法调整 -11：库存将低于订单已占用的数量。" in response.content.decode()
    assert state() == before


def test_an_unknown_sku_on_a_transfer_line_is_reported_in_chinese(zh):
    before = state()
    response = zh.post("/inventory/transfers/new/", {"from_location": "sha", "to_location": "can", "lines": "NOPE 1"})
    assert response.status_code == 400
    assert "第 1 行：未知 SKU &#x27;NOPE&#x27;" in response.content.decode()
    assert state() == before


def test_the_same_pages_stay_english_for_an_english_reader(client):
    client.force_login(make_user("keeper", "warehouse"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/inventory/stock/").content.decode()
    assert "<h1>Stock</h1>" in page and "库存</h1>" not in page
