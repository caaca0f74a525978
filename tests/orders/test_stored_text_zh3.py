"""Issue 17, what was left after the second sweep, each rendered in Chinese (the branch's Chinese from
scripts/i18n/zh/china-rest3.json over the project's catalogues): classification summaries stored before the
wording change, the built-in routing policy's code, tag codes and import field names shown as words, and the
case summaries' phrases narrowed so a text that is not ours stays as it came."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from fulfillment.routing.words import in_words as routing_in_words
from oms.imports import column_mapping
from oms.wording import in_words
from orders.models import Order, OrderEvent
from orders.status import EventKind
from orders.wording import event_text, render
from tests import journey
from tests.orders.branch_catalogue import branch_chinese

pytestmark = pytest.mark.django_db

LIST = "china-rest3.json"


def event(message, words=None):
    return SimpleNamespace(message=message, words=words or {})


# ---- 1. classification summaries written before the wording change ----------------------------------------

OLD_SUMMARY = (
    "Classified: rule Fresh goods → tags fresh; priority 1; service cold_chain; location needs cold_chain, bulky; "
    "packing: 冰袋; hold manual"
)
OLD_SHOWN = (
    "分类：规则 Fresh goods → 标签 生鲜；优先级 1；服务类型 冷链；发货点需具备 冷链, 大件商品；打包：冰袋；挂起（手工）"
)


def test_an_old_summary_stored_as_plain_text_reads_in_chinese(chinese):
    assert event_text(event(OLD_SUMMARY)) == OLD_SHOWN


def test_an_old_summary_kept_as_a_plain_parameter_reads_in_chinese(chinese):
    summary = OLD_SUMMARY.split(" → ", 1)[1]
    stored = {"m": "Classified: rule %(rule)s → %(summary)s", "p": {"rule": "Fresh goods", "summary": summary}}
    assert render(stored) == OLD_SHOWN
    assert event_text(event(OLD_SUMMARY, stored)) == OLD_SHOWN


def test_an_old_summary_reads_in_english_with_its_codes_as_words():
    with translation.override("en"):
        assert event_text(event(OLD_SUMMARY)) == (
            "Classified: rule Fresh goods → tags fresh; priority 1; service Cold chain; location needs Cold chain, "
            "Bulky goods; packing: 冰袋; hold Manual"
        )


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ("no action", "无动作"),
        ("stop", "停止后续规则"),
        ("tags vip, fresh", "标签 vip, 生鲜"),  # a person's tag is its own name
        ("packing: wrap; fill voids; stop", "打包：wrap; fill voids；停止后续规则"),  # the note keeps its "; "
        ("hold address_invalid", "挂起（地址无效）"),
    ],
)
def test_every_form_of_an_old_summary(chinese, summary, shown):
    assert event_text(event(f"Classified: rule R → {summary}")) == f"分类：规则 R → {shown}"


def test_an_old_summary_with_a_part_it_does_not_know_stays_as_stored(chinese):
    summary = "tags fresh; something new 5"
    assert event_text(event(f"Classified: rule R → {summary}")) == f"分类：规则 R → {summary}"


def test_a_new_summary_shows_its_codes_as_words(chinese):
    from orders.rules.classification import Match
    from orders.services.core import classified_message

    match = Match(
        rule_id=1, rule="Fresh goods", tags=["fresh"], priority=1, service_kind="cold_chain",
        capabilities=["cold_chain"], packing_note="冰袋", hold=("manual", ""),
    )  # fmt: skip
    assert render(classified_message(match).stored()) == (
        "分类：规则 Fresh goods → 标签 生鲜；优先级 1；服务类型 冷链；发货点需具备 冷链；打包：冰袋；挂起（手工）"
    )


def test_the_order_page_shows_an_old_summary_in_chinese(tmp_path, zh_admin_client, django_capture_on_commit_callbacks):
    order = journey.order_through(django_capture_on_commit_callbacks, "confirmed")
    OrderEvent.objects.create(order=order, kind=EventKind.CLASSIFIED, message=OLD_SUMMARY, words={})
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert OLD_SHOWN in page
    assert "tags fresh" not in page and "cold_chain" not in page


# ---- 2. the built-in routing policy ---------------------------------------------------------------------------


def test_the_builtin_policy_reads_as_a_label_in_a_routing_reason(chinese):
    shown = routing_in_words(
        "sha: lowest score 0.42 (distance 0.3, cost 0.1, split 0, load 0, balance 0), policy builtin."
    )
    assert "内置默认" in shown and "builtin" not in shown


def test_the_order_page_shows_the_builtin_policy_as_a_label(
    tmp_path, zh_admin_client, django_capture_on_commit_callbacks
):
    order = journey.order_through(django_capture_on_commit_callbacks, "shipped")
    assert order.routing_decisions.filter(policy="builtin").exists()
    with branch_chinese(tmp_path, LIST):
        page = zh_admin_client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert "策略 内置默认" in page
    assert "builtin" not in page


# ---- 3. codes where a person expects words: tags, import fields -----------------------------------------------


def test_tags_show_their_name_with_the_code_beside(tmp_path, zh_admin_client, django_capture_on_commit_callbacks):
    order = journey.order_through(django_capture_on_commit_callbacks, "confirmed")
    Order.objects.filter(pk=order.pk).update(tags=",fresh,vip,", manual_tags=",vip,")
    with branch_chinese(tmp_path, LIST):
        listing = zh_admin_client.get(reverse("orders:order_list")).content.decode()
        detail = zh_admin_client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
        tags = zh_admin_client.get(reverse("orders:tag_list")).content.decode()
    badge = '生鲜 <small class="tag-code">fresh</small>'
    assert badge in listing and badge in detail and badge in tags
    assert ">vip<" in detail  # a person's own tag is its own name
    with translation.override("en"):
        from orders.tag_names import tag_html

        assert tag_html("fresh") == "fresh"  # English pages show the code as before


def test_import_pages_show_field_labels_beside_the_files_column_names(tmp_path, settings, zh_admin_client):
    settings.MEDIA_ROOT = tmp_path / "media"
    from oms.models import ImportJob

    text = "调出仓,调入仓,sku,数量,reference\nsha,bj,SKU-A,2,T-1\n"
    upload = SimpleUploadedFile("transfers.csv", text.encode("utf-8"))
    with branch_chinese(tmp_path, LIST):
        response = zh_admin_client.post("/imports/new/", {"kind": "stock-transfers", "file": upload})
        assert response.status_code == 302
        job = ImportJob.objects.latest("pk")
        page = zh_admin_client.get(f"/imports/{job.pk}/columns/").content.decode()
    assert "<b>调出仓</b>" in page and "<b>调入仓</b>" in page  # the file's column names as they were
    for label in ("调出发货点", "目标发货点", "数量", "单据号"):
        assert label in page
    assert '<option value="reference" selected>单据号</option>' in page  # the field's label, not its name
    shown = page.replace("<b>reference</b>", "")  # the file's own column name, as it was
    assert ">from_location" not in shown and ">to_location" not in shown and ">reference<" not in shown


def test_field_labels_in_chinese_and_english(chinese):
    (field,) = column_mapping.fields_from_columns(("from_location",))
    assert field.title == "调出发货点"
    assert column_mapping.field_label("external_id") == "外部单号"
    assert column_mapping.field_label("lines[0].sku") == "lines[0].sku"  # a name it does not know, as it is
    with translation.override("en"):
        assert field.title == "From location"


# ---- 4. case summaries: known phrases narrowed ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Customer: called twice",  # a person's note
        "SF1234567890: 快件已签收",  # a carrier's own words
        "Note: Delivered",  # no tracking number
        "SF123: Delivered late again",  # not a status's label
        "SF123: no carrier scan for many h",
        "PKG-1 at sha: Picking for ever h",
    ],
)
def test_a_text_that_is_not_ours_stays_as_it_came(chinese, text):
    import logistics.cases.rules  # noqa: F401 (registers the case summaries' phrases)

    assert in_words(text) == text


def test_the_case_summaries_still_read_in_chinese(chinese):
    import logistics.cases.rules  # noqa: F401

    assert in_words("SF1234567890: Delivery attempt failed") != "SF1234567890: Delivery attempt failed"
    assert in_words("SF1234567890: Delivery attempt failed").startswith("SF1234567890：")
    assert in_words("SF1234567890: no carrier scan for 50.5 h") != "SF1234567890: no carrier scan for 50.5 h"
    assert in_words("SF1: expected 2026-12-09 has passed").startswith("SF1：")


def test_the_mapping_checks_name_the_fields_by_their_labels_in_chinese(chinese):
    from oms.imports.column_mapping import check

    fields = column_mapping.fields_from_columns(("external_id", "sku", "quantity"), ("external_id", "quantity"))
    mapping = {"columns": [{"index": 0, "header": "订单号", "field": "external_id", "unit": ""}]}
    (problem,) = check(mapping, fields)
    with translation.override("en"):
        assert problem == (
            "Missing column(s): quantity. Choose the file column for each required field, or fix the file."
        )  # stored English, as before
    assert in_words(problem) == "缺少列：数量。请为每个必填字段选择文件中的列，或修改文件。"


# ---- the sweep: English found on Chinese pages with demo data ---------------------------------------------------


def test_a_backorder_cases_summary_reads_the_stock_short_note_in_chinese(chinese):
    import logistics.cases.rules  # noqa: F401

    text = "waiting for stock for 302.3 h: SH-QP: short of SC-MOUTAI-500 | GZ-BY: short of SC-MOUTAI-500"
    shown = in_words(text)
    assert "short of" not in shown and "waiting" not in shown
    assert "SH-QP（缺货：SC-MOUTAI-500） | GZ-BY（缺货：SC-MOUTAI-500）" in shown


def test_a_case_that_cleared_by_itself_says_why_in_chinese(chinese):
    import logistics.cases.rules  # noqa: F401

    shown = in_words("Cleared by itself: parcel LC161222088CN is delivered, last scan 2026-11-11 15:13")
    assert shown == "自行消除：包裹 LC161222088CN 状态为已签收，最后轨迹节点 2026-11-11 15:13"
    assert in_words("the order is late, call the buyer") == "the order is late, call the buyer"  # not ours


def test_a_detection_facts_status_and_the_rate_card_importer_read_in_chinese(chinese):
    from fulfillment.status import ShipmentStatus
    from logistics.importers import RateCardImporter
    from logistics.templatetags.case_facts import fact_value

    assert fact_value("packed", "status") == ShipmentStatus.PACKED.label != "Packed"
    assert fact_value("SF1", "tracking_number") == "SF1"
    assert "运价表" in str(RateCardImporter.label)


def test_a_number_error_with_its_unit_reads_in_chinese(chinese):
    assert in_words("'abc' is not a number. (kg)") == "“abc”不是数字。（kg）"
    assert in_words("Call me (maybe)") == "Call me (maybe)"  # not a unit: not ours


def test_an_old_closing_event_reads_its_detail_in_chinese(chinese):
    import logistics.cases.rules  # noqa: F401

    stored = {
        "m": "closed by itself after %(hours)s h — %(detail)s",
        "p": {"hours": "785.6", "detail": "parcel LC161222088CN is delivered, last scan 2026-11-11 15:13"},
    }
    shown = render(stored)
    assert "包裹 LC161222088CN 状态为已签收，最后轨迹节点 2026-11-11 15:13" in shown and "parcel" not in shown


def test_who_opened_a_case_reads_in_chinese(chinese):
    from logistics.templatetags.case_facts import detected_by

    assert [str(detected_by(c)) for c in ("rule", "person", "intercept", "api")] == ["规则", "人工", "拦截", "api"]
