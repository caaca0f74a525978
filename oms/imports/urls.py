from django.urls import path

from . import views as import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.import_list, name="list"),
    path("new/", import_views.import_new, name="new"),
    path("template/<slug:kind>.csv", import_views.import_template, name="template"),
    path("<int:pk>/", import_views.import_detail, name="detail"),
    path("<int:pk>/columns/", import_views.import_mapping, name="mapping"),
    path("<int:pk>/progress/", import_views.import_progress, name="progress"),
    path("<int:pk>/confirm/", import_views.import_confirm, name="confirm"),
    path("<int:pk>/rejected.csv", import_views.import_rejected, name="rejected"),
]
