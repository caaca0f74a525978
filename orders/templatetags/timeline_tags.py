from django import template

from ..wording import event_text, hold_text, in_words

register = template.Library()


@register.filter
def timeline_words(event):
    """An order event's text (stored in English with its template) in the reader's language."""
    return event_text(event)


@register.filter
def stored_words(text):
    """Text the system stored in English without its template (a hold's note, a case's title), in the
    reader's language when it is a known phrase; else as it is."""
    return in_words(text)


@register.filter
def hold_words(hold):
    """A hold's note (OrderHold) in the reader's language."""
    return hold_text(hold)
