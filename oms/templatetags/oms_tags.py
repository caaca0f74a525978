from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def status_badge(value, label=None):
    return format_html('<span class="badge st-{}">{}</span>', value, label or value)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        query[key] = value
    return query.urlencode()


@register.filter
def stored_words(text):
    """Text the system stored in English without its template (an import row's error, an outbox row's reason, a
    background item), in the reader's language when it is a known phrase (``oms.wording.known``); else as it is."""
    from oms.wording import in_words

    return in_words(text)


@register.filter
def money(amount, currency=""):
    """An amount with its currency as the reader's language writes it (CLDR, through Babel): ¥1,234.50 in Chinese,
    CN¥1,234.50 in English for CNY; US$12.00 / $12.00 for USD. Nothing is rounded to the currency's usual
    digits (JPY 99.50 reads ¥99.5); an amount that is not a number, or no currency, is shown as it is."""
    from decimal import Decimal, InvalidOperation

    from babel.numbers import format_currency
    from django.utils.translation import get_language

    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return amount
    if not currency or not value.is_finite():
        return amount
    locale = "zh_Hans_CN" if (get_language() or "").lower().startswith("zh") else "en"
    try:
        return format_currency(value, str(currency), locale=locale, decimal_quantization=False)
    except (ValueError, LookupError):
        return f"{amount} {currency}"
