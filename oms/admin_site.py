"""The admin site in the reader's language (issue 17). Django translates its own admin; the names of our
apps and models come from their AppConfig and the models' verbose names, which are not marked for
translation (marking a model's name would mean a migration in every app): the site translates them when it
lists them, from the msgids below. A model registered in the admin needs its plural name here (the Chinese
pages test renders /admin/ and fails on an English name)."""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

NAMES = (
    # apps
    gettext_noop("OMS"),
    gettext_noop("Inventory"),
    gettext_noop("Orders"),
    gettext_noop("Logistics"),
    gettext_noop("Channel connectors"),
    # models, as the admin lists them (capitalised plural names)
    gettext_noop("Api tokens"),
    gettext_noop("Locations"),
    gettext_noop("Products"),
    gettext_noop("Stock rules"),
    gettext_noop("Channels"),
    gettext_noop("Customers"),
    gettext_noop("Carriers"),
    gettext_noop("Rate card rows"),
    gettext_noop("Tracking sources"),
    gettext_noop("Channel connections"),
)
# Texts of Django's admin templates that its zh_Hans catalogue lacks (hidden table headers).
DJANGO_GAPS = (
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Model name"),
)


class OmsAdminSite(AdminSite):
    site_header = _("OMS administration")
    site_title = _("OMS administration")
    index_title = _("Site administration")

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["name"] = gettext(str(app["name"]))
            for model in app["models"]:
                model["name"] = gettext(str(model["name"]))
        return app_list


class OmsAdminConfig(AdminConfig):
    default_site = "oms.admin_site.OmsAdminSite"
