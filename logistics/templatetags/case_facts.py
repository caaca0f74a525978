from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The keys of ExceptionCase.facts (logistics/cases/rules.py) as the case page names them.
FACT_NAMES = {
    "tracking_number": _("Tracking number"),
    "last_scan": _("Last scan"),
    "hours": _("Hours"),
    "expected": _("Expected delivery"),
    "promise": _("Promised date"),
    "status": _("Status"),
    "carrier_status": _("Carrier code"),
    "occurred_at": _("Occurred at"),
    "location": _("Location"),
    "since": _("Since"),
    "shipment": _("Shipment"),
    "backorders": _("Backorders"),
    "skus": _("SKUs"),
    "hold": _("Hold"),
}


@register.filter
def fact_name(key):
    """A detection fact's key (``last_scan``) as words in the reader's language; an unknown key as it is."""
    return FACT_NAMES.get(key, key)


@register.filter
def fact_value(value, key):
    """A detection fact's value: a status code (``packed``) as its label in the reader's language; the rest as is."""
    if key == "status":
        from fulfillment.status import ShipmentStatus

        from ..status import TrackingStatus

        for choices in (ShipmentStatus, TrackingStatus):
            try:
                return choices(value).label
            except ValueError:
                continue
    return value


# Who opened a case (``ExceptionCase.detected_by``, a code): the detection's rule, a person, an intercept.
DETECTED_BY = {
    "rule": _("Rule"),  # the scheduled detection's rules (logistics/cases/rules.py)
    "person": _("a person"),
    "intercept": _("an intercept"),
}


@register.filter
def detected_by(code):
    """Who opened a case (``rule``, ``person``, ``intercept``) in the reader's language; another code as it is."""
    return DETECTED_BY.get(str(code), code)
