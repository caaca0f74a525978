from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fulfillment.packing import PACKAGE_TYPES
from orders.intake.canonical import EARLIEST_DAY, LATEST_DAY

from .external_labels import ExternalLabelError, carrier_choices, carrier_resolve, tracking_number_clean
from .status import TrackingStatus


class TrackingEventForm(forms.Form):
    tracking_number = forms.CharField(max_length=40, label=_("Tracking number"))
    # "unknown" is what an unreadable carrier code becomes; a person records what they know.
    status = forms.ChoiceField(
        choices=[c for c in TrackingStatus.choices if c[0] != TrackingStatus.UNKNOWN], label=_("Status")
    )
    occurred_at = forms.DateTimeField(
        initial=timezone.now, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label=_("Occurred at")
    )
    location = forms.CharField(max_length=120, required=False, label=_("Location"))
    description = forms.CharField(max_length=255, required=False, label=_("Description"))

    def clean_occurred_at(self):
        # Year 1 or 9999 is a typo, and converting it to UTC would overflow.
        value = self.cleaned_data["occurred_at"]
        if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
            raise forms.ValidationError(
                gettext("must be between %(first)s and %(last)s.") % {"first": EARLIEST_DAY, "last": LATEST_DAY}
            )
        return value


class TrackLookupForm(forms.Form):
    number = forms.CharField(max_length=20, label="Order number")
    contact = forms.CharField(max_length=120, label="E-mail or last 4 digits of phone")


class ShipExternalForm(forms.Form):
    """Ship under a tracking number from a label made elsewhere (logistics/external_labels.py). With
    ``pack=True`` (a shipment not packed yet, at the pack station) it also asks the weight and package."""

    carrier = forms.ChoiceField(choices=[], label=_("Carrier"))
    carrier_name = forms.CharField(max_length=200, required=False, label=_("Carrier name (if other)"))
    tracking_number = forms.CharField(max_length=200, label=_("Tracking number"))

    def __init__(self, *args, pack: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "—"), *carrier_choices()]
        if pack:
            self.fields["weight_kg"] = forms.DecimalField(
                min_value=Decimal("0.001"),
                max_value=Decimal("99999"),
                max_digits=8,
                decimal_places=3,
                label=_("Weight (kg)"),
            )
            self.fields["package_type"] = forms.ChoiceField(
                choices=[(k, v[0]) for k, v in PACKAGE_TYPES.items()], label=_("Package")
            )

    def clean_tracking_number(self):
        try:
            return tracking_number_clean(self.cleaned_data["tracking_number"])
        except ExternalLabelError as exc:
            raise forms.ValidationError(str(exc))

    def clean(self):
        data = super().clean()
        if "carrier" in data:
            try:
                data["carrier_obj"], data["carrier_name"] = carrier_resolve(data["carrier"], data.get("carrier_name"))
            except ExternalLabelError as exc:
                self.add_error(exc.field or None, str(exc))
        return data
