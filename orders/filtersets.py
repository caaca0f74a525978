import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import Location

from .models import Channel, InboundMessage, Order
from .selectors import in_merge_group, may_see_contact, order_search, orders_tagged, tag_query_values
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
    memo = django_filters.ChoiceFilter(
        method="by_memo",
        label=_("Memo"),
        choices=[
            ("buyer", _("With a buyer message")),
            ("seller", _("With a seller memo")),
            ("flag", _("Flagged")),
            ("none", _("Neither message nor memo")),
        ],
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
    merged = django_filters.BooleanFilter(  # 自动合单: in a live merge group
        method="by_merged",
        label=_("Merged"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Merged")), ("false", _("Not merged"))]),
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
            "memo",
            "created_after",
            "created_before",
            "province",
            "sku",
            "carrier",
            "promise_after",
            "promise_before",
            "merged",
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
        """Orders with every tag given (comma-separated), rule-made or manual."""
        return orders_tagged(queryset, tag_query_values([value]))

    def by_memo(self, queryset, name, value):
        if value == "buyer":
            return queryset.exclude(buyer_message="")
        if value == "seller":
            return queryset.exclude(seller_memo="")
        if value == "flag":
            return queryset.exclude(seller_flag="")
        return queryset.filter(buyer_message="", seller_memo="")

    def by_merged(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(in_merge_group()) if value else queryset.exclude(in_merge_group())

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
