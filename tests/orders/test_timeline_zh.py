"""Issue 17, "no English from stored text": what the system writes in English at write time (the order's
timeline, system hold notes, case summaries) reaches Chinese staff in Chinese.

A scripted day (an order through intake, routing, picking, packing and shipping; an order with an unknown SKU
held; an order held by hand, released and cancelled; an exception case on the shipped parcel) is rendered in
Chinese, and every English word on the pages must be data written by people or channels (names, SKUs,
numbers: stored in a column that is not one of the system's English texts) or a word written the same in
every language. The mechanism itself (oms/wording.py) is tested below it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import models
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from logistics.cases import services as case_services
from logistics.cases.rules import detect_no_scan
from orders import services as order_services
from orders.models import OrderEvent
from orders.status import HoldReason, OrderStatus
from orders.wording import event_text, in_words, label, msg, msg_list, render
from tests import journey
from tests.factories import ChannelFactory, canonical
from tests.oms.test_pages_in_chinese import _Seen, english_left
from tests.oms.test_translations import WORD
from workflows.cancel import order_cancel

pytestmark = pytest.mark.django_db

# The columns where the system writes English for people: their words are not "data" a page may show as is.
SYSTEM_TEXT = {
    ("orders", "orderevent"): {"message"},
    ("orders", "orderhold"): {"note", "release_note"},
    ("logistics", "exceptioncase"): {"summary", "resolution"},
    ("logistics", "caseaction"): {"note"},
}


def people_words() -> set[str]:
    """Every word stored in text columns other than the system's English texts (names, SKUs, cities, …)."""
    words: set[str] = set()
    for model in apps.get_models():
        skip = SYSTEM_TEXT.get((model._meta.app_label, model._meta.model_name), set())
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and f.attname not in skip
        ]
        if not fields:
            continue
        for row in model.objects.values_list(*fields):
            for value in row:
                if value:
                    words.update(WORD.findall(str(value)))
    return words


