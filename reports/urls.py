from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.catalogue_view, name="catalogue"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("kpi/<slug:slug>/", views.kpi_view, name="kpi"),
    path("kpi/<slug:slug>/list/<slug:part>/", views.drilldown_view, name="drilldown"),
    path("saved/", views.saved_list, name="saved_list"),
    path("saved/new/", views.saved_create, name="saved_create"),
    path("saved/<int:pk>/", views.saved_detail, name="saved_detail"),
    path("saved/<int:pk>/delete/", views.saved_delete, name="saved_delete"),
    path("saved/<int:pk>/schedules/new/", views.schedule_create, name="schedule_create"),
    path("schedules/<int:pk>/delete/", views.schedule_delete, name="schedule_delete"),
    path("forecast/", views.forecast_view, name="forecast"),
]
