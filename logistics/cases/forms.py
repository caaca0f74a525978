"""Input shapes for the case pages; the rules live in the services."""

from django import forms
from django.contrib.auth import get_user_model

from .types import CaseStatus, CaseType, ClaimStatus, CompensationForm, RootCause, Severity

WORKING_STATUSES = [(v, label) for v, label in CaseStatus.choices if v != CaseStatus.RESOLVED]


class CaseOpenForm(forms.Form):
    case_type = forms.ChoiceField(choices=CaseType.choices, label="Type")
    summary = forms.CharField(max_length=255)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True).order_by("username"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=WORKING_STATUSES)
    note = forms.CharField(max_length=255, required=False)


class ResolveForm(forms.Form):
    root_cause = forms.ChoiceField(choices=[("", "—")] + list(RootCause.choices))
    resolution = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class ReshipForm(forms.Form):
    reason = forms.CharField(max_length=200)


class AmountForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    reason = forms.CharField(max_length=255, required=False, label="Note")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (empty when nothing was chosen and it is optional)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError("Choose a file.")
            return []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


EVIDENCE_ACCEPT = ".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"
EVIDENCE_HELP = "Photos (JPG, PNG, WebP) or PDF, 10 MB each at most."


class ClaimForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    carrier_reference = forms.CharField(max_length=64, required=False)
    files = MultipleFileField(required=False, label="Evidence files", help_text=EVIDENCE_HELP)


class EvidenceForm(forms.Form):
    files = MultipleFileField(label="Add evidence", help_text=EVIDENCE_HELP)


class ClaimUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in ClaimStatus.choices if c[0] != ClaimStatus.FILED])
    settled_amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False)
    note = forms.CharField(max_length=255, required=False)


class CompensationForm_(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    form = forms.ChoiceField(choices=CompensationForm.choices)
    note = forms.CharField(max_length=255, required=False)


class AddressForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    phone = forms.CharField(max_length=32, required=False)
    province = forms.CharField(max_length=64, required=False)
    city = forms.CharField(max_length=64, required=False)
    district = forms.CharField(max_length=64, required=False)
    address1 = forms.CharField(max_length=255, required=False, label="Address")
    address2 = forms.CharField(max_length=255, required=False, label="Address 2")
    postcode = forms.CharField(max_length=16, required=False)
    note = forms.CharField(max_length=255, required=False)


class RedeliveryForm(forms.Form):
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(max_length=255, required=False)


class ContactForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label="Message")


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class PlaybookForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    due_hours = forms.IntegerField(min_value=1, max_value=24 * 30)
    threshold_hours = forms.IntegerField(
        min_value=0,
        max_value=24 * 60,
        required=False,
        help_text="Time-based rules only: how long before it becomes a case.",
    )
    steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    notify_customer = forms.BooleanField(required=False, label="Tell the customer when a case opens")
    customer_subject = forms.CharField(max_length=200, required=False)
    customer_body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Placeholders: {first_name} {order_number} {tracking_url} "
        "{expected_date} {tracking_number} {case_number}",
    )
    customer_subject_zh = forms.CharField(max_length=200, required=False, label="Customer subject (Chinese)")
    customer_body_zh = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label="Customer body (Chinese)",
        help_text="Sent to customers who read Chinese; empty: the built-in Chinese text.",
    )
