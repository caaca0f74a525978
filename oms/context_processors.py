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
        ],
    ),
    (
        "Inventory",
        [
            ("Stock", "inventory:stock_list", "inventory.view_stock"),
            ("Products", "inventory:product_list", "inventory.view_product"),
            ("Locations", "inventory:location_list", "inventory.view_location"),
        ],
    ),
    (
        "Fulfilment",
        [
            ("Shipments", "fulfillment:shipment_list", "fulfillment.view_shipment"),
            ("Pick lists", "fulfillment:picklist_list", "fulfillment.view_picklist"),
        ],
    ),
    (
        "Logistics",
        [
            ("Parcels", "logistics:parcel_list", "logistics.view_parcel"),
            ("Record tracking", "logistics:tracking_record", "logistics.record_tracking"),
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
            if perm is None or user.has_perm(perm):
                try:
                    url = reverse(url_name)
                except NoReverseMatch:  # a page not wired yet is left out of the menu
                    continue
                visible.append({"label": label, "url": url, "active": request.path.startswith(url) and url != "/"})
        if visible:
            groups.append({"title": title, "items": visible})
    if user.is_staff:
        groups.append(
            {"title": "Settings", "items": [{"label": "Admin", "url": reverse("admin:index"), "active": False}]}
        )
    return {"nav_groups": groups}
