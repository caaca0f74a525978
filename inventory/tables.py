import django_tables2 as tables

from oms.tables import BaseTable, StatusColumn

from .models import Location, Product, Stock, StockMovement, StockRule, Transfer


class StockTable(BaseTable):
    location = tables.Column(accessor="location__code", order_by="location__code")
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    product = tables.Column(accessor="product__name", order_by="product__name")
    on_hand = tables.Column(attrs={"td": {"class": "num"}})
    reserved = tables.Column(attrs={"td": {"class": "num"}})
    available = tables.Column(attrs={"td": {"class": "num"}})

    class Meta(BaseTable.Meta):
        model = Stock
        fields = ["location", "sku", "product", "bin", "on_hand", "reserved", "available", "updated_at"]


class ProductTable(BaseTable):
    sku = tables.LinkColumn("inventory:product_detail", args=[tables.A("sku")], verbose_name="SKU")

    class Meta(BaseTable.Meta):
        model = Product
        fields = ["sku", "name", "handling_class", "weight_g", "price", "active"]


class LocationTable(BaseTable):
    bins = tables.LinkColumn(
        "inventory:location_bins", args=[tables.A("code")], text="Bins", orderable=False, empty_values=()
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
    created_at = tables.DateTimeColumn(format="Y-m-d H:i:s", verbose_name="When")
    location = tables.Column(accessor="location__code", order_by="location__code")
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    kind = tables.Column()
    reason_code = tables.Column(verbose_name="Reason code")
    on_hand_delta = tables.Column(verbose_name="On hand ±", attrs={"td": {"class": "num"}})
    reserved_delta = tables.Column(verbose_name="Reserved ±", attrs={"td": {"class": "num"}})
    reason = tables.Column(attrs={"td": {"class": "wrap"}})
    user = tables.Column(default="system")

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
    number = tables.LinkColumn("inventory:transfer_detail", args=[tables.A("number")], verbose_name="Transfer")
    from_location = tables.Column(accessor="from_location__code", verbose_name="From")
    to_location = tables.Column(accessor="to_location__code", verbose_name="To")
    status = StatusColumn()
    line_count = tables.Column(verbose_name="Lines", attrs={"td": {"class": "num"}}, orderable=False)
    units = tables.Column(attrs={"td": {"class": "num"}}, orderable=False)
    dispatched_at = tables.DateTimeColumn(format="Y-m-d H:i")
    received_at = tables.DateTimeColumn(format="Y-m-d H:i")

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
    location = tables.Column(accessor="location__code", order_by="location__code")
    sku = tables.Column(accessor="product__sku", order_by="product__sku", verbose_name="SKU")
    safety_stock = tables.Column(attrs={"td": {"class": "num"}})
    low_stock_threshold = tables.Column(verbose_name="Low at", attrs={"td": {"class": "num"}})
    min_days_of_cover = tables.Column(verbose_name="Min days of cover", attrs={"td": {"class": "num"}})

    class Meta(BaseTable.Meta):
        model = StockRule
        fields = ["location", "sku", "safety_stock", "low_stock_threshold", "min_days_of_cover"]
