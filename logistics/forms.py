from django import forms
from django.utils import timezone

from .status import TrackingStatus


class TrackingEventForm(forms.Form):
    tracking_number = forms.CharField(max_length=40)
    # "unknown" is what an unreadable carrier code becomes; a person records what they know.
    status = forms.ChoiceField(choices=[c for c in TrackingStatus.choices if c[0] != TrackingStatus.UNKNOWN])
    occurred_at = forms.DateTimeField(
        initial=timezone.now, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    location = forms.CharField(max_length=120, required=False)
    description = forms.CharField(max_length=255, required=False)


class TrackLookupForm(forms.Form):
    number = forms.CharField(max_length=20, label="Order number")
    contact = forms.CharField(max_length=120, label="E-mail or last 4 digits of phone")
