from django import forms

from inventory.models import Location


class PickListCreateForm(forms.Form):
    location = forms.ModelChoiceField(queryset=Location.objects.filter(active=True))
    limit = forms.IntegerField(min_value=1, max_value=500, initial=50, label="Up to (shipments)")


class PackForm(forms.Form):
    weight_kg = forms.DecimalField(min_value=0.001, max_digits=8, decimal_places=3, label="Weight (kg)")
