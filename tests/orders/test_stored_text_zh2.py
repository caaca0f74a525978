"""Issue 17, the English still left on Chinese pages after the timeline round: the order's source in the
timeline, the routing stock-short hold note, hold notes longer than 255 characters, import row errors, outbox
reasons and the background page's items, each rendered in Chinese (the branch's Chinese from
scripts/i18n/zh/china-rest2.json over the project's catalogues)."""

from __future__ import annotations

from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from orders import services as order_services
from orders.models import OrderEvent, OrderHold
from orders.status import HoldReason
from orders.wording import hold_text, in_words, render
from tests import journey
from tests.factories import ChannelFactory, LocationFactory, ProductFactory, canonical, stock
from tests.orders.branch_catalogue import branch_chinese

pytestmark = pytest.mark.django_db

LIST = "china-rest2.json"


def test_a_held_events_plain_note_reads_in_chinese_like_the_hold_itself(chinese):
    from orders.services.core import hold_message

    note = "recipient name missing; city missing"
    stored = hold_message(HoldReason.ADDRESS_INVALID, note).stored()
    assert stored["p"]["note"] == note  # kept as written: only its showing changes

    shown = render(stored)

    assert shown == "挂起：地址无效。缺少收件人姓名；缺少城市"
    assert shown.endswith(in_words(note))


# ---- 5. the order's source in the timeline --------------------------------------------------------------


def test_the_source_of_a_received_order_reads_as_its_chinese_label(
    tmp_path, zh_admin_client, django_capture_on_commit_callbacks
):
    journey.world()
    channel = ChannelFactory(slug="web")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(channel=channel, data=canonical("F1"), source="form").order
    event = OrderEvent.objects.get(order=order, message__startswith="Order received")
    assert event.message == "Order received from Web shop (form), 1 line(s)."  # stored English, as before
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "从 Web shop (表单) 接收订单，1 行。" in page
    assert "(form)" not in page


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("api", "API"),
        ("form", "表单"),
        ("file:oms-csv", "导入"),
        ("webhook:shopify", "Webhook"),
        ("pull:woocommerce", "拉取"),
        ("exchange", "换货"),
        ("test", "test"),
    ],
)
def test_every_source_code_and_old_rows_without_a_template(chinese, source, shown):
    stored = {
        "m": "Order received from %(channel)s (%(source)s), %(lines)s line(s).",
        "p": {"channel": "京东", "source": source, "lines": 2},
    }
    assert render(stored) == f"从 京东 ({shown}) 接收订单，2 行。"
    assert in_words(f"Order received from 京东 ({source}), 2 line(s).") == f"从 京东 ({shown}) 接收订单，2 行。"


def test_the_source_stays_english_for_an_english_reader():
    with translation.override("en"):
        assert in_words("Order received from JD (form), 2 line(s).") == "Order received from JD (form), 2 line(s)."


# ---- 4. the routing stock-short hold note --------------------------------------------------------------


@pytest.fixture
def short_order(django_capture_on_commit_callbacks):
    """An order of 5 SKU-A where two locations hold 1 each: no location can ship it, it is held stock-short."""
    product = ProductFactory(sku="SKU-A", name="Coffee")
    for code, name in (("sha", "Shanghai DC"), ("bj", "Beijing DC")):
        stock(LocationFactory(code=code, name=name, city="Shanghai"), product, 1)
    channel = ChannelFactory(slug="web")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=channel, data=canonical("S1", lines=(("SKU-A", 5),)), source="api"
        ).order
    return order


def test_the_stock_short_hold_note_reads_in_chinese(short_order, tmp_path, zh_admin_client):
    hold = OrderHold.objects.get(order=short_order, reason=HoldReason.STOCK_SHORT)
    assert "short of" in hold.note  # stored in English, as every system note
    assert hold.words["m"]  # and with its template
    with branch_chinese(tmp_path, LIST), translation.override("zh-hans"):
        shown = hold_text(hold)
    assert "short of" not in shown
    assert shown == "bj（缺货：SKU-A） | sha（缺货：SKU-A）"
    with translation.override("en"):
        assert hold_text(hold) == hold.note
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("orders:order_detail", args=[short_order.number])).content.decode()
    assert "short of" not in page
    assert "bj（缺货：SKU-A） | sha（缺货：SKU-A）" in page


# ---- 7. hold notes longer than 255 characters -------------------------------------------------------------


