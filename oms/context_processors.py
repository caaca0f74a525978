"""The left navigation, grouped by work, showing each role only what it may use."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

SETTINGS = _("Settings")

NAV = [
    (
        _("Orders"),
        [
            (_("Dashboard"), "reports:dashboard", None),
            (_("Orders"), "orders:order_list", "orders.view_order"),
            (_("New order"), "orders:order_create", "orders.add_order"),
            (_("Holds"), "orders:hold_queue", "orders.view_order"),
            (_("Order tags"), "orders:tag_list", "orders.view_order"),
            (_("Presale"), "orders:presale_queue", "orders.view_order"),
            (_("Intake monitor"), "orders:inbound_list", "orders.view_inboundmessage"),
            (_("Channels"), "orders:channel_list", "orders.view_channel"),
            (_("Customers"), "orders:customer_list", "orders.view_customer"),
            (_("Returns"), "orders:return_list", "orders.view_returnrequest"),
            (_("Customer messages"), "orders:notification_list", "orders.view_notification"),
            (_("Invoices"), "orders:invoice_queue", "orders.view_invoicerequest"),
            (_("Finance review"), "orders:finance_review", "orders.view_order"),
        ],
    ),
    (
        _("Inventory"),
        [
            (_("Stock"), "inventory:stock_list", "inventory.view_stock"),
            (_("Products"), "inventory:product_list", "inventory.view_product"),
            (_("Locations"), "inventory:location_list", "inventory.view_location"),
            (_("Stock ledger"), "inventory:movement_list", "inventory.view_stockmovement"),
            (_("Transfers"), "inventory:transfer_list", "inventory.view_transfer"),
            (_("Low stock"), "inventory:low_stock", "inventory.view_stock"),
            (_("Replenishment"), "inventory:replenishment", "inventory.view_replenishment"),
            (_("Safety stock"), "inventory:rule_list", "inventory.view_stockrule"),
            (_("Channel stock"), "orders:channel_stock_index", "orders.view_channel"),
        ],
    ),
    (
        _("Fulfilment"),
        [
            (_("Shipments"), "fulfillment:shipment_list", "fulfillment.view_shipment"),
            (_("Pick lists"), "fulfillment:picklist_list", "fulfillment.view_picklist"),
            (_("Merge suggestions"), "fulfillment:merge_suggestions", "fulfillment.merge_shipment"),
            (_("New wave"), "fulfillment:wave_create", "fulfillment.print_picklist"),
            (_("Pack station"), "fulfillment:pack_station", "fulfillment.pack_shipment"),
            (_("Ready to pick"), "fulfillment:pick_queue", "fulfillment.view_shipment"),
            (_("Routing"), "fulfillment:routing_policy_list", "fulfillment.view_routingpolicy"),
        ],
    ),
    (
        _("Logistics"),
        [
            (_("Parcels"), "logistics:parcel_list", "logistics.view_parcel"),
            (_("Record tracking"), "logistics:tracking_record", "logistics.record_tracking"),
            (_("Exception cases"), "logistics:case_list", "logistics.view_exceptioncase"),
            (_("Knowledge base"), "logistics:playbook_list", "logistics.view_exceptioncase"),
            (_("Manifests"), "logistics:manifest_list", "logistics.view_manifest"),
            (_("Rate cards"), "logistics:ratecard_import", "logistics.add_ratecardrow"),
        ],
    ),
    (
        _("Reports"),
        [
            (_("KPI catalogue"), "reports:catalogue", "reports.view_reports"),
            (_("Saved reports"), "reports:saved_list", "reports.view_reports"),
            (_("Forecast"), "reports:forecast", "reports.view_reports"),
        ],
    ),
    (
        _("Data"),
        [
            # Any importer's permission (oms/imports/); a tuple means "any of these".
            (_("Imports"), "imports:list", ("orders.add_order", "inventory.change_stock", "inventory.add_product")),
            (_("Background work"), "background", "oms.view_taskfailure"),
        ],
    ),
    (
        SETTINGS,
        [
            (_("Classification rules"), "orders:rule_list", "orders.change_classificationrule"),
            (_("Change rules"), "orders:stage_rule_list", "orders.change_stagerule"),
            (_("Automatic merge"), "orders:merge_settings", "orders.change_mergesettings"),
            (_("Price floors"), "orders:finance_settings", "orders.change_financesettings"),
            (_("Gift rules"), "orders:gift_rule_list", "orders.view_giftrule"),
        ],
    ),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    groups = []
    for title, items in NAV:
        visible = []
        for label, url_name, perm in items:
            perms = perm if isinstance(perm, tuple) else (perm,)
            if perm is None or any(user.has_perm(p) for p in perms):
                try:
                    url = reverse(url_name)
                except NoReverseMatch:  # a page not wired yet is left out of the menu
                    continue
                visible.append({"label": label, "url": url, "active": False})
        if visible:
            groups.append({"title": title, "items": visible})
    # The one active entry: the longest menu URL the current path starts with.
    matches = [item for group in groups for item in group["items"] if request.path.startswith(item["url"])]
    if matches:
        max(matches, key=lambda item: len(item["url"]))["active"] = True
    if user.is_staff:
        admin = {"label": _("Admin"), "url": reverse("admin:index"), "active": False}
        settings_group = next((g for g in groups if str(g["title"]) == str(SETTINGS)), None)
        if settings_group is None:
            groups.append({"title": SETTINGS, "items": [admin]})
        else:
            settings_group["items"].append(admin)
    return {"nav_groups": groups}
