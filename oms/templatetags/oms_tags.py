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
