from django.urls import include, path

from .api import schema_view

urlpatterns = [
    path("schema/", schema_view, name="api_schema"),
    path("v1/", include("workflows.urls.api")),  # the workflow verbs (orders' merge undo)
    path("v1/", include("orders.urls.api")),
    path("v1/", include("inventory.api_urls")),
    path("v1/", include("logistics.api_urls")),
    path("v1/", include("reports.api_urls")),
]
