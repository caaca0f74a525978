from oms.views import ObjectListView

from . import selectors
from .filtersets import LocationFilterSet, ProductFilterSet, StockFilterSet
from .models import Location, Product
from .tables import LocationTable, ProductTable, StockTable


class StockListView(ObjectListView):
    permission_required = "inventory.view_stock"
    queryset = selectors.stock_list()
    filterset_class = StockFilterSet
    table_class = StockTable
    title = "Stock"


class ProductListView(ObjectListView):
    permission_required = "inventory.view_product"
    queryset = Product.objects.all()
    filterset_class = ProductFilterSet
    table_class = ProductTable
    title = "Products"


class LocationListView(ObjectListView):
    permission_required = "inventory.view_location"
    queryset = Location.objects.all()
    filterset_class = LocationFilterSet
    table_class = LocationTable
    title = "Locations"
