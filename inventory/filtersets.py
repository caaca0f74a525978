import django_filters

from .models import HandlingClass, Location, Product, Stock


class StockFilterSet(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="product__sku", lookup_expr="icontains", label="SKU")
    location = django_filters.ModelChoiceFilter(queryset=Location.objects.all())
    handling_class = django_filters.ChoiceFilter(field_name="product__handling_class", choices=HandlingClass.choices)
    low = django_filters.NumberFilter(method="available_below", label="Available below")

    class Meta:
        model = Stock
        fields = ["sku", "location", "handling_class", "low"]

    def available_below(self, queryset, name, value):
        return queryset.filter(available__lt=value)


class ProductFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Product
        fields = ["q", "handling_class", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(sku__icontains=value) | queryset.filter(name__icontains=value)


class LocationFilterSet(django_filters.FilterSet):
    class Meta:
        model = Location
        fields = ["kind", "active", "cold_chain"]
