"""Exception-case playbook actions that change the order across apps: the address correction (it may route
the order again, workflows.changes.order_change_address). A case's reship stays logistics' own
(logistics.cases.actions.case_reship → fulfillment.reship.shipment_reship): it only calls apps below
logistics.

Lock order: the order row → the case (logistics' case lock takes the order first) → the order's open
shipments by id → stock rows by (location, product). One transaction.
"""

from django.db import transaction

from logistics.cases import services as case_services
from logistics.models import ExceptionCase
from orders.intake.canonical import CanonicalAddress

from .changes import order_change_address


@transaction.atomic
def case_address_correct(*, case: ExceptionCase, address: CanonicalAddress, note: str = "", user=None):
    """Correct the address from a case: on the order while it can change (re-routed before picking), else
    for the carrier's redelivery. Returns the CaseAction."""
    return case_services.case_address_correct(
        case=case, address=address, note=note, user=user, change_address=order_change_address
    )
