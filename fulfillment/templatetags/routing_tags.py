from django import template

from ..routing.words import in_words

register = template.Library()


@register.filter
def routing_words(text):
    """A routing verdict, reason or note (stored in English) in the reader's language."""
    return in_words(text)
