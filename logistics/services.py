"""Carrier services: choosing a service, labelling and dispatching a shipment, recording
tracking events. Every change writes an event on the order's timeline."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import shipment_advance, shipment_ship
from fulfillment.status import ShipmentStatus
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind

from . import rating
from .carriers.base import LabelRequest, get_adapter
from .eta import parcel_eta_refresh
from .models import Parcel, ServiceLevel, TrackingEvent
from .providers.base import NormalizedEvent
from .status import RANK, TrackingStatus

# Which shipment status a tracking status moves a shipment to.
SHIPMENT_STATUS_FOR = {
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.FAILED_ATTEMPT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.EXCEPTION: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.AVAILABLE_FOR_PICKUP: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
}


def shipment_needs(shipment: Shipment) -> dict:
    """What the shipment asks of a carrier service; see `logistics.rating.shipment_needs`."""
    return rating.shipment_needs(shipment)


def service_cost(service: ServiceLevel, weight_g: int) -> Decimal:
    kilos = Decimal(max(weight_g, 1)) / Decimal(1000)
    return (service.base_rate + service.per_kg_rate * kilos).quantize(Decimal("0.01"))


def service_choose(shipment: Shipment) -> ServiceLevel:
    """The service rating chooses (`logistics.rating.choose_service`): the cheapest that meets the
    promise date and the shipment's needs, or a person's override."""
    result = rating.choose_service(shipment)
    if result.chosen is None:
        why = "; ".join(f"{q.carrier}/{q.service_code}: {', '.join(q.reasons)}" for q in result.quotes[:4])
        message = f"No active carrier service can take shipment {shipment.number}."
        raise DomainError(message + (f" {why}" if why else ""))
    return ServiceLevel.objects.select_related("carrier").get(pk=result.chosen.service_id)


add_business_days = rating.add_business_days


def carrier_adapter(carrier):
    """The adapter of a carrier, given the carrier's own API key when it has one."""
    adapter = get_adapter(carrier.adapter)
    if getattr(carrier, "api_key", "") and hasattr(adapter, "api_key"):
        adapter.api_key = carrier.api_key
    return adapter


def _address(**fields) -> dict:
    return {k: v for k, v in fields.items() if v}


@transaction.atomic
def shipment_dispatch(*, shipment: Shipment, service: ServiceLevel | None = None, user=None) -> Parcel:
    """Label a packed shipment with a carrier service and tracking number, then ship it."""
    order_lock(shipment.order_id)  # lock order, then shipment, then parcel: one order everywhere
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order", "location").get(pk=shipment.pk)
    existing = shipment.parcels.first()
    if existing is not None:
        return existing
    if shipment.status != ShipmentStatus.PACKED:
        raise DomainError(f"Shipment {shipment.number} is {shipment.get_status_display()}; pack it first.")
    rated = rating.choose_service(shipment)
    if service is None:
        service = service_choose(shipment)
    quote = next((q for q in rated.quotes if q.service_id == service.pk), None)
    weight = shipment.weight_g or rated.needs["weight_g"]
    order, location = shipment.order, shipment.location
    adapter = carrier_adapter(service.carrier)
    request = LabelRequest(
        shipment_number=shipment.number,
        service_code=service.code,
        external_service=service.external_code,
        declared_value=rated.needs["value"],
        currency=order.currency or "CNY",
        weight_g=weight,
        sender=_address(
            name=location.name,
            phone=location.phone,
            country=location.country,
            province=location.province,
            city=location.city,
            address1=location.address,
            postcode=location.postcode,
        ),
        recipient=_address(
            name=order.ship_name,
            phone=order.ship_phone,
            country=order.ship_country,
            province=order.ship_province,
            city=order.ship_city,
            district=order.ship_district,
            address1=order.ship_address1,
            address2=order.ship_address2,
            postcode=order.ship_postcode,
        ),
    )
    parcel = None
    for _attempt in range(5):
        label = adapter.create_label(request)
        try:
            with transaction.atomic():
                parcel = Parcel.objects.create(
                    shipment=shipment,
                    service=service,
                    tracking_number=label.tracking_number,
                    weight_g=weight,
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
        raise DomainError("Could not get a unique tracking number from the carrier; try again.")
    order_event_record(
        order=order,
        kind=EventKind.SHIPPED,
        user=user,
        message=f"Label {parcel.tracking_number} with {service}; expected {parcel.expected_delivery:%Y-%m-%d}.",
        data={"shipment": shipment.number, "tracking_number": parcel.tracking_number, "service": service.code},
    )
    shipment_ship(shipment=shipment, user=user, note=f"{service} {parcel.tracking_number}")
    return parcel


def _is_newer(parcel: Parcel, event: NormalizedEvent) -> bool:
    new_rank, old_rank = RANK[event.status], RANK[parcel.status]
    if new_rank != old_rank:
        return new_rank > old_rank
    return parcel.last_event_at is None or event.occurred_at >= parcel.last_event_at


@transaction.atomic
def tracking_event_record(*, parcel: Parcel, event: NormalizedEvent, source: str, user=None) -> bool:
    """Store a tracking event once; move the parcel and shipment forward, never back.

    Returns False when the same event was already stored.
    """
    order_lock(parcel.shipment.order_id)
    parcel = (
        Parcel.objects.select_for_update(of=("self",)).select_related("shipment__order", "service").get(pk=parcel.pk)
    )
    if event.status not in TrackingStatus.values:
        raise DomainError(f"Unknown tracking status '{event.status}'.")
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                parcel=parcel,
                status=event.status,
                description=event.description[:255],
                location=event.location[:120],
                occurred_at=event.occurred_at,
                source=source,
                dedupe_key=event.dedupe_key,
                raw=event.raw,
            )
    except IntegrityError:
        return False
    fields = []
    moved = _is_newer(parcel, event)
    if moved:
        parcel.status = event.status
        parcel.last_event_at = event.occurred_at
        fields += ["status", "last_event_at"]
        if event.status == TrackingStatus.DELIVERED:
            parcel.delivered_at = event.occurred_at
            fields.append("delivered_at")
    if fields:
        parcel.save(update_fields=fields)
    order = parcel.shipment.order
    where = f" at {event.location}" if event.location else ""
    order_event_record(
        order=order,
        kind=EventKind.TRACKING,
        user=user,
        message=f"{parcel.tracking_number}: {TrackingStatus(event.status).label}{where}. {event.description}".strip(),
        data={
            "tracking_number": parcel.tracking_number,
            "status": event.status,
            "source": source,
            "occurred_at": event.occurred_at.isoformat(),
            "applied": moved,
        },
    )
    target = SHIPMENT_STATUS_FOR.get(event.status)
    if moved and target:
        shipment_advance(shipment=parcel.shipment, target=target, user=user, note=f"tracking: {event.status}")
    parcel_eta_refresh(parcel=parcel, carrier_estimate=event.est_delivery_date, user=user)  # logistics/eta.py
    return True


def parcel_by_tracking_number(tracking_number: str) -> Parcel | None:
    return Parcel.objects.filter(tracking_number=tracking_number.strip()).first()
