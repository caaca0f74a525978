from django import forms
from django.utils import timezone

from orders.intake.canonical import EARLIEST_DAY, LATEST_DAY

from .status import TrackingStatus


class TrackingEventForm(forms.Form):
    tracking_number = forms.CharField(max_length=40)
    status = forms.ChoiceField(choices=TrackingStatus.choices)
    occurred_at = forms.DateTimeField(
        initial=timezone.now, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    location = forms.CharField(max_length=120, required=False)
    description = forms.CharField(max_length=255, required=False)

    def clean_occurred_at(self):
        # Year 1 or 9999 is a typo, and converting it to UTC would overflow.
        value = self.cleaned_data["occurred_at"]
        if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
            raise forms.ValidationError(f"must be between {EARLIEST_DAY} and {LATEST_DAY}.")
        return value


class TrackLookupForm(forms.Form):
    number = forms.CharField(max_length=20, label="Order number")
    contact = forms.CharField(max_length=120, label="E-mail or last 4 digits of phone")
