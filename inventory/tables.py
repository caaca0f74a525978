import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from oms.tables import BaseTable, StatusColumn

from .models import Location, Product, Stock, StockMovement, StockRule, Transfer

# Column headers are named here (not taken from the model fields) so that they go through gettext
# without giving the models verbose names, which would mean migrations.
NUM = {"td": {"class": "num"}}


class StockTable(BaseTable):
    location = tables.Column(accessor="location__code", order_by="location__code", verbose_name=_("Location"))
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    product = tables.Column(accessor="product__name", order_by="product__name", verbose_name=_("Product"))
    bin = tables.Column(verbose_name=_("Bin"))
    on_hand = tables.Column(attrs=NUM, verbose_name=_("On hand"))
    reserved = tables.Column(attrs=NUM, verbose_name=_("Reserved"))
    available = tables.Column(attrs=NUM, verbose_name=_("Available"))
    updated_at = tables.DateTimeColumn(verbose_name=_("Updated at"))

    class Meta(BaseTable.Meta):
        model = Stock
        fields = ["location", "sku", "product", "bin", "on_hand", "reserved", "available", "updated_at"]


class ProductTable(BaseTable):
    sku = tables.LinkColumn("inventory:product_detail", args=[tables.A("sku")], verbose_name="SKU")
    name = tables.Column(verbose_name=_("Name"))
    handling_class = tables.Column(verbose_name=_("Handling"))
    weight_g = tables.Column(verbose_name=_("Weight (g)"))
    price = tables.Column(verbose_name=_("Price"))
    active = tables.BooleanColumn(verbose_name=_("Active"))

    class Meta(BaseTable.Meta):
        model = Product
        fields = ["sku", "name", "handling_class", "weight_g", "price", "active"]


class LocationTable(BaseTable):
    code = tables.Column(verbose_name=_("Code"))
    name = tables.Column(verbose_name=_("Name"))
    kind = tables.Column(verbose_name=_("Kind"))
    city = tables.Column(verbose_name=_("City"))
    province = tables.Column(verbose_name=_("Province"))
    cold_chain = tables.BooleanColumn(verbose_name=_("Cold chain"))
    handles_bulky = tables.BooleanColumn(verbose_name=_("Handles bulky"))
    daily_capacity = tables.Column(verbose_name=_("Daily capacity"))
    active = tables.BooleanColumn(verbose_name=_("Active"))
    bins = tables.LinkColumn(
        "inventory:location_bins",
        args=[tables.A("code")],
        text=_("Bins"),
        orderable=False,
        empty_values=(),
        verbose_name=_("Bins"),
    )

    class Meta(BaseTable.Meta):
        model = Location
        fields = [
            "code",
            "name",
            "kind",
            "city",
            "province",
            "cold_chain",
            "handles_bulky",
            "daily_capacity",
            "active",
            "bins",
        ]


class MovementTable(BaseTable):
    created_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name=_("When"))
    location = tables.Column(accessor="location__code", order_by="location__code", verbose_name=_("Location"))
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    kind = tables.Column(verbose_name=_("Kind"))
    reason_code = tables.Column(verbose_name=_("Reason code"))
    on_hand_delta = tables.Column(verbose_name=_("On hand ±"), attrs=NUM)
    reserved_delta = tables.Column(verbose_name=_("Reserved ±"), attrs=NUM)
    reference = tables.Column(verbose_name=_("Reference"))
    reason = tables.Column(attrs={"td": {"class": "wrap"}}, verbose_name=_("Reason"))
    user = tables.Column(default=_("system"), verbose_name=_("User"))

    class Meta(BaseTable.Meta):
        model = StockMovement
        fields = [
            "created_at",
            "location",
            "sku",
            "kind",
            "reason_code",
            "on_hand_delta",
            "reserved_delta",
            "reference",
            "reason",
            "user",
        ]


class TransferTable(BaseTable):
    number = tables.LinkColumn("inventory:transfer_detail", args=[tables.A("number")], verbose_name=_("Transfer"))
    from_location = tables.Column(accessor="from_location__code", verbose_name=pgettext_lazy("transfer", "From"))
    to_location = tables.Column(accessor="to_location__code", verbose_name=pgettext_lazy("transfer", "To"))
    status = StatusColumn(verbose_name=_("Status"))
    line_count = tables.Column(verbose_name=_("Lines"), attrs=NUM, orderable=False)
    units = tables.Column(attrs=NUM, orderable=False, verbose_name=_("Units"))
    dispatched_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Dispatched at"))
    received_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Received at"))
    note = tables.Column(verbose_name=_("Note"))

    class Meta(BaseTable.Meta):
        model = Transfer
        fields = [
            "number",
            "from_location",
            "to_location",
            "status",
            "line_count",
            "units",
            "dispatched_at",
            "received_at",
            "note",
        ]


class StockRuleTable(BaseTable):
    location = tables.Column(accessor="location__code", order_by="location__code", verbose_name=_("Location"))
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    safety_stock = tables.Column(attrs=NUM, verbose_name=_("Safety stock"))
    low_stock_threshold = tables.Column(verbose_name=_("Low at"), attrs=NUM)
    min_days_of_cover = tables.Column(verbose_name=_("Min days of cover"), attrs=NUM)

    class Meta(BaseTable.Meta):
        model = StockRule
        fields = ["location", "sku", "safety_stock", "low_stock_threshold", "min_days_of_cover"]
