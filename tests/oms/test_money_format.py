"""Amounts follow the reader's language (issue 17: "formats (dates, money) follow the language"): the ``money``
filter writes an amount with its currency as CLDR does for the language, every stored digit kept."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from orders import services as order_services
from orders.models import Order
from tests.factories import ChannelFactory, canonical


def render(amount, currency, language):
    with translation.override(language):
        return Template("{% load oms_tags %}{{ amount|money:currency }}").render(
            Context({"amount": amount, "currency": currency})
        )


@pytest.mark.parametrize(
    "amount, currency, zh, en",
    [
        (Decimal("168.00"), "CNY", "¥168.00", "CN¥168.00"),
        (Decimal("1234.5"), "CNY", "¥1,234.50", "CN¥1,234.50"),
        (Decimal("12.00"), "USD", "US$12.00", "$12.00"),
        (Decimal("-3.00"), "CNY", "-¥3.00", "-CN¥3.00"),
        (Decimal("99.50"), "JPY", "JP¥99.5", "¥99.5"),  # JPY has no cents: the stored half is not rounded away
    ],
)
def test_an_amount_is_written_as_the_language_writes_it(amount, currency, zh, en):
    assert render(amount, currency, "zh-hans") == zh
    assert render(amount, currency, "en") == en


@pytest.mark.parametrize("amount, currency, shown", [(None, "CNY", ""), ("n/a", "CNY", "n/a"), (Decimal("5"), "", "5")])
def test_what_is_not_an_amount_with_a_currency_is_shown_as_it_is(amount, currency, shown):
    assert render(amount, currency, "zh-hans") == shown


@pytest.mark.django_db
@pytest.mark.parametrize("language, shown", [("zh-hans", "¥1,288.00"), ("en", "CN¥1,288.00")])
def test_the_order_page_shows_its_total_in_the_readers_language(admin_client, language, shown):
    order = order_services.order_create(channel=ChannelFactory(), data=canonical("M-1"), source="test").order
    Order.objects.filter(pk=order.pk).update(total=Decimal("1288.00"), currency="CNY")
    page = admin_client.get(f"/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert shown in page
