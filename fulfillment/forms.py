from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Location

from .packing import PACKAGE_TYPES


class PickListCreateForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.filter(active=True), label=_("Location"))
    limit = forms.IntegerField(min_value=1, max_value=500, initial=50, label=_("Up to (shipments)"))


class PackForm(forms.Form):
    weight_kg = forms.DecimalField(min_value=0.001, max_digits=8, decimal_places=3, label=_("Weight (kg)"))


class WaveForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.filter(active=True), label=_("Location"))
    carrier = forms.CharField(
        max_length=32, required=False, label=_("Carrier"), help_text=_("Planned carrier code, e.g. local, sf.")
    )
    zone = forms.CharField(max_length=32, required=False, label=_("Zone"), help_text=_("Pick zone, e.g. A."))
    cutoff_by = forms.TimeField(
        required=False,
        label=_("Cut-off by"),
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Only shipments whose carrier pickup is at or before this time."),
    )
    priority_max = forms.IntegerField(
        min_value=1, max_value=9, required=False, label=_("Priority up to"), help_text=_("1 is most urgent.")
    )
    max_orders = forms.IntegerField(min_value=1, max_value=500, initial=50, label=_("Max orders"))
    max_lines = forms.IntegerField(min_value=1, max_value=5000, initial=200, label=_("Max lines"))


class PackScanForm(forms.Form):
    code = forms.CharField(max_length=64, label=_("Code"))


class PackCompleteForm(forms.Form):
    weight_kg = forms.DecimalField(min_value=0.001, max_digits=8, decimal_places=3, label=_("Weight (kg)"))
    package_type = forms.ChoiceField(choices=[], label=_("Package"))
    label_size = forms.ChoiceField(
        choices=[("4x6", _("4x6 in PDF")), ("a6", "A6 PDF"), ("zpl", "4x6 ZPL")], initial="4x6", label=_("Label")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package_type"].choices = [(k, v[0]) for k, v in PACKAGE_TYPES.items()]
