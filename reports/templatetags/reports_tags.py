from django import template

register = template.Library()


@register.filter
def dictget(mapping, key):
    """A dict value by a key held in a variable (tables keyed by column)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
