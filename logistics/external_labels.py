"""Ship under a tracking number from a label made outside the OMS (a carrier portal, a marketplace label).

``shipment_ship_external`` records a parcel with the person's carrier (one of ours, or "other" with its name)
and tracking number, without buying or drawing a label, then ships the shipment the usual way
(``fulfillment.services.shipment_ship``: stock leaves on hand and the reservation, the shipment and order move,
events are written, and the SHIPPED event tells the customer as usual). Tracking pushes for that number find
the parcel like any other (by tracking number).

The tracking number is trimmed, inner spaces are dropped (labels print groups) and letters upper-cased; what
is left must be 6 to 40 of A-Z, 0-9 and "-". A number already on a parcel is refused with the shipment it
belongs to (tracking numbers are unique across parcels, voided ones included).
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment import packing
from fulfillment.models import Shipment
from fulfillment.services import shipment_ship
from fulfillment.status import ShipmentStatus
from oms.dates import add_business_days
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind
from orders.wording import msg

from .channel_notices import shipments_channel_notice
from .models import Carrier, Parcel, ServiceLevel

OTHER = "other"  # the carrier choice for a carrier we do not have
OTHER_CARRIER_CODE = "other"
EXTERNAL_SERVICE_CODE = "external"
NUMBER_RE = re.compile(r"[A-Z0-9-]{6,40}")
CARRIER_NAME_MAX = 100


class ExternalLabelError(DomainError):
    """Refused input, with the field it is about (``tracking_number``, ``carrier``, ``carrier_name``) or ""."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


def tracking_number_clean(raw: object) -> str:
    """The tracking number as stored, or ExternalLabelError(field="tracking_number")."""
    if not isinstance(raw, str) or not raw.strip():
        raise ExternalLabelError(gettext("Enter the tracking number."), "tracking_number")
    if len(raw) > 200:
        raise ExternalLabelError(gettext("A tracking number has at most 40 characters."), "tracking_number")
    number = "".join(raw.split()).upper()
    if not number.isascii() or not NUMBER_RE.fullmatch(number):
        if len(number) < 6:
            raise ExternalLabelError(gettext("A tracking number has at least 6 characters."), "tracking_number")
        if len(number) > 40:
            raise ExternalLabelError(gettext("A tracking number has at most 40 characters."), "tracking_number")
        raise ExternalLabelError(gettext("A tracking number has only letters A-Z, digits and '-'."), "tracking_number")
    return number


def carrier_choices() -> list[tuple[str, str]]:
    """(code, name) of the carriers a person may pick, then ("other", "Other carrier")."""
    return [
        *Carrier.objects.filter(active=True).values_list("code", "name"),
        (OTHER, gettext("Other carrier (name it)")),
    ]


def carrier_resolve(code: object, name: object = "") -> tuple[Carrier, str]:
    """(carrier, the other carrier's name or "") from a choice; ExternalLabelError with the field otherwise."""
    if not isinstance(code, str) or not code.strip():
        raise ExternalLabelError(gettext("Choose the carrier."), "carrier")
    code = code.strip()
    if code == OTHER:
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            raise ExternalLabelError(gettext("Name the carrier."), "carrier_name")
        if len(name) > CARRIER_NAME_MAX or "\x00" in name:
            raise ExternalLabelError(
                gettext("A carrier name has at most %(limit)s characters.") % {"limit": CARRIER_NAME_MAX},
                "carrier_name",
            )
        carrier, _ = Carrier.objects.get_or_create(
            code=OTHER_CARRIER_CODE,
            defaults={"name": "Other carrier", "adapter": "external", "active": False},
        )
        return carrier, name
    slug = re.fullmatch(r"[-a-zA-Z0-9_]{1,32}", code)
    carrier = Carrier.objects.filter(code=code, active=True).first() if slug else None
    if carrier is None:
        raise ExternalLabelError(
            gettext("Unknown carrier '%(code)s'.") % {"code": code[:40]} if slug else gettext("Unknown carrier."),
            "carrier",
        )
    return carrier, ""


