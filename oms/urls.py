from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reports:dashboard", permanent=False), name="dashboard"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("orders/", include("orders.urls")),
    path("inventory/", include("inventory.urls")),
    path("fulfillment/", include("fulfillment.urls")),
    path("logistics/", include("logistics.urls")),
    path("", include("logistics.public_urls")),
    path("", include("orders.public_urls")),
    path("api/", include("oms.api_urls")),
    path("reports/", include("reports.urls")),
    path("imports/", include("oms.import_urls")),
]
