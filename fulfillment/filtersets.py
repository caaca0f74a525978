import django_filters
from django import forms

from inventory.models import Location
from orders.models import Channel

from .models import PickList, Shipment
from .status import ShipmentStatus


class ShipmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.MultipleChoiceFilter(choices=ShipmentStatus.choices)
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())
    # Used by the reports' drill-down links (reports/kpis): the order's channel and received day,
    # the shipping day and the carrier of the shipment's parcel.
    channel = django_filters.ModelChoiceFilter(field_name="order__channel", queryset=Channel.objects.all())
    received_after = django_filters.DateFilter(
        field_name="order__created_at", lookup_expr="date__gte", label="Order received from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        field_name="order__created_at", lookup_expr="date__lte", label="Order received to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    shipped_after = django_filters.DateFilter(
        field_name="shipped_at", lookup_expr="date__gte", label="Shipped from",
        widget=forms.DateInput(attrs={"type": "date"})
    )
    shipped_before = django_filters.DateFilter(
        field_name="shipped_at", lookup_expr="date__lte", label="Shipped to",
        widget=forms.DateInput(attrs={"type": "date"})
    )
    carrier = django_filters.NumberFilter(method="by_carrier", label="Carrier", widget=forms.HiddenInput)

    class Meta:
        model = Shipment
        fields = [
            "q", "status", "location", "channel", "received_after", "received_before", "shipped_after",
            "shipped_before", "carrier",
        ]

    def by_carrier(self, queryset, name, value):
        # A query through the reverse relation, not an import: fulfillment sits below logistics.
        return queryset.filter(parcels__service__carrier_id=value).distinct()

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
