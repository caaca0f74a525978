import django_filters
from django import forms

from inventory.models import Location

from .models import Channel, InboundMessage, Order
from .selectors import order_search
from .status import HoldReason, OrderStatus


class OrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        widget=forms.TextInput(attrs={"placeholder": "Number, name, phone, e-mail, tracking"}),
    )
    status = django_filters.MultipleChoiceFilter(choices=OrderStatus.choices, widget=forms.CheckboxSelectMultiple)
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all())
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), method="by_location", label="Location")
    on_hold = django_filters.BooleanFilter()
    hold_reason = django_filters.ChoiceFilter(choices=HoldReason.choices, method="by_hold_reason", label="Hold reason")
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Order
        fields = ["q", "status", "channel", "location", "on_hold", "hold_reason", "created_after", "created_before"]

    def search(self, queryset, name, value):
        return order_search(queryset, value)

    def by_location(self, queryset, name, value):
        return queryset.filter(shipments__location=value).distinct()

    def by_hold_reason(self, queryset, name, value):
        return queryset.filter(holds__reason=value, holds__released_at__isnull=True).distinct()


class InboundFilterSet(django_filters.FilterSet):
    class Meta:
        model = InboundMessage
        fields = ["channel", "source", "status"]
