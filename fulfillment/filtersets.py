import django_filters

from inventory.models import Location

from .models import PickList, Shipment
from .status import ShipmentStatus


class ShipmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ShipmentStatus.choices)
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())

    class Meta:
        model = Shipment
        fields = ["q", "status", "location"]

    def search(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(number__iexact=value)
            | queryset.filter(order__number__iexact=value)
            | queryset.filter(parcels__tracking_number__iexact=value)
        )


class PickListFilterSet(django_filters.FilterSet):
    class Meta:
        model = PickList
        fields = ["location", "status"]
