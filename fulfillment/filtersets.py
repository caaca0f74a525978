import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Location
from orders.models import Channel

from .models import PickList, Shipment
from .status import PickListStatus, ShipmentStatus


class ShipmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=ShipmentStatus.choices, label=_("Status"))
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), label=_("Location"))
    # Used by the reports' drill-down links (reports/kpis): the order's channel and received day,
    # the shipping day and the carrier of the shipment's parcel.
    channel = django_filters.ModelChoiceFilter(
        field_name="order__channel", queryset=Channel.objects.all(), label=_("Channel")
    )
    received_after = django_filters.DateFilter(
        field_name="order__created_at",
        lookup_expr="date__gte",
        label=_("Order received from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        field_name="order__created_at",
        lookup_expr="date__lte",
        label=_("Order received to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    shipped_after = django_filters.DateFilter(
        field_name="shipped_at",
        lookup_expr="date__gte",
        label=_("Shipped from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    shipped_before = django_filters.DateFilter(
        field_name="shipped_at",
        lookup_expr="date__lte",
        label=_("Shipped to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    carrier = django_filters.NumberFilter(method="by_carrier", label=_("Carrier"), widget=forms.HiddenInput)

    class Meta:
        model = Shipment
        fields = [
            "q",
            "status",
            "location",
            "channel",
            "received_after",
            "received_before",
            "shipped_after",
            "shipped_before",
            "carrier",
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
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), label=_("Location"))
    status = django_filters.ChoiceFilter(choices=PickListStatus.choices, label=_("Status"))

    class Meta:
        model = PickList
        fields = ["location", "status"]