def test_a_hold_note_longer_than_255_characters_is_kept_whole(zh_admin_client, django_capture_on_commit_callbacks):
    journey.world()
    channel = ChannelFactory(slug="web")
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(channel=channel, data=canonical("L1"), source="api").order
    note = "客户来电要求改为周末送货并核对发票抬头。" * 20 + " the end"
    assert len(note) > 255
    order_services.order_hold(order=order, reason=HoldReason.MANUAL, note=note)
    hold = OrderHold.objects.get(order=order, reason=HoldReason.MANUAL)
    assert hold.note == note
    release = "已与客户确认，" * 50
    order_services.order_release(order=order, reason=HoldReason.MANUAL, note=release)
    hold.refresh_from_db()
    assert hold.release_note == release
    response = zh_admin_client.get(reverse("orders:order_detail", args=[order.number]))
    assert response.status_code == 200
    assert note in response.content.decode()


# ---- 2. import job errors ---------------------------------------------------------------------------------


def _rows_errors() -> list[dict]:
    """Errors as the importers write them: the product importer's checks and the order intake's."""
    from inventory.catalog import clean_product

    _sku, _fields, errors = clean_product({"sku": "A-1", "weight_g": "abc", "active": "maybe"})
    found = [{"row": 2, **e} for e in errors]
    found.append({"row": 3, "field": "quantity", "message": "must be at least 1, got 0."})
    found.append({"row": 4, "field": "sku", "message": "is required."})
    return found


def test_an_import_jobs_rows_errors_and_message_read_in_chinese(tmp_path, zh_admin_client):
    from oms.models import ImportJob

    errors = _rows_errors()
    assert [e["message"] for e in errors] == [
        "'abc' is not a number.",
        "'maybe' is not yes or no.",
        "must be at least 1, got 0.",
        "is required.",
    ]
    job = ImportJob.objects.create(
        kind="products", file="imports/p.csv", original_filename="p.csv", status="done",
        message="Imported: 3 created, 1 held.", errors=errors, created=3, held=1, rejected=3,
    )  # fmt: skip
    with branch_chinese(tmp_path, LIST):
        page = unescape(zh_admin_client.get(reverse("imports:detail", args=[job.pk])).content.decode())
    for chinese in (
        "已导入：新建 3，挂起 1。",
        "“abc”不是数字。",
        "'maybe' 不是 yes 或 no。",
        "至少为 1，实际为 0。",
        "必填。",
    ):
        assert chinese in page
    for english in ("Imported:", "is not a number", "is not yes or no", "got 0", "is required"):
        assert english not in page
    job.refresh_from_db()
    assert job.message == "Imported: 3 created, 1 held." and job.errors == errors  # stored as written


def test_a_failed_import_and_a_preview_read_in_chinese(tmp_path, zh_admin_client):
    from oms.models import ImportJob

    failed = ImportJob.objects.create(
        kind="products", file="imports/q.csv", original_filename="q.csv", status="failed",
        message="The import stopped after 40 rows on a database error, logged for the administrator; what was "
        "imported before it is kept.",
    )  # fmt: skip
    previewed = ImportJob.objects.create(
        kind="products", file="imports/r.csv", original_filename="r.csv", status="previewed",
        preview={
            "columns": ["sku"], "checked": 2, "good": 1, "bad": 1, "total": 2, "outcomes": {"created": 1},
            "rows": [
                {"number": 2, "values": {"sku": "A"}, "errors": [], "outcome": "created"},
                {"number": 3, "values": {"sku": ""}, "errors": [{"field": "sku", "message": "is required."}]},
            ],
        },
    )  # fmt: skip
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("imports:detail", args=[failed.pk])).content.decode()
        preview = zh_admin_client.get(reverse("imports:detail", args=[previewed.pk])).content.decode()
    assert "导入在第 40 行后因数据库错误中止，已记录供管理员查看；此前已导入的内容保留。" in page
    assert "The import stopped" not in page
    assert "必填。" in preview and "is required" not in preview
    assert ">新建</span>" in preview and ">created<" not in preview


def test_an_unknown_error_text_is_shown_as_it_was_stored(chinese):
    assert in_words("Zeile 7 - Wert fehlt") == "Zeile 7 - Wert fehlt"


# ---- 3. outbox reasons and 1. the background page's items ------------------------------------------------------


def test_our_outbox_reasons_read_in_chinese_and_a_vendors_text_stays(tmp_path, zh_admin_client):
    from django.utils import timezone

    from oms.models import OutboxMessage

    now = timezone.now()
    ours = OutboxMessage.objects.create(
        kind="order.notice", key="n1", destination="email:a@example.com", status="dead", attempts=5,
        next_attempt_at=now, created_at=now, last_error="The notice of this row no longer exists.",
    )  # fmt: skip
    theirs = OutboxMessage.objects.create(
        kind="channel.shipment", key="s1", destination="channel:jd", status="dead", attempts=5,
        next_attempt_at=now, created_at=now, last_error="invalid_state (HTTP 409) label already used",
    )  # fmt: skip
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get("/background/").content.decode()
    assert "这条消息对应的通知已不存在。" in page and "The notice of this row" not in page
    assert theirs.last_error in page  # the vendor's own words, as they came
    with translation.override("en"):
        assert in_words(ours.last_error) == ours.last_error