def _service_for(carrier: Carrier) -> ServiceLevel:
    """The carrier's quickest active service, or its "label made elsewhere" service (inactive: rating never
    chooses it), made on first use."""
    service = carrier.services.filter(active=True).order_by("transit_days", "pk").first()
    if service is not None:
        return service
    service, _ = ServiceLevel.objects.get_or_create(
        carrier=carrier,
        code=EXTERNAL_SERVICE_CODE,
        defaults={"name": "Label made elsewhere", "active": False, "transit_days": 3},
    )
    return service


def _refuse_duplicate(number: str) -> None:
    existing = Parcel.objects.filter(tracking_number=number).select_related("shipment", "service__carrier").first()
    if existing is None:
        return
    if existing.voided_at:
        text = gettext(
            "Tracking number %(number)s is already used by a voided parcel of shipment %(shipment)s (%(carrier)s)."
        )
    else:
        text = gettext(
            "Tracking number %(number)s is already used by the parcel of shipment %(shipment)s (%(carrier)s)."
        )
    raise ExternalLabelError(
        text % {"number": number, "shipment": existing.shipment.number, "carrier": existing.carrier_display},
        "tracking_number",
    )


@transaction.atomic
def shipment_ship_external(
    *,
    shipment: Shipment,
    carrier: Carrier,
    tracking_number: str,
    carrier_name: str = "",
    weight_g: int | None = None,
    package_type: str = "",
    user=None,
) -> Parcel:
    """Ship a packed shipment under a tracking number from a label made elsewhere. With ``weight_g`` a fully
    scanned shipment that is not packed yet is packed first (the pack station), in the same transaction: a
    refused number leaves it as it was."""
    number = tracking_number_clean(tracking_number)
    order_lock(shipment.order_id)  # lock order, then shipment, then parcel: one order everywhere
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order").get(pk=shipment.pk)
    live = shipment.parcels.filter(voided_at__isnull=True).first()
    if live is not None:
        raise ExternalLabelError(
            gettext("Shipment %(shipment_number)s already has parcel %(tracking_number)s.")
            % {"shipment_number": shipment.number, "tracking_number": live.tracking_number}
        )
    _refuse_duplicate(number)
    if shipment.status != ShipmentStatus.PACKED and weight_g is not None:
        packing.pack_complete(shipment=shipment, weight_g=weight_g, package_type=package_type, user=user)
        shipment.refresh_from_db()
    if shipment.status != ShipmentStatus.PACKED:
        raise ExternalLabelError(
            gettext("Shipment %(shipment_number)s is %(shipment_status)s; pack it first.")
            % {"shipment_number": shipment.number, "shipment_status": shipment.get_status_display()}
        )
    if shipment.order.on_hold:
        raise ExternalLabelError(
            gettext("Order %(order_number)s is on hold; release it before shipping.")
            % {"order_number": shipment.order.number}
        )
    service = _service_for(carrier)
    shown = carrier_name or carrier.name
    try:
        with transaction.atomic():
            parcel = Parcel.objects.create(
                shipment=shipment,
                service=service,
                tracking_number=number,
                weight_g=shipment.weight_g or 0,
                expected_delivery=add_business_days(timezone.localdate(), service.transit_days),
                choice_reason="label made outside the OMS",
                external_label=True,
                carrier_name=carrier_name,
            )
    except IntegrityError:  # the same number recorded at the same moment
        raise ExternalLabelError(
            gettext("Tracking number %(number)s is already used by another parcel.") % {"number": number},
            "tracking_number",
        )
    order_event_record(
        order=shipment.order,
        kind=EventKind.SHIPPED,
        user=user,
        message=msg(
            gettext_noop("Shipped with %(carrier)s under %(tracking)s; the label was made outside the OMS."),
            carrier=shown,
            tracking=number,
        ),
        data={
            "shipment": shipment.number,
            "tracking_number": number,
            "service": service.code,
            "carrier": shown,
            "external_label": True,
        },
    )
    shipment_ship(shipment=shipment, user=user, note=f"{shown} {number} (label made elsewhere)")
    shipments_channel_notice(shipment_ids=[shipment.pk])  # the channel learns it shipped (outbox, this transaction)
    return parcel
