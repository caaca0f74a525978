import django_tables2 as tables

from oms.tables import BaseTable, StatusColumn

from .models import PickList, Shipment


class ShipmentTable(BaseTable):
    number = tables.LinkColumn("fulfillment:shipment_detail", args=[tables.A("number")], verbose_name="Shipment")
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name="Order"
    )
    location = tables.Column(accessor="location__code", verbose_name="From")
    status = StatusColumn()
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")
    shipped_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        model = Shipment
        fields = ["number", "order", "location", "status", "picklist", "weight_g", "created_at", "shipped_at"]


class PickListTable(BaseTable):
    number = tables.LinkColumn("fulfillment:picklist_detail", args=[tables.A("pk")], verbose_name="Pick list")
    location = tables.Column(accessor="location__code")
    shipment_count = tables.Column(verbose_name="Shipments")
    pdf = tables.TemplateColumn(
        '<a class="btn" href="{% url \'fulfillment:picklist_pdf\' record.pk %}">PDF</a>',
        orderable=False,
        verbose_name="",
    )
    created_at = tables.DateTimeColumn(format="Y-m-d H:i")

    class Meta(BaseTable.Meta):
        model = PickList
        fields = ["number", "location", "status", "shipment_count", "created_by", "created_at", "pdf"]
