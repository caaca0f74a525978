"""End-of-day manifests: the parcels one carrier takes from one location on one day, as a PDF with a
handover signature box and as CSV.

Closing a manifest (`manifest_close`) puts every parcel of that carrier, location and day that is not on a
manifest yet (and not voided) on a new one, and notes the handover on each order's timeline. A parcel on a
manifest has been handed over: it can no longer be voided.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from inventory.models import Location
from oms.errors import DomainError
from oms.exports import escape_formula
from oms.pdf import render_pdf
from orders.services import order_event_record
from orders.status import EventKind
from orders.wording import msg

from .models import Carrier, Manifest, Parcel

TEMPLATE = "logistics/pdf/manifest.html"
CSV_COLUMNS = [
    "manifest",
    "carrier",
    "location",
    "date",
    "tracking_number",
    "service",
    "shipment",
    "order",
    "recipient",
    "province",
    "city",
    "weight_kg",
    "pieces",
]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    end = timezone.make_aware(datetime.combine(day, time.max), tz)
    return start, end


def open_parcels(*, carrier: Carrier, location: Location, day: date | None = None):
    """Parcels of a carrier labelled at a location on a day and not on a manifest yet."""
    day = day or timezone.localdate()
    start, end = _day_bounds(day)
    return (
        Parcel.objects.filter(
            service__carrier=carrier,
            shipment__location=location,
            created_at__range=(start, end),
            manifest__isnull=True,
            voided_at__isnull=True,
        )
        .select_related("service__carrier", "shipment__order", "shipment__location")
        .order_by("id")
    )


def open_counts(day: date | None = None) -> list[dict]:
    """Per carrier and location, how many parcels of the day wait for a manifest."""
    day = day or timezone.localdate()
    start, end = _day_bounds(day)
    rows: dict[tuple[int, int], dict] = {}
    parcels = Parcel.objects.filter(
        created_at__range=(start, end), manifest__isnull=True, voided_at__isnull=True
    ).select_related("service__carrier", "shipment__location")
    for parcel in parcels:
        key = (parcel.service.carrier_id, parcel.shipment.location_id)
        row = rows.setdefault(
            key, {"carrier": parcel.service.carrier, "location": parcel.shipment.location, "parcels": 0, "weight_g": 0}
        )
        row["parcels"] += 1
        row["weight_g"] += parcel.weight_g
    return sorted(rows.values(), key=lambda r: (r["carrier"].name, r["location"].code))


@transaction.atomic
def manifest_close(*, carrier: Carrier, location: Location, day: date | None = None, user=None) -> Manifest:
    """Put the day's open parcels of a carrier at a location on a new manifest."""
    day = day or timezone.localdate()
    parcel_ids = list(
        open_parcels(carrier=carrier, location=location, day=day)
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )
    if not parcel_ids:
        raise DomainError(
            gettext("No %(carrier)s parcels from %(location)s on %(day)s wait for a manifest.")
            % {"carrier": carrier.name, "location": location.code, "day": f"{day:%Y-%m-%d}"}
        )
    manifest = Manifest.objects.create(carrier=carrier, location=location, date=day, created_by=user)
    manifest.number = f"MF{day:%Y%m%d}{manifest.pk:04d}"
    manifest.save(update_fields=["number"])
    Parcel.objects.filter(pk__in=parcel_ids).update(manifest=manifest)
    by_order: dict = {}
    for parcel in Parcel.objects.filter(pk__in=parcel_ids).select_related("shipment__order"):
        by_order.setdefault(parcel.shipment.order, []).append(parcel.tracking_number)
    for order, numbers in by_order.items():
        order_event_record(
            order=order,
            kind=EventKind.NOTE,
            user=user,
            message=msg(
                gettext_noop("Handed to %(carrier)s on manifest %(manifest)s: %(numbers)s"),
                carrier=carrier.name,
                manifest=manifest.number,
                numbers=", ".join(numbers),
            ),
            data={"manifest": manifest.number, "tracking_numbers": numbers},
        )
    return manifest


def manifest_rows(manifest: Manifest) -> list[dict]:
    rows = []
    for parcel in manifest.parcels.select_related("service", "shipment__order").order_by("id"):
        order = parcel.shipment.order
        rows.append(
            {
                "tracking_number": parcel.tracking_number,
                "service": parcel.service.name,
                "shipment": str(parcel.shipment),
                "order": str(order),
                "recipient": order.ship_name,
                "province": order.ship_province,
                "city": order.ship_city,
                "weight_g": parcel.weight_g,
                "weight_kg": f"{parcel.weight_g / 1000:.2f}",
                "pieces": 1,
            }
        )
    return rows


def manifest_context(manifest: Manifest) -> dict:
    rows = manifest_rows(manifest)
    weight = sum(r["weight_g"] for r in rows)
    return {
        "manifest": manifest,
        "number": str(manifest),
        "carrier": manifest.carrier,
        "location": manifest.location,
        "date": manifest.date,
        "rows": rows,
        "totals": {"parcels": len(rows), "pieces": sum(r["pieces"] for r in rows), "weight_kg": f"{weight / 1000:.2f}"},
        "printed_at": timezone.localtime(),
    }


def manifest_pdf(manifest: Manifest, *, request=None) -> bytes:
    """The manifest as an A4 PDF: every parcel, the totals and the handover signature boxes."""
    return render_pdf(TEMPLATE, manifest_context(manifest), request=request)


def manifest_csv(manifest: Manifest) -> bytes:
    """The manifest as CSV (UTF-8 with a byte-order mark, so Excel reads Chinese), with a totals row."""
    context = manifest_context(manifest)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    head = [str(manifest), manifest.carrier.code, manifest.location.code, f"{manifest.date:%Y-%m-%d}"]
    for r in context["rows"]:
        writer.writerow(
            [
                escape_formula(v)
                for v in head
                + [
                    r["tracking_number"],
                    r["service"],
                    r["shipment"],
                    r["order"],
                    r["recipient"],
                    r["province"],
                    r["city"],
                    r["weight_kg"],
                    r["pieces"],
                ]
            ]
        )
    totals = context["totals"]
    writer.writerow(head + ["TOTAL", "", "", "", "", "", "", totals["weight_kg"], totals["pieces"]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