@pytest.fixture
def day(client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    shipped = journey.order_through(capture, "shipped")
    channel = ChannelFactory(slug="web")
    with capture(execute=True):
        unknown = order_services.order_create(
            channel=channel, data=canonical("J2", lines=(("NOPE-1", 1),)), source="test"
        ).order
        held = order_services.order_create(channel=channel, data=canonical("J3"), source="test").order
        order_services.order_hold(order=held, reason=HoldReason.MANUAL, note="客户要求暂缓")
        order_services.order_release(order=held, note="客户确认")
        order_cancel(order=held, reason="客户取消")
    parcel = shipped.shipments.get().parcels.get()
    for finding in detect_no_scan(timezone.now() + timedelta(days=5)):
        case_services.case_open(
            order=finding.order,
            case_type=finding.case_type,
            summary=finding.summary,
            facts=finding.facts,
            parcel=parcel,
        )
    admin = journey.users()["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    return client, {"shipped": shipped, "unknown": unknown, "held": held}


def test_a_day_of_stored_text_reads_in_chinese(day):
    client, orders = day
    case = orders["shipped"].exception_cases.get()
    urls = [reverse("orders:order_detail", args=[o.number]) for o in orders.values()]
    urls += [reverse("logistics:case_detail", args=[case.number]), reverse("logistics:case_list")]
    allowed = people_words() | {"JPG", "PNG", "WebP", "MB"}  # the evidence form's file types and size unit
    problems = []
    client.cookies["django_language"] = "zh-hans"
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        left = set(english_left(html, allowed))
        if left:
            seen = _Seen()
            seen.feed(html)
            where = [t.strip()[:160] for t in seen.texts if set(WORD.findall(t)) & left][:4]
            problems.append(f"{url}: {sorted(left)} in {where}")
    assert not problems, "English from stored text on Chinese pages:\n  " + "\n  ".join(problems)
    # The same pages in English still show the English the system wrote.
    client.cookies["django_language"] = "en"
    page = client.get(reverse("orders:order_detail", args=[orders["unknown"].number])).content.decode()
    assert "Unknown SKU: NOPE-1" in page
    assert "Order received from Web shop (test), 1 line(s)." in page


def test_an_event_written_in_english_reads_in_chinese_and_in_english(day):
    _client, orders = day
    event = orders["unknown"].events.get(kind="created")
    assert event.message == "Order received from Web shop (test), 1 line(s)."
    assert event.words == {
        "m": "Order received from %(channel)s (%(source)s), %(lines)s line(s).",
        "p": {"channel": "Web shop", "source": "test", "lines": 1},
    }
    with translation.override("zh-hans"):
        assert event_text(event) == "从 Web shop (test) 接收订单，1 行。"
    with translation.override("en"):
        assert event_text(event) == "Order received from Web shop (test), 1 line(s)."
    status = orders["held"].events.filter(kind="status").first()
    assert status.message == "Status Received → Confirmed: validated"
    with translation.override("zh-hans"):
        assert event_text(status) == "状态 已接收 → 已确认：校验通过"


def test_enum_params_are_stored_as_values_and_shown_as_labels():
    text = msg(gettext_noop("Status %(from)s → %(to)s"), **{"from": label(OrderStatus.RECEIVED), "to": "x"})
    assert str(text) == "Status Received → x"
    assert text.stored() == {
        "m": "Status %(from)s → %(to)s",
        "p": {"from": {"e": "orders.status.OrderStatus", "v": "received"}, "to": "x"},
    }
    with translation.override("zh-hans"):
        assert render(text.stored()).startswith("状态 已接收")


def test_params_with_percent_or_braces_are_safe():
    text = msg(gettext_noop("Cancelled: %(reason)s"), reason="100% {off} %(x)s %s")
    assert str(text) == "Cancelled: 100% {off} %(x)s %s"
    with translation.override("zh-hans"):
        assert render(text.stored()) == "已取消：100% {off} %(x)s %s"
    rendered = Template("{% load timeline_tags %}{{ e|timeline_words }}").render(
        Context({"e": OrderEvent(message=str(text), words=text.stored())})
    )
    assert rendered == "Cancelled: 100% {off} %(x)s %s"


def test_an_unknown_template_or_a_broken_one_falls_back():
    assert render({"m": "Something new happened to %(what)s.", "p": {"what": "SO1"}}) == (
        "Something new happened to SO1."
    )
    assert render({"m": "Wants %(other)s", "p": {"what": "SO1"}}) == "Wants %(other)s"
    assert render({"m": "Bad %(x)d", "p": {"x": "not a number"}}) == "Bad %(x)d"
    assert render({"m": "%(s)s", "p": {"s": {"e": "no.such.Choices", "v": "v"}}}) == "v"
    old = OrderEvent(message="Something free-form")
    assert event_text(old) == "Something free-form"
    assert event_text(OrderEvent(message="Kept", words="not a dict")) == "Kept"


def test_old_rows_without_a_template_are_translated_when_they_are_a_known_phrase():
    old = OrderEvent(message="On hold: Unknown SKU. Unknown SKU: X-1")
    with translation.override("zh-hans"):
        assert event_text(old) == "挂起：未知 SKU。未知 SKU：X-1"
        assert in_words("Status Received → Confirmed: validated") == "状态 已接收 → 已确认：校验通过"
        assert in_words("free text") == "free text"


def test_lists_and_nested_phrases():
    inner = msg(gettext_noop("Unknown SKU: %(skus)s"), skus="A, B")
    outer = msg(gettext_noop("On hold: %(reason)s. %(note)s"), reason=label(HoldReason.UNKNOWN_SKU), note=inner)
    assert str(outer) == "On hold: Unknown SKU. Unknown SKU: A, B"
    joined = msg(gettext_noop("Cancelled: %(reason)s"), reason=msg_list([label(OrderStatus.RECEIVED), "SO1"]))
    assert str(joined) == "Cancelled: Received, SO1"
    with translation.override("zh-hans"):
        assert render(outer.stored()) == "挂起：未知 SKU。未知 SKU：A, B"


def test_address_hold_notes_read_in_chinese():
    """The address check's hold note (several problems, and the Chinese division check with its suggestions) is
    stored in English and shown in the reader's language; a note with an unknown part keeps that part as it is."""
    from orders.intake.address_cn import Completion

    note = "recipient name missing; no phone or e-mail for the carrier"
    problems, suggestions = ("'长沙市' is not a city of 江苏省",), ("湖南省 长沙市",)
    cn = Completion(filled={}, problems=problems, suggestions=suggestions).hold_note()
    assert cn == "Address not in China's division list: '长沙市' is not a city of 江苏省. Did you mean: 湖南省 长沙市?"
    with translation.override("zh-hans"):
        assert in_words(note) == "缺少收件人姓名；没有可供快递联系的电话或邮箱"
        assert in_words(cn) == "地址不在中国行政区划中：“长沙市”不是 江苏省 下的城市。是否为：湖南省 长沙市？"
        assert in_words("city missing; something else") == "缺少城市；something else"
        assert in_words("something; else") == "something; else"
    with translation.override("en"):
        assert in_words(note) == note
