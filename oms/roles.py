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
    "inventory.view_bin",
    "inventory.view_stockmovement",
    "inventory.view_transfer",
    "fulfillment.view_shipment",
    "fulfillment.view_picklist",
    "logistics.view_parcel",
    "logistics.view_manifest",
    "logistics.view_exceptioncase",
]
# The customer promise (orders/views/care.py): customers, returns, the messages outbox; customer service and
# managers both keep it.
_CUSTOMER_PROMISE = [
    "orders.view_customer",
    "orders.view_notification",
    "orders.retry_notification",
    "orders.view_returnrequest",
    "orders.manage_return",
    "orders.add_order",
    "orders.change_order",
    "orders.hold_order",
    "orders.cancel_order",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    CUSTOMER_SERVICE: _VIEW_ALL
    + _CUSTOMER_PROMISE
    + [
        "orders.merge_order",  # undo an automatic order merge (自动合单)
        # Invoices (发票): customer service takes a request, finance issues it.
        "orders.view_invoicerequest",
        "orders.add_invoicerequest",
        "logistics.record_tracking",
        "logistics.manage_case",
        "oms.view_taskfailure",
        "oms.retry_background_work",
    ],
    WAREHOUSE: [
        "orders.view_order",
        "inventory.view_stock",
        "inventory.view_product",
        "inventory.view_location",
        "inventory.change_stock",
        # Bins (inventory/bins.py): the floor keeps its own bins.
        "inventory.view_bin",
        "inventory.add_bin",
        "inventory.change_bin",
        "inventory.view_stockmovement",
        "inventory.view_transfer",
        "inventory.add_transfer",
        "inventory.change_transfer",
        "fulfillment.view_shipment",
        "fulfillment.view_picklist",
        "fulfillment.print_picklist",
        "fulfillment.pack_shipment",
        "fulfillment.merge_shipment",
        "logistics.view_parcel",
        "logistics.view_manifest",
        "logistics.close_manifest",
    ],
    MANAGER: _VIEW_ALL
    + _CUSTOMER_PROMISE
    + [
        "inventory.change_stock",
        "inventory.add_transfer",
        "inventory.change_transfer",
        "inventory.view_stockrule",
        "inventory.change_stockrule",
        "inventory.view_replenishment",
        "orders.publish_stock",
        "orders.change_channel",
        "inventory.add_product",
        "inventory.change_product",
        "inventory.add_location",
        "inventory.change_location",
        "inventory.add_bin",
        "inventory.change_bin",
        "fulfillment.print_picklist",
        "fulfillment.pack_shipment",
        "logistics.record_tracking",
        "logistics.override_service",
        "logistics.close_manifest",
        "logistics.add_ratecardrow",
        "logistics.manage_case",
        "logistics.edit_playbook",
        "reports.view_reports",
        # Classification rules and review holds (orders/rules/classification.py, orders/rules/review.py).
        "orders.view_classificationrule",
        "orders.add_classificationrule",
        "orders.change_classificationrule",
        "orders.delete_classificationrule",
        # 赠品 gift rules (orders/rules/gifts.py).
        "orders.view_giftrule",
        "orders.add_giftrule",
        "orders.change_giftrule",
        "orders.delete_giftrule",
        "orders.override_credit",
        "orders.change_customer",
        # Invoices (发票) and the finance review (财审): orders/views/finance.py.
        "orders.view_invoicerequest",
        "orders.add_invoicerequest",
        "orders.change_invoicerequest",
        "orders.finance_review",
        "orders.change_financesettings",
        # Routing policies, reroute, dry run, replay (fulfillment/routing/).
        "fulfillment.view_routingpolicy",
        "fulfillment.add_routingpolicy",
        "fulfillment.change_routingpolicy",
        "fulfillment.route_orders",
        # Changes by stage and split/merge (orders/rules/stages.py, fulfillment/merge.py).
        "orders.view_stagerule",
        "orders.change_stagerule",
        "orders.approve_change",
        "fulfillment.merge_shipment",
        # Automatic order merge (自动合单, orders/services/merge.py): the setting and the undo.
        "orders.view_mergesettings",
        "orders.change_mergesettings",
        "orders.merge_order",
        # Background work (oms/background.py): failed tasks and unfinished work, retried by a person.
        "oms.view_taskfailure",
        "oms.retry_background_work",
        # Channel connectors (connectors/): the connection, the sync page, pull now and retry.
        "connectors.view_channelconnection",
        "connectors.add_channelconnection",
        "connectors.change_channelconnection",
        "connectors.sync_channel",
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
