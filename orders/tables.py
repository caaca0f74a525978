import django_tables2 as tables

from oms.tables import BaseTable, StatusColumn

from .models import InboundMessage, Order


class OrderTable(BaseTable):
    number = tables.LinkColumn("orders:order_detail", args=[tables.A("number")], verbose_name="Order")
    channel = tables.Column(accessor="channel__name", verbose_name="Channel", order_by="channel__name")
    external_id = tables.Column(verbose_name="External id")
    ship_name = tables.Column(verbose_name="Recipient")
    ship_city = tables.Column(verbose_name="City")
    status = StatusColumn()
    on_hold = tables.BooleanColumn(verbose_name="Hold", yesno="⏸,")
    total = tables.Column(attrs={"td": {"class": "num"}})
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name="Received")

    class Meta(BaseTable.Meta):
        model = Order
        fields = [
            "number",
            "channel",
            "external_id",
            "ship_name",
            "ship_city",
            "status",
            "on_hold",
            "priority",
            "total",
            "currency",
            "created_at",
        ]


class InboundTable(BaseTable):
    id = tables.LinkColumn("orders:inbound_detail", args=[tables.A("pk")], verbose_name="#")
    status = StatusColumn()
    received_at = tables.DateTimeColumn(format="Y-m-d H:i:s")
    error = tables.Column(attrs={"td": {"class": "wrap"}})

    class Meta(BaseTable.Meta):
        model = InboundMessage
        fields = ["id", "received_at", "channel", "source", "filename", "status", "attempts", "error"]
