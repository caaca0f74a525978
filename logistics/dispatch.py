"""Dispatching a shipment (``logistics.services.shipment_dispatch`` is the door): the plan worked out before any
lock or network call (the service chosen or given, sender and recipient, the label request), and the business
transaction that writes the parcel, the order's SHIPPED event and ships the shipment."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from fulfillment.models import Shipment
from fulfillment.services import shipment_ship
from fulfillment.status import ShipmentStatus
from oms.dates import add_business_days
from oms.errors import DomainError
from orders.selectors import order_ship_to
from orders.services import order_event_record, order_lock
from orders.status import EventKind
from orders.wording import msg

from . import rating
from .carrier_labels import carrier_adapter, carrier_is_remote, unused_purchases_void
from .carriers.base import CarrierError, LabelRequest, ShipmentInfo
from .channel_notices import shipments_channel_notice
from .models import LabelPurchase, Parcel, ServiceLevel


def chosen_service(shipment: Shipment, result) -> ServiceLevel:
    """The service ``result`` (a rating) chose, or DomainError naming why no service can take the shipment."""
    if result.chosen is None:
        why = "; ".join(f"{q.carrier}/{q.service_code}: {', '.join(q.reasons)}" for q in result.quotes[:4])
        message = gettext("No active carrier service can take shipment %(shipment_number)s.") % {
            "shipment_number": shipment.number
        }
        raise DomainError(message + (f" {why}" if why else ""))
    return ServiceLevel.objects.select_related("carrier").get(pk=result.chosen.service_id)


def _address(**fields) -> dict:
    return {k: v for k, v in fields.items() if v}


@dataclass
class DispatchPlan:
    """What dispatching a shipment will do, worked out before any lock or network call."""

    shipment: Shipment
    service: ServiceLevel
    rated: object
    quote: object
    weight: int
    request: LabelRequest
    remote: bool


def dispatch_plan(shipment: Shipment, service: ServiceLevel | None) -> DispatchPlan | Parcel:
    """The plan of dispatching ``shipment`` (with ``service``, else the one rating chooses, carriers with live rates
    asked), or its parcel when it has one already; DomainError when it is not packed."""
    shipment = Shipment.objects.select_related("order", "location").get(pk=shipment.pk)
    existing = shipment.parcels.first()
    if existing is not None:
        return existing
    if shipment.status != ShipmentStatus.PACKED:
        raise DomainError(
            gettext("Shipment %(shipment_number)s is %(shipment_status)s; pack it first.")
            % {"shipment_number": shipment.number, "shipment_status": shipment.get_status_display()}
        )
    order, location = shipment.order, shipment.location
    sender = _address(
        name=location.name,
        phone=location.phone,
        country=location.country,
        province=location.province,
        city=location.city,
        address1=location.address,
        postcode=location.postcode,
    )
    recipient = _address(**order_ship_to(order, email=False))

    def live_rates(carrier):  # rate shopping asks carriers with live rates on (no transaction is open)
        if not carrier_is_remote(carrier):
            raise CarrierError(gettext("%(carrier)s has no rates API") % {"carrier": carrier.name})
        weight_g = shipment.weight_g or rating.shipment_needs(shipment)["weight_g"]
        info = ShipmentInfo(weight_g=weight_g, sender=sender, recipient=recipient)
        return carrier_adapter(carrier).rates(info)

    rated = rating.choose_service(shipment, live_rates=live_rates)
    if service is None:
        service = chosen_service(shipment, rated)
    service = ServiceLevel.objects.select_related("carrier").get(pk=service.pk)
    quote = next((q for q in rated.quotes if q.service_id == service.pk), None)
    weight = shipment.weight_g or rated.needs["weight_g"]
    remote = carrier_is_remote(service.carrier)
    contents = ()
    if remote:
        contents = tuple(
            {"name": line.product.name, "quantity": line.quantity}
            for line in shipment.lines.select_related("product").order_by("pk")
        )
    request = LabelRequest(
        shipment_number=shipment.number,
        service_code=service.code,
        external_service=service.external_code,
        declared_value=rated.needs["value"],
        currency=order.currency or "CNY",
        weight_g=weight,
        sender=sender,
        recipient=recipient,
        contents=contents,
        order_number=order.number,
    )
    return DispatchPlan(shipment, service, rated, quote, weight, request, remote)


@transaction.atomic
def dispatch_write(plan: DispatchPlan, *, purchase: LabelPurchase | None, user) -> tuple[Parcel | None, str]:
    """The business transaction of a dispatch; returns (parcel, "") or (None, why not)."""
    shipment = plan.shipment
    order_lock(shipment.order_id)  # lock order, then shipment, then parcel: one order everywhere
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)
    existing = shipment.parcels.first()
    if existing is not None or shipment.status != ShipmentStatus.PACKED:
        if purchase is not None:  # bought for nothing (a second click, a cancel meanwhile): give it back
            unused_purchases_void(shipment_ids=[shipment.pk])
        if existing is not None:
            return existing, ""
        return None, gettext("Shipment %(shipment_number)s is %(shipment_status)s; pack it first.") % {
            "shipment_number": shipment.number,
            "shipment_status": shipment.get_status_display(),
        }
    service, quote, rated, order = plan.service, plan.quote, plan.rated, shipment.order
    adapter = None if purchase is not None else carrier_adapter(service.carrier)
    parcel = None
    for _attempt in range(1 if purchase is not None else 5):
        label = purchase if purchase is not None else adapter.create_label(plan.request)
        try:
            with transaction.atomic():
                parcel = Parcel.objects.create(
                    shipment=shipment,
                    service=service,
                    tracking_number=label.tracking_number,
                    weight_g=plan.weight,
                    expected_delivery=quote.delivery_date
                    if quote and quote.delivery_date
                    else add_business_days(timezone.localdate(), service.transit_days),
                    price=label.amount if label.amount is not None else (quote.amount if quote else None),
                    currency=label.currency or (quote.currency if quote else ""),
                    zone=rated.zone,
                    quotes=rated.quotes_json(),
                    choice_reason=(rated.reason if quote and quote.chosen else "chosen by the caller")[:255],
                    carrier_reference=label.carrier_reference[:64],
                    label_url=label.label_url[:500],
                )
            break
        except IntegrityError:
            continue
    if parcel is None:
        if purchase is not None:
            return None, gettext("Tracking number %(number)s from %(carrier)s is already used.") % {
                "number": purchase.tracking_number,
                "carrier": service.carrier.name,
            }
        raise DomainError(gettext("Could not get a unique tracking number from the carrier; try again."))
    if purchase is not None:
        LabelPurchase.objects.filter(pk=purchase.pk).update(parcel=parcel)
    order_event_record(
        order=order,
        kind=EventKind.SHIPPED,
        user=user,
        message=msg(
            gettext_noop("Label %(tracking)s with %(service)s; expected %(date)s."),
            tracking=parcel.tracking_number,
            service=str(service),
            date=f"{parcel.expected_delivery:%Y-%m-%d}",
        ),
        data={"shipment": shipment.number, "tracking_number": parcel.tracking_number, "service": service.code},
    )
    shipment_ship(shipment=shipment, user=user, note=f"{service} {parcel.tracking_number}")  # names: data
    shipments_channel_notice(shipment_ids=[shipment.pk])  # the channel learns it shipped (outbox, this transaction)
    return parcel, ""