@pytest.mark.parametrize(
    ("stored", "chinese_text"),
    [
        ("The channel has no connection: nothing is sent back.", "该渠道未连接：不回传任何内容。"),
        ("No connector sends cancellations to 京东.", "没有可向 京东 发送取消通知的连接器。"),
        ("SF Express refused to void SF123: 已揽收", "SF Express 拒绝作废 SF123：已揽收"),
        ("No handler is registered for outbox messages of kind 'x.y'.", "没有为类型“x.y”的发件箱消息注册处理程序。"),
    ],
)
def test_every_kind_of_outbox_reason_we_write(chinese, stored, chinese_text):
    assert in_words(stored) == chinese_text


def test_the_background_pages_stuck_items_read_in_chinese(tmp_path, zh_admin_client):
    from datetime import timedelta

    from django.utils import timezone

    from oms.models import ImportJob

    job = ImportJob.objects.create(kind="products", file="imports/s.csv", original_filename="big.csv", status="running")
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get("/background/").content.decode()
    assert "big.csv (导入中)" in page
    assert "(running)" not in page


# ---- the sweep: the carrier choice's reasons, a classification's summary, the intake monitor's source ------------


@pytest.mark.parametrize(
    ("stored", "chinese_text"),
    [
        (
            "too heavy: 45000 g > 20000 g; no freight for bulky goods; late: arrives 2026-11-30, promised 2026-11-27",
            "超重：45000 g > 20000 g；不承运大件货物；延误：预计 2026-11-30 送达，承诺 2026-11-27",
        ),
        ("not the requested service (express)", "不是指定的服务（express）"),
        ("cheapest service that meets the promise and the shipment's needs", "满足承诺日期和发货单要求的最便宜服务"),
        ("no signature on delivery (value 3299.00)", "不提供签收（货值 3299.00）"),
    ],
)
def test_the_carrier_choices_reasons_read_in_chinese(chinese, stored, chinese_text):
    assert in_words(stored) == chinese_text


def test_the_carrier_choice_on_the_page_reads_in_chinese(chinese):
    from django.template.loader import render_to_string

    quote = {
        "carrier_name": "SF", "service_name": "Next day", "carrier": "sf", "service_code": "sf-next", "zone": "1",
        "amount": None, "reasons": ["too long: 2100 mm > 1000 mm", "no insurance (value 3299.00)"],
    }  # fmt: skip
    html = render_to_string(
        "logistics/_shipment_rates.html",
        {"quotes": [quote], "reason": "cheapest service that meets the shipment's needs"},
    )
    assert "满足发货单要求的最便宜服务" in html
    assert "超长：2100 mm &gt; 1000 mm；不提供保价（货值 3299.00）" in html
    assert "too long" not in html and "cheapest" not in html


def test_a_classification_summary_keeps_its_template_and_reads_in_chinese(chinese):
    from orders.rules.classification import Match
    from orders.services.core import classified_message

    match = Match(
        rule_id=1, rule="Fresh goods", tags=["fresh"], priority=1, service_kind="cold_chain",
        capabilities=["cold_chain"], packing_note="冰袋", hold=("manual", ""),
    )  # fmt: skip
    message = classified_message(match)
    with translation.override("en"):
        assert str(message) == (
            "Classified: rule Fresh goods → tags fresh; priority 1; service cold_chain; location needs cold_chain; "
            "packing: 冰袋; hold Manual"
        )
    shown = render(message.stored())
    assert "标签 生鲜；优先级 1；服务类型 冷链；发货点需具备 冷链；打包：冰袋；挂起（手工）" in shown
    assert "tags" not in shown and "priority" not in shown


def test_the_intake_monitor_shows_the_sources_label(tmp_path, zh_admin_client):
    from orders.models import InboundMessage

    channel = ChannelFactory(slug="web")
    for source in ("api", "form", "webhook:shopify"):
        InboundMessage.objects.create(source=source, channel=channel, body="{}")
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("orders:inbound_list")).content.decode()
    assert ">API<" in page and ">表单<" in page and ">Webhook · shopify<" in page
    assert ">api<" not in page and ">form<" not in page
