"""Logistics' side of changes by stage and merges (registered in logistics.apps ready()):

- a cancelled shipment voids its labels: parcels not on a manifest yet (not handed over) get ``voided_at``
  and the carrier's void: the local carrier's ``void()`` at once (no network), a real carrier's (EasyPost
  refund, Kdniao 1147 cancel) as a ``carrier.void`` outbox row written in this transaction and sent after
  commit with retries (`logistics.carrier_labels`); labels bought but never used are voided the same way
  (``shipments_labels_void``, called by the workflow actions right after fulfillment cancelled the
  shipments, in the same transaction);
- a cancellation or address change after shipping becomes an intercept request (``shipments_intercept``,
  called by the workflow action workflows.intercept.intercept_request): the shipments are flagged
  (``intercept_requested_at``), labels of parcels still at the dock are voided, a case is opened for what a
  person must ask the carrier, and what was done is returned for the order's event;
- the cost of one parcel for merge suggestions (fulfillment.merge.register_parcel_cost_estimator), from
  the service rating would choose.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from fulfillment.models import Shipment
from fulfillment.status import SHIPPED_OR_LATER, ShipmentStatus
from oms.errors import DomainError
from orders.services import order_event_record
from orders.status import EventKind
from orders.wording import msg

from . import rating
from .carrier_labels import carrier_adapter, carrier_is_remote, label_void_request, unused_purchases_void
from .carriers.base import CarrierError, UnknownCarrierAdapter
from .cases.services import case_open
from .cases.types import CaseType
from .channel_notices import shipments_channel_notice
from .models import Parcel

log = logging.getLogger(__name__)


def _void_with_carrier(parcel: Parcel) -> tuple[str, str]:
    carrier = parcel.service.carrier
    if carrier_is_remote(carrier):  # a network call: after commit, through the outbox
        label_void_request(
            carrier=carrier,
            tracking_number=parcel.tracking_number,
            carrier_reference=parcel.carrier_reference,
            shipment_number=parcel.shipment.number,
        )
        parcel.voided_at = timezone.now()
        parcel.save(update_fields=["voided_at"])
        text = msg(
            gettext_noop("label %(tracking)s voided; %(carrier)s is asked to cancel it (outbox)"),
            tracking=parcel.tracking_number,
            carrier=carrier.name,
        )
        return text, "requested"
    try:
        carrier_adapter(parcel.service.carrier).void(parcel.tracking_number, parcel.carrier_reference)
    except (CarrierError, UnknownCarrierAdapter) as exc:
        text = msg(
            gettext_noop("label %(tracking)s could not be voided (%(error)s): void it with the carrier by hand"),
            tracking=parcel.tracking_number,
            error=str(exc),
        )
        outcome = "failed"
    else:
        parcel.voided_at = timezone.now()
        parcel.save(update_fields=["voided_at"])
        text = msg(gettext_noop("label %(tracking)s voided"), tracking=parcel.tracking_number)
        outcome = "voided"
    return text, outcome


def parcel_void(parcel: Parcel, *, user=None, why: str) -> str:
    """Void one label that has not been handed over. Returns what happened (for the timeline)."""
    if parcel.voided_at is not None:
        return msg(gettext_noop("label %(tracking)s was already voided"), tracking=parcel.tracking_number)
    if parcel.manifest_id is not None:
        return msg(
            gettext_noop("label %(tracking)s is on manifest %(manifest)s: handed over, not voided"),
            tracking=parcel.tracking_number,
            manifest=str(parcel.manifest),
        )
    if parcel.external_label:  # we did not buy it, so we cannot void it
        text = msg(
            gettext_noop("label %(tracking)s was made outside the OMS: cancel it with the carrier by hand"),
            tracking=parcel.tracking_number,
        )
        outcome = "manual"
    else:
        text, outcome = _void_with_carrier(parcel)
        if outcome == "voided":
            shipments_channel_notice(shipment_ids=[parcel.shipment_id])  # a shipped one: the channel is told
    order_event_record(
        order=parcel.shipment.order,
        kind=EventKind.NOTE,
        user=user,
        message=msg(gettext_noop("Void: %(what)s (%(why)s)."), what=text, why=why),
        data={"shipment": parcel.shipment.number, "tracking_number": parcel.tracking_number, "void": outcome},
    )
    return text


def shipments_labels_void(*, shipment_ids, user=None) -> list[str]:
    """Void the labels of cancelled shipments that are not voided yet, shipment by shipment (by id), parcel by
    parcel (by id). The caller holds the order's lock. Returns what happened to each label."""
    shipment_ids = list(shipment_ids)
    done = []
    for parcel in (
        Parcel.objects.filter(shipment_id__in=list(shipment_ids), voided_at__isnull=True)
        .select_related("service__carrier", "shipment__order", "manifest")
        .order_by("shipment_id", "pk")
    ):
        done.append(parcel_void(parcel, user=user, why=f"shipment {parcel.shipment.number} cancelled"))
    done += unused_purchases_void(shipment_ids=shipment_ids)
    return done


def shipments_intercept(*, order, user=None, reason: str = "", change: str = "") -> str:
    """Flag the order's shipped (not delivered) shipments for interception: void what is still at the dock
    (a cancellation), open an intercept case for what the carrier must be asked. The caller holds the
    order's lock; the shipments are locked here by id. Returns what was done ("" when nothing shipped)."""
    shipments = list(
        Shipment.objects.select_for_update(of=("self",))
        .filter(order=order, status__in=SHIPPED_OR_LATER)
        .exclude(status=ShipmentStatus.DELIVERED)
        .order_by("pk")
    )
    if not shipments:
        return ""
    done, to_ask = [], []
    now = timezone.now()
    for shipment in shipments:
        if shipment.intercept_requested_at is None:
            shipment.intercept_requested_at = now
            shipment.save(update_fields=["intercept_requested_at"])
        for parcel in shipment.parcels.filter(voided_at__isnull=True).select_related("service__carrier", "manifest"):
            if parcel.manifest_id is None and change == "cancel":
                done.append(parcel_void(parcel, user=user, why="intercept: not handed over yet, take it back"))
            else:
                done.append(f"ask {parcel.service.carrier.name} to intercept {parcel.tracking_number}")
                to_ask.append(parcel)
    if to_ask:
        # A person has to talk to the carrier: a case with its playbook, on the queue and the order.
        numbers = ", ".join(p.tracking_number for p in to_ask)
        what = "cancelled" if change == "cancel" else f"{change or 'changed'} after shipping"
        case, created = case_open(
            order=order,
            case_type=CaseType.INTERCEPT,
            summary=f"Order {what}: intercept {numbers}" + (f" ({reason})" if reason else ""),
            parcel=to_ask[0],
            facts={"change": change, "tracking_numbers": [p.tracking_number for p in to_ask], "reason": reason},
            detected_by="intercept",
            user=user,
        )
        done.append(f"case {case.number} {'opened' if created else 'already open'}")
    return "; ".join(done)


def parcel_cost_estimate(shipment: Shipment, weight_g: int) -> Decimal | None:
    """What rating would charge for one parcel of ``weight_g`` from the shipment's location to its order."""
    probe = Shipment(
        pk=shipment.pk,
        order=shipment.order,
        location=shipment.location,
        weight_g=weight_g,
        package_type=shipment.package_type,
    )
    try:
        chosen = rating.choose_service(probe, use_override=False).chosen
    except DomainError:
        return None
    return chosen.amount if chosen is not None else None


def connect() -> None:
    from fulfillment.merge import register_parcel_cost_estimator

    register_parcel_cost_estimator(parcel_cost_estimate)
