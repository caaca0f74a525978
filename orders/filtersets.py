import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Location

from .models import Channel, InboundMessage, Order
from .selectors import may_see_contact, order_search
from .status import HoldReason, OrderStatus


class OrderFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"placeholder": _("Number, name, phone, e-mail, tracking")}),
    )
    status = django_filters.MultipleChoiceFilter(
        choices=OrderStatus.choices, widget=forms.CheckboxSelectMultiple, label=_("Status")
    )
    channel = django_filters.ModelChoiceFilter(queryset=Channel.objects.all(), label=_("Channel"))
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.all(), method="by_location", label=_("Location")
    )
    on_hold = django_filters.BooleanFilter(
        widget=forms.Select(choices=[("", _("Any")), ("true", _("On hold")), ("false", _("Not on hold"))]),
        label=_("On hold"),
    )
    hold_reason = django_filters.ChoiceFilter(
        choices=HoldReason.choices, method="by_hold_reason", label=_("Hold reason")
    )
    tag = django_filters.CharFilter(
        method="by_tag", label=_("Tag"), widget=forms.TextInput(attrs={"placeholder": "fresh"})
    )
    created_after = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__gte",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )
    # Used by the reports' drill-down links (reports/kpis): province, SKU, carrier and promise date.
    province = django_filters.CharFilter(field_name="ship_province", label=_("Province"))
    sku = django_filters.CharFilter(method="by_sku", label="SKU")
    carrier = django_filters.NumberFilter(method="by_carrier", label=_("Carrier"), widget=forms.HiddenInput)
    promise_after = django_filters.DateFilter(
        field_name="promise_date",
        lookup_expr="gte",
        label=_("Promised from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    promise_before = django_filters.DateFilter(
        field_name="promise_date",
        lookup_expr="lte",
        label=_("Promised by"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Order
        fields = [
            "q",
            "status",
            "channel",
            "location",
            "on_hold",
            "hold_reason",
            "tag",
            "created_after",
            "created_before",
            "province",
            "sku",
            "carrier",
            "promise_after",
            "promise_before",
        ]

    def search(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        return order_search(queryset, value, contact=user is None or may_see_contact(user))

    def by_location(self, queryset, name, value):
        return queryset.filter(shipments__location=value).distinct()

    def by_sku(self, queryset, name, value):
        return queryset.filter(lines__sku=value.strip()).distinct()

    def by_carrier(self, queryset, name, value):
        # A query through the reverse relation, not an import: orders sit below logistics.
        return queryset.filter(shipments__parcels__service__carrier_id=value).distinct()

    def by_tag(self, queryset, name, value):
        return queryset.tagged(value) if value.strip() else queryset

    def by_hold_reason(self, queryset, name, value):
        return queryset.filter(holds__reason=value, holds__released_at__isnull=True).distinct()


def relabel(filterset, labels: dict) -> None:
    """Labels of the filters generated from model fields (the fields have no verbose names: no migrations)."""
    for name, label in labels.items():
        filterset.filters[name].label = label


class InboundFilterSet(django_filters.FilterSet):
    class Meta:
        model = InboundMessage
        fields = ["channel", "source", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        relabel(self, {"channel": _("Channel"), "source": _("Source"), "status": _("Status")})


class ChannelFilterSet(django_filters.FilterSet):
    class Meta:
        model = Channel
        fields = ["kind", "platform", "stock_policy", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        relabel(
            self,
            {"kind": _("Kind"), "platform": _("Platform"), "stock_policy": _("Stock policy"), "active": _("Active")},
        )
