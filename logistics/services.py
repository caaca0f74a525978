"""Carrier services: choosing a service, labelling and dispatching a shipment, recording
tracking events. Every change writes an event on the order's timeline."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.models import Shipment
from fulfillment.services import shipment_advance, shipment_ship
from fulfillment.status import ShipmentStatus
from inventory.models import HandlingClass
from oms.errors import DomainError
from orders.services import order_event_record, order_lock
from orders.status import EventKind

from .carriers.base import LabelRequest, get_adapter
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
    classes = {line.product.handling_class for line in shipment.lines.select_related("product")}
    weight = shipment.weight_g or sum(line.product.weight_g * line.quantity for line in shipment.lines.all())
    return {
        "cold_chain": HandlingClass.FRESH in classes,
        "freight": HandlingClass.BULKY in classes,
        "weight_g": weight,
        "requested": shipment.order.requested_service,
    }


def service_cost(service: ServiceLevel, weight_g: int) -> Decimal:
    kilos = Decimal(max(weight_g, 1)) / Decimal(1000)
    return (service.base_rate + service.per_kg_rate * kilos).quantize(Decimal("0.01"))


def service_choose(shipment: Shipment) -> ServiceLevel:
    """First rule: the cheapest active service that meets the shipment's needs."""
    needs = shipment_needs(shipment)
    services = ServiceLevel.objects.filter(active=True, carrier__active=True).select_related("carrier")
    if needs["cold_chain"]:
        services = services.filter(cold_chain=True)
    if needs["freight"]:
        services = services.filter(freight=True)
    fitting = [s for s in services if s.max_weight_g is None or s.max_weight_g >= needs["weight_g"]]
    if needs["requested"]:
        requested = [s for s in fitting if needs["requested"] in (s.kind, s.code)]
        fitting = requested or fitting
    if not fitting:
        raise DomainError(f"No active carrier service can take shipment {shipment.number}.")
    return min(fitting, key=lambda s: (service_cost(s, needs["weight_g"]), s.transit_days, s.pk))


def add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _address(**fields) -> dict:
    return {k: v for k, v in fields.items() if v}


@transaction.atomic
def shipment_dispatch(*, shipment: Shipment, service: ServiceLevel | None = None, user=None) -> Parcel:
    """Label a packed shipment with a carrier service and tracking number, then ship it."""
    order_lock(shipment.order_id)  # lock order, then shipment, then parcel: one order everywhere
    shipment = Shipment.objects.select_for_update().select_related("order", "location").get(pk=shipment.pk)
    existing = shipment.parcels.first()
    if existing is not None:
        return existing
    if shipment.status != ShipmentStatus.PACKED:
        raise DomainError(f"Shipment {shipment.number} is {shipment.get_status_display()}; pack it first.")
    service = service or service_choose(shipment)
    weight = shipment.weight_g or shipment_needs(shipment)["weight_g"]
    order, location = shipment.order, shipment.location
    adapter = get_adapter(service.carrier.adapter)
    request = LabelRequest(
        shipment_number=shipment.number,
        service_code=service.code,
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
                    expected_delivery=add_business_days(timezone.localdate(), service.transit_days),
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
    parcel = Parcel.objects.select_for_update().select_related("shipment__order", "service").get(pk=parcel.pk)
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
    if event.est_delivery_date and event.est_delivery_date != parcel.expected_delivery:
        parcel.expected_delivery = event.est_delivery_date
        fields.append("expected_delivery")
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
    return True


def parcel_by_tracking_number(tracking_number: str) -> Parcel | None:
    return Parcel.objects.filter(tracking_number=tracking_number.strip()).first()
