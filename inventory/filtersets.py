import django_filters
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import (
    HandlingClass,
    Location,
    LocationKind,
    MovementKind,
    Product,
    ReasonCode,
    Stock,
    StockMovement,
    StockRule,
    Transfer,
    TransferStatus,
)


class StockFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="icontains", label="SKU")
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), label=_("Location"))
    handling_class = django_filters.ChoiceFilter(
        field_name="product__handling_class", choices=HandlingClass.choices, label=_("Handling")
    )
    low = django_filters.NumberFilter(method="available_below", label=_("Available below"))

    class Meta:
        model = Stock
        fields = ["sku", "location", "handling_class", "low"]

    def available_below(self, queryset, name, value):
        return queryset.filter(available__lt=value)


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    handling_class = django_filters.ChoiceFilter(choices=HandlingClass.choices, label=_("Handling"))
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Product
        fields = ["q", "handling_class", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(sku__icontains=value) | queryset.filter(name__icontains=value)


class LocationFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=LocationKind.choices, label=_("Kind"))
    active = django_filters.BooleanFilter(label=_("Active"))
    cold_chain = django_filters.BooleanFilter(label=_("Cold chain"))

    class Meta:
        model = Location
        fields = ["kind", "active", "cold_chain"]


class MovementFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="iexact", label="SKU")
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), label=_("Location"))
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices, label=_("Kind"))
    reason_code = django_filters.ChoiceFilter(choices=ReasonCode.choices, label=_("Reason code"))
    reference = django_filters.CharFilter(lookup_expr="iexact", label=_("Reference"))
    since = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From date"))
    until = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To date"))

    class Meta:
        model = StockMovement
        fields = ["sku", "location", "kind", "reason_code", "reference", "since", "until"]


class TransferFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices, label=_("Status"))
    from_location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), label=pgettext_lazy("transfer", "From")
    )
    to_location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), label=pgettext_lazy("transfer", "To")
    )
    sku = django_filters.CharFilter(field_name="lines__product__sku", lookup_expr="iexact", label="SKU", distinct=True)

    class Meta:
        model = Transfer
        fields = ["status", "from_location", "to_location", "sku"]


class StockRuleFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="icontains", label="SKU")
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all(), label=_("Location"))

    class Meta:
        model = StockRule
        fields = ["sku", "location"]
