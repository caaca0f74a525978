from django import forms

from inventory.models import Location

from .packing import PACKAGE_TYPES


class PickListCreateForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.filter(active=True))
    limit = forms.IntegerField(min_value=1, max_value=500, initial=50, label="Up to (shipments)")


class PackForm(forms.Form):
    weight_kg = forms.DecimalField(min_value=0.001, max_digits=8, decimal_places=3, label="Weight (kg)")


class WaveForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.filter(active=True))
    carrier = forms.CharField(max_length=32, required=False, help_text="Planned carrier code, e.g. local, sf.")
    zone = forms.CharField(max_length=32, required=False, help_text="Pick zone, e.g. A.")
    cutoff_by = forms.TimeField(
        required=False, label="Cut-off by", widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Only shipments whose carrier pickup is at or before this time.",
    )
    priority_max = forms.IntegerField(min_value=1, max_value=9, required=False, label="Priority up to",
                                      help_text="1 is most urgent.")
    max_orders = forms.IntegerField(min_value=1, max_value=500, initial=50, label="Max orders")
    max_lines = forms.IntegerField(min_value=1, max_value=5000, initial=200, label="Max lines")


class PackScanForm(forms.Form):
    code = forms.CharField(max_length=64)


class PackCompleteForm(forms.Form):
    weight_kg = forms.DecimalField(min_value=0.001, max_digits=8, decimal_places=3, label="Weight (kg)")
    package_type = forms.ChoiceField(choices=[], label="Package")
    label_size = forms.ChoiceField(choices=[("4x6", "4x6 in PDF"), ("a6", "A6 PDF"), ("zpl", "4x6 ZPL")],
                                   initial="4x6", label="Label")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package_type"].choices = [(k, v[0]) for k, v in PACKAGE_TYPES.items()]
