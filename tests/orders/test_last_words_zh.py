"""Issue 17, the last English refusals and stored phrases (scripts/i18n/zh/china-last.json over the project's
catalogues): the services' internal checks, the change rules' refusals, the invoice form's problems, the import
job's status door and the connectors' own words read in Chinese for a Chinese reader, in the same English as
before otherwise (the API keeps English); the known phrases "arrived %(reason)s" and "%(value)s is more than
%(most)s." take only what their writers write."""

from __future__ import annotations

from decimal import Decimal
from html import unescape

import pytest
from django.utils import translation

from connectors.words import note_words
from inventory.reservations import StockRequest, stock_reserve
from oms.errors import DomainError, TransitionNotAllowed
from oms.imports.jobs import import_jobs_move
from oms.models import ImportJob, ImportStatus
from oms.wording import in_words, render
from orders import services
from orders.atp import PUSH_ANSWERED
from orders.intake import oms_json
from orders.intake.invoice import parse_invoice
from orders.rules.stages import ChangeRefused, check_reason_code
from orders.wording import msg
from tests.factories import ChannelFactory, ProductFactory, make_user
from tests.orders.branch_catalogue import branch_chinese

pytestmark = pytest.mark.django_db

LIST = "china-last.json"


@pytest.fixture
def chinese(tmp_path):
    with branch_chinese(tmp_path, LIST, contexts=("arrived",)), translation.override("zh-hans"):
        yield


def _refusal(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return str(caught.value)


# ---- refusals worded through gettext ----------------------------------------------------------------------


def test_a_reservation_check_reads_in_chinese_and_in_english(tmp_path):
    def bad():
        stock_reserve(requests=[StockRequest(1, 1, 0)], reference="SO1")

    with branch_chinese(tmp_path, LIST):
        with translation.override("zh-hans"):
            assert _refusal(bad) == "预留数量必须大于零。"
        with translation.override("en"):
            assert _refusal(bad) == "Reserved quantities must be positive."


def test_a_reason_code_refusal_and_the_import_door_read_in_chinese(chinese):
    with pytest.raises(ChangeRefused) as caught:
        check_reason_code("whim")
    assert str(caught.value).startswith("请选择原因代码（")
    with pytest.raises(TransitionNotAllowed) as door:
        import_jobs_move(ImportJob.objects.none(), ImportStatus.DONE, only_from=[ImportStatus.DONE, "nowhere"])
    assert "导入任务不能从" in str(door.value) and "nowhere" in str(door.value)


def test_the_invoice_forms_problem_reads_in_chinese_with_the_fields_label(client, tmp_path):
    ProductFactory(sku="SKU-A", price=Decimal("100.00"))
    channel = ChannelFactory(slug="web", name="Web shop")
    data = {
        "channel": "web",
        "external_id": "J1",
        "customer": {"name": "张三", "email": "z@example.cn"},
        "ship_to": {"name": "张三", "phone": "13800138000", "country": "CN", "province": "上海市", "city": "上海市",
                    "district": "浦东新区", "address1": "世纪大道1号"},
        "lines": [{"sku": "SKU-A", "quantity": 1, "unit_price": "100.00"}],
    }  # fmt: skip
    _slug, canonical = oms_json.parse(data)
    order = services.order_create(channel=channel, data=canonical, source="api").order
    client.force_login(make_user("cs", "customer_service"))
    client.cookies["django_language"] = "zh-hans"
    form = {"kind": "plain", "title_type": "company", "title": "某某公司", "tax_id": "91350100M000100Y44"}
    with branch_chinese(tmp_path, LIST):
        page = unescape(client.post(f"/orders/{order.number}/invoice/", form, follow=True).content.decode())
    assert "税号: “91350100M000100Y44”的校验位不对：最后一位应为 3。" in page
    assert not order.invoice_requests.exists()
    # the same problem stays English for the API and the stored records
    with translation.override("en"), pytest.raises(Exception) as caught:
        parse_invoice({"title": "某某公司", "title_type": "company", "tax_id": "91350100M000100Y44"})
    assert "has a wrong check character" in str(caught.value.errors[0].message)


# ---- the known phrases' shapes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("arrived cancelled", "到达时已取消"),
        ("arrived refunded", "到达时已退款"),
        ("arrived cancelled on Amazon", "到达时已在亚马逊取消"),
        ("arrived 已取消 买家不要了", "到达时已取消 买家不要了"),
        ("arrived damaged", "arrived damaged"),  # a person's note: not the phrase
        ("100001 is more than 100000.", "100001 超过上限 100000。"),
        ("the box is more than 2 kg.", "the box is more than 2 kg."),  # a person's text
        ("100001 is more than the rest.", "100001 is more than the rest."),
    ],
)
def test_known_phrases_take_only_what_their_writer_writes(chinese, stored, shown):
    assert in_words(stored) == shown


def test_an_arrived_reason_kept_with_its_template_reads_as_words(chinese):
    assert render({"m": "arrived %(reason)s", "p": {"reason": "voided"}}) == "到达时已作废"
    with translation.override("en"):
        assert render({"m": "arrived %(reason)s", "p": {"reason": "voided"}}) == "arrived voided"


def test_the_connectors_own_words_read_in_chinese_and_a_platforms_text_stays(chinese):
    stored = str(msg("not on the platform: %(skus)s", skus="SKU-A, SKU-B")) + " · refused: SKU-C: locked"
    assert note_words(stored) == "平台上没有：SKU-A, SKU-B · 被拒绝：SKU-C: locked"
    assert in_words(str(msg(PUSH_ANSWERED, status=502))) == "渠道返回了 502。"
    assert in_words("The channel answered maybe.") == "The channel answered maybe."  # not a status: not ours
    assert note_words("Shopify: Throttled") == "Shopify: Throttled"
