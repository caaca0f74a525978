from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import background_views, language, views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reports:dashboard", permanent=False), name="dashboard"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("background/", background_views.background_work, name="background"),
    path("background/sweep/", background_views.background_sweep, name="background_sweep"),
    path("background/failures/<int:pk>/", background_views.background_failure, name="background_failure"),
    path("background/probes/<slug:key>/", background_views.background_probe, name="background_probe"),
    path("background/outbox/<int:pk>/", background_views.background_outbox, name="background_outbox"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/", language.language_set, name="language_set"),
    path("admin/", admin.site.urls),
    path("orders/", include("workflows.urls.orders")),  # orders.urls + the workflow verbs
    path("inventory/", include("workflows.urls.inventory")),  # inventory.urls + the receipt action
    path("fulfillment/", include("fulfillment.urls")),
    path("logistics/", include("workflows.urls.logistics")),  # logistics.urls + the workflow verbs
    path("", include("workflows.urls.public")),  # logistics.public_urls + the workflow verbs
    path("", include("orders.urls.public")),
    path("api/", include("oms.api_urls")),
    path("connectors/", include("connectors.urls")),
    path("reports/", include("reports.urls")),
    path("imports/", include("oms.imports.urls")),
]
