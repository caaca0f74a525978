from django.urls import path

from . import api

urlpatterns = [path("stock/", api.stock_collection, name="api_stock")]
