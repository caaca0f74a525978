"""Filters for the import pages (oms/templates/oms/imports/)."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key], or None: a dict lookup by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
