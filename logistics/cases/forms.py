"""Input shapes for the case pages; the rules live in the services."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .types import CaseStatus, CaseType, ClaimStatus, CompensationForm, RootCause, Severity

WORKING_STATUSES = [(v, label) for v, label in CaseStatus.choices if v != CaseStatus.RESOLVED]


class CaseOpenForm(forms.Form):
    case_type = forms.ChoiceField(choices=CaseType.choices, label=_("Type"))
    summary = forms.CharField(max_length=255, label=_("Summary"))


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"), label=_("Owner")
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=WORKING_STATUSES, label=_("Status"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class ResolveForm(forms.Form):
    root_cause = forms.ChoiceField(choices=[("", "—")] + list(RootCause.choices), label=_("Root cause"))
    resolution = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label=_("Resolution"))


class ReshipForm(forms.Form):
    reason = forms.CharField(max_length=200, label=_("Reason"))


class AmountForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label=_("Amount"))
    reason = forms.CharField(max_length=255, required=False, label=_("Note"))


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
                raise forms.ValidationError(_("Choose a file."))
            return []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


EVIDENCE_ACCEPT = ".jpg,.jpeg,.png,.webp,.pdf,image/jpeg,image/png,image/webp,application/pdf"
EVIDENCE_HELP = _("Photos (JPG, PNG, WebP) or PDF, 10 MB each at most.")


class ClaimForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label=_("Amount"))
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("Evidence"))
    carrier_reference = forms.CharField(max_length=64, required=False, label=_("Carrier reference"))
    files = MultipleFileField(required=False, label=_("Evidence files"), help_text=EVIDENCE_HELP)


class EvidenceForm(forms.Form):
    files = MultipleFileField(label=_("Add evidence"), help_text=EVIDENCE_HELP)


class ClaimUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=[c for c in ClaimStatus.choices if c[0] != ClaimStatus.FILED], label=_("Status"))
    settled_amount = forms.DecimalField(max_digits=12, decimal_places=2, required=False, label=_("Settled amount"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class CompensationForm_(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label=_("Amount"))
    form = forms.ChoiceField(choices=CompensationForm.choices, label=_("Form"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class AddressForm(forms.Form):
    name = forms.CharField(max_length=120, required=False, label=_("Name"))
    phone = forms.CharField(max_length=32, required=False, label=_("Phone"))
    province = forms.CharField(max_length=64, required=False, label=_("Province"))
    city = forms.CharField(max_length=64, required=False, label=_("City"))
    district = forms.CharField(max_length=64, required=False, label=_("District"))
    address1 = forms.CharField(max_length=255, required=False, label=_("Address"))
    address2 = forms.CharField(max_length=255, required=False, label=_("Address 2"))
    postcode = forms.CharField(max_length=16, required=False, label=_("Postcode"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class RedeliveryForm(forms.Form):
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label=_("Date"))
    note = forms.CharField(max_length=255, required=False, label=_("Note"))


class ContactForm(forms.Form):
    subject = forms.CharField(max_length=200, label=_("Subject"))
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label=_("Message"))


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note"))


PLACEHOLDERS = "{first_name} {order_number} {tracking_url} {expected_date} {tracking_number} {case_number}"


class PlaybookForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices, label=_("Severity"))
    due_hours = forms.IntegerField(min_value=1, max_value=24 * 30, label=_("Due within (hours)"))
    threshold_hours = forms.IntegerField(
        min_value=0,
        max_value=24 * 60,
        required=False,
        help_text=_("Time-based rules only: how long before it becomes a case."),
        label=_("Threshold (hours)"),
    )
    steps = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label=_("Steps"))
    notify_customer = forms.BooleanField(required=False, label=_("Tell the customer when a case opens"))
    customer_subject = forms.CharField(max_length=200, required=False, label=_("Customer subject"))
    customer_body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=format_lazy("{}: <code>{}</code>", _("Placeholders"), PLACEHOLDERS),
        label=_("Customer body"),
    )
    customer_subject_zh = forms.CharField(max_length=200, required=False, label=_("Customer subject (Chinese)"))
    customer_body_zh = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        label=_("Customer body (Chinese)"),
        help_text=_("Sent to customers who read Chinese; empty: the built-in Chinese text."),
    )
