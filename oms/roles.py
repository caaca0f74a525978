"""Roles are Django groups; this table says what each may do. Synced after every migrate."""

from django.contrib.auth.models import Group, Permission

ADMIN = "admin"
MANAGER = "manager"
CUSTOMER_SERVICE = "customer_service"
WAREHOUSE = "warehouse"

_VIEW_ALL = [
    "orders.view_order",
    "orders.view_channel",
    "orders.view_inboundmessage",
    "inventory.view_stock",
    "inventory.view_product",
    "inventory.view_location",
    "fulfillment.view_shipment",
    "fulfillment.view_picklist",
    "logistics.view_parcel",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CUSTOMER_SERVICE: _VIEW_ALL
    + [
        "orders.add_order",
        "orders.change_order",
        "orders.hold_order",
        "orders.cancel_order",
        "logistics.record_tracking",
    ],
    WAREHOUSE: [
        "orders.view_order",
        "inventory.view_stock",
        "inventory.view_product",
        "inventory.view_location",
        "inventory.change_stock",
        "fulfillment.view_shipment",
        "fulfillment.view_picklist",
        "fulfillment.print_picklist",
        "fulfillment.pack_shipment",
        "logistics.view_parcel",
    ],
    MANAGER: _VIEW_ALL
    + [
        "orders.add_order",
        "orders.change_order",
        "orders.hold_order",
        "orders.cancel_order",
        "inventory.change_stock",
        "fulfillment.print_picklist",
        "fulfillment.pack_shipment",
        "logistics.record_tracking",
        "reports.view_reports",
    ],
}
ROLE_LABELS = {
    ADMIN: "Admin",
    MANAGER: "Manager",
    CUSTOMER_SERVICE: "Customer service",
    WAREHOUSE: "Warehouse",
}


def sync_roles() -> None:
    """Create the role groups and give each exactly its permissions (admin gets all)."""
    Group.objects.get_or_create(name=ADMIN)[0].permissions.set(Permission.objects.all())
    for role, codes in ROLE_PERMISSIONS.items():
        perms = []
        for code in codes:
            app_label, codename = code.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        Group.objects.get_or_create(name=role)[0].permissions.set(perms)


def sync_roles_after_migrate(**kwargs) -> None:
    sync_roles()
