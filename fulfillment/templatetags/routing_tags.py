from django import template

from ..routing.words import in_words, policy_label

register = template.Library()


@register.filter
def routing_words(text):
    """A routing verdict, reason or note (stored in English) in the reader's language."""
    return in_words(text)


@register.filter(name="policy_label")
def policy_label_filter(code):
    """A decision's policy code: the built-in policy's as its label (内置策略), a routing policy's as it is."""
    return policy_label(code)
