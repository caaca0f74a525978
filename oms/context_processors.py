"""The left navigation, grouped by work, showing each role only what it may use."""

from django.urls import NoReverseMatch, reverse

NAV = [
    (
        "Orders",
        [
            ("Dashboard", "reports:dashboard", None),
            ("Orders", "orders:order_list", "orders.view_order"),
            ("New order", "orders:order_create", "orders.add_order"),
            ("Holds", "orders:hold_queue", "orders.view_order"),
            ("Intake monitor", "orders:inbound_list", "orders.view_inboundmessage"),
            ("Channels", "orders:channel_list", "orders.view_channel"),
            ("Customers", "orders:customer_list", "orders.view_customer"),
            ("Returns", "orders:return_list", "orders.view_returnrequest"),
            ("Customer messages", "orders:notification_list", "orders.view_notification"),
        ],
    ),
    (
        "Inventory",
        [
            ("Stock", "inventory:stock_list", "inventory.view_stock"),
            ("Products", "inventory:product_list", "inventory.view_product"),
            ("Locations", "inventory:location_list", "inventory.view_location"),
            ("Stock ledger", "inventory:movement_list", "inventory.view_stockmovement"),
            ("Transfers", "inventory:transfer_list", "inventory.view_transfer"),
            ("Low stock", "inventory:low_stock", "inventory.view_stock"),
            ("Replenishment", "inventory:replenishment", "inventory.view_replenishment"),
            ("Safety stock", "inventory:rule_list", "inventory.view_stockrule"),
            ("Channel stock", "orders:channel_stock_index", "orders.view_channel"),
        ],
    ),
    (
        "Fulfilment",
        [
            ("Shipments", "fulfillment:shipment_list", "fulfillment.view_shipment"),
            ("Pick lists", "fulfillment:picklist_list", "fulfillment.view_picklist"),
            ("Merge suggestions", "fulfillment:merge_suggestions", "fulfillment.merge_shipment"),
            ("New wave", "fulfillment:wave_create", "fulfillment.print_picklist"),
            ("Pack station", "fulfillment:pack_station", "fulfillment.pack_shipment"),
            ("Ready to pick", "fulfillment:pick_queue", "fulfillment.view_shipment"),
            ("Routing", "fulfillment:routing_policy_list", "fulfillment.view_routingpolicy"),
        ],
    ),
    (
        "Logistics",
        [
            ("Parcels", "logistics:parcel_list", "logistics.view_parcel"),
            ("Record tracking", "logistics:tracking_record", "logistics.record_tracking"),
            ("Exception cases", "logistics:case_list", "logistics.view_exceptioncase"),
            ("Knowledge base", "logistics:playbook_list", "logistics.view_exceptioncase"),
            ("Manifests", "logistics:manifest_list", "logistics.view_manifest"),
            ("Rate cards", "logistics:ratecard_import", "logistics.add_ratecardrow"),
        ],
    ),
    (
        "Reports",
        [
            ("KPI catalogue", "reports:catalogue", "reports.view_reports"),
            ("Saved reports", "reports:saved_list", "reports.view_reports"),
            ("Forecast", "reports:forecast", "reports.view_reports"),
        ],
    ),
    (
        "Data",
        [
            # Any importer's permission (oms/imports/); a tuple means "any of these".
            ("Imports", "imports:list", ("orders.add_order", "inventory.change_stock", "inventory.add_product")),
            ("Background work", "background", "oms.view_taskfailure"),
        ],
    ),
    (
        "Settings",
        [
            ("Classification rules", "orders:rule_list", "orders.change_classificationrule"),
            ("Change rules", "orders:stage_rule_list", "orders.change_stagerule"),
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
        admin = {"label": "Admin", "url": reverse("admin:index"), "active": False}
        settings_group = next((g for g in groups if g["title"] == "Settings"), None)
        if settings_group is None:
            groups.append({"title": "Settings", "items": [admin]})
        else:
            settings_group["items"].append(admin)
    return {"nav_groups": groups}
