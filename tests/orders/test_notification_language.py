"""Customer e-mails and SMS in the customer's language from the catalogue (issue 17): one template per kind,
its texts through gettext, rendered under translation.override(the customer's language)."""

from django.utils import translation

from orders.care.notifications import render_notification

CONTEXT = {
    "number": "SO100001",
    "first_name": "Wei",
    "shop": "Tmall",
    "link": "https://oms.example/t/abc",
    "expected": "2026-12-09",
    "parcels": [{"tracking_number": "SF1234", "carrier": "SF"}],
    "tracking_number": "SF1234",
    "items": [],
}


def test_the_shipped_email_in_chinese_comes_from_the_catalogue():
    with translation.override("en"):  # whatever the staff member's language
        subject, text, html = render_notification("shipped", "zh-hans", CONTEXT)
    assert subject == "您的订单 SO100001 已发货"
    assert "Wei，您好：" in text
    assert "订单 SO100001 已交给快递（SF，运单号 SF1234）。\n预计送达：2026-12-09。" in text
    assert "跟踪包裹：https://oms.example/t/abc" in text
    assert "此致\nTmall" in text
    assert "您的包裹已发出" in html and "Your parcel" not in html


def test_the_shipped_email_in_english_reads_as_before():
    with translation.override("zh-hans"):
        subject, text, _html = render_notification("shipped", "en", CONTEXT)
    assert subject == "Your order SO100001 is on its way"
    assert "Hello Wei," in text
    assert (
        "Order SO100001 has left our warehouse with SF, tracking number SF1234.\nExpected delivery: 2026-12-09." in text
    )
    assert "Track your parcel: https://oms.example/t/abc" in text


def test_a_parcel_without_its_tracking_number_in_the_list_is_named_without_a_carrier():
    context = {**CONTEXT, "tracking_number": "OTHER"}
    _subject, text, _html = render_notification("shipped", "zh-hans", context)
    assert "订单 SO100001 已交给快递。" in text


def test_the_sms_is_the_subject_and_the_link_in_the_customers_language():
    _subject, sms, html = render_notification("out_for_delivery", "zh-hans", CONTEXT, channel="sms")
    assert sms == "订单 SO100001 今天派送 https://oms.example/t/abc"
    assert html == ""
