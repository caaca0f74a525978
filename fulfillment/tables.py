import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from oms.tables import BaseTable, StatusColumn

from .models import PickList, Shipment

# Column headers are named here (not taken from the model fields) so that they go through gettext
# without giving the models verbose names, which would mean migrations.


class ShipmentTable(BaseTable):
    number = tables.LinkColumn("fulfillment:shipment_detail", args=[tables.A("number")], verbose_name=_("Shipment"))
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name=_("Order")
    )
    location = tables.Column(accessor="location__code", verbose_name=_("From"))
    status = StatusColumn(verbose_name=_("Status"))
    picklist = tables.Column(verbose_name=_("Pick list"))
    weight_g = tables.Column(verbose_name=_("Weight (g)"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Created at"))
    shipped_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Shipped at"))

    class Meta(BaseTable.Meta):
        model = Shipment
        fields = ["number", "order", "location", "status", "picklist", "weight_g", "created_at", "shipped_at"]


class PickListTable(BaseTable):
    number = tables.LinkColumn("fulfillment:picklist_detail", args=[tables.A("pk")], verbose_name=_("Pick list"))
    location = tables.Column(accessor="location__code", verbose_name=_("Location"))
    status = tables.Column(verbose_name=_("Status"))
    shipment_count = tables.Column(verbose_name=_("Shipments"))
    created_by = tables.Column(verbose_name=_("Created by"))
    pdf = tables.TemplateColumn(
        '<a class="btn" href="{% url \'fulfillment:picklist_pdf\' record.pk %}">PDF</a>',
        orderable=False,
        verbose_name="",
    )
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Created at"))

    class Meta(BaseTable.Meta):
        model = PickList
        fields = ["number", "location", "status", "shipment_count", "created_by", "created_at", "pdf"]
