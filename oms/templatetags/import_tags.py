"""Filters for the import pages (oms/templates/oms/imports/)."""

from django import template
from django.utils.translation import gettext_lazy as _

from oms.imports.column_mapping import field_label

register = template.Library()


@register.filter
def get_item(mapping, key):
    """mapping[key], or None: a dict lookup by a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


# What a row of a dry run would do (PreviewRow.outcome), as the preview shows it.
OUTCOMES = {
    "created": _("created"),
    "updated": _("updated"),
    "unchanged": _("unchanged"),
    "duplicate": _("duplicate"),
    "held": _("held"),
}


@register.filter
def import_outcome(value):
    """A preview row's outcome ("created", "held", …) in the reader's language; another value as it is."""
    return OUTCOMES.get(str(value), value)


@register.filter(name="field_label")
def field_label_filter(name):
    """A field's name (a preview column, a row error's field) as its label in the reader's language."""
    return field_label(name)
