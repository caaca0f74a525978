"""Labels from real carriers (remote adapters: EasyPost, Kdniao), bought in the pack flow, printed as the
carrier's own file, voided through the outbox.

- `carrier_adapter(carrier)`: the adapter of a Carrier, configured with its settings (`carrier_account`).
- `label_buy(...)`: called by `logistics.services.shipment_dispatch` BEFORE its transaction. Reuses the
  shipment's unused `LabelPurchase` if there is one (a retry after a failed write, a second click), else asks
  the carrier (network, no transaction open by us; EasyPost ``reference`` and Kdniao ``OrderCode`` are the
  shipment number), records what the carrier answered at once in its own short transaction, then fetches the
  label file (EasyPost) and stores it. A refusal or an unreachable carrier raises `CarrierError`, writes a
  note on the order's timeline and leaves the shipment packed: pressing "Pack & print label" again retries.
- `label_void_request(...)`: in the cancel's transaction, one outbox row ``carrier.void`` per label (same
  label, same key: written once); `send_carrier_voids` sends them (refund at EasyPost, 1147 at Kdniao) with
  the outbox's retries, backoff and dead letter.
- `carrier_label_file(parcel)`: what the label download prints: the carrier's stored file (PDF/ZPL/PNG), or
  for Kdniao our drawing of the e-waybill (`logistics.carriers.kdniao_label`); None for the OMS's own label.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from pypdf import PdfReader, PdfWriter

from oms import outbox
from oms.outbox import dead, retry, sent
from orders.services import order_event_record
from orders.status import EventKind
from orders.wording import known, msg

from .carriers.base import CarrierAccount, CarrierError, LabelRequest, TransientCarrierError, get_adapter, is_remote
from .carriers.kdniao_label import waybill_pdf
from .models import Carrier, LabelPurchase, Parcel

# The outbox reasons written below (the Background work page reads them in the reader's language; the carrier's
# own error text stays as the carrier wrote it).
known(
    gettext_noop("The carrier of this label no longer exists."),
    gettext_noop("%(carrier)s refused to void %(tracking)s: %(error)s"),
)

log = logging.getLogger(__name__)

CARRIER_VOID = "carrier.void"
CONTENT_TYPES = {"PDF": "application/pdf", "ZPL": "application/zpl; charset=utf-8", "PNG": "image/png"}
EXTENSIONS = {"PDF": "pdf", "ZPL": "zpl", "PNG": "png", "EPL2": "epl"}


def carrier_account(carrier: Carrier) -> CarrierAccount:
    return CarrierAccount(
        api_key=carrier.api_key,
        base_url=carrier.api_base_url,
        account_id=carrier.account_id,
        shipper_code=carrier.shipper_code,
        options=dict(carrier.account_options or {}),
        label_format=(carrier.label_format or "PDF").upper(),
    )


def carrier_adapter(carrier: Carrier):
    """The adapter of a carrier, given the carrier's own settings (API key, base URL, account)."""
    adapter = get_adapter(carrier.adapter)
    if hasattr(adapter, "configure"):
        adapter.configure(carrier_account(carrier))
    elif getattr(carrier, "api_key", "") and hasattr(adapter, "api_key"):
        adapter.api_key = carrier.api_key
    return adapter


def carrier_is_remote(carrier: Carrier) -> bool:
    try:
        return is_remote(get_adapter(carrier.adapter))
    except LookupError:
        return False


# ---- buying ---------------------------------------------------------------------------------------


def _failed(shipment, service, exc: Exception, user) -> None:
    text = msg(
        gettext_noop(
            "Label from %(carrier)s could not be bought for %(shipment)s: %(error)s. "
            "The shipment stays packed; try again."
        ),
        carrier=service.carrier.name,
        shipment=shipment.number,
        error=str(exc),
    )
    with transaction.atomic():
        order_event_record(
            order=shipment.order,
            kind=EventKind.NOTE,
            user=user,
            message=text,
            data={"shipment": shipment.number, "label": "failed", "carrier": service.carrier.code},
        )


def label_buy(*, shipment, service, request: LabelRequest, user=None) -> LabelPurchase:
    """The carrier's label for the shipment: an unused one bought before, or a new one (see the module doc)."""
    purchase = (
        LabelPurchase.objects.filter(
            shipment=shipment, service=service, parcel__isnull=True, void_requested_at__isnull=True
        )
        .order_by("-pk")
        .first()
    )
    adapter = carrier_adapter(service.carrier)
    if purchase is None:
        fmt = (service.carrier.label_format or "PDF").upper()
        try:
            label = adapter.create_label(_with_format(request, fmt))
        except CarrierError as exc:
            _failed(shipment, service, exc, user)
            raise
        with transaction.atomic():
            purchase = LabelPurchase.objects.create(
                shipment=shipment,
                service=service,
                tracking_number=label.tracking_number[:40],
                carrier_reference=label.carrier_reference[:64],
                label_format=(label.label_format or fmt)[:8],
                label_url=label.label_url[:500],
                data=label.data or {},
                amount=label.amount,
                currency=(label.currency or "")[:3],
            )
    if not purchase.label_file and purchase.label_url and hasattr(adapter, "fetch_label"):
        try:
            content = adapter.fetch_label(purchase.label_url)
        except CarrierError as exc:
            _failed(shipment, service, exc, user)
            raise
        LabelPurchase.objects.filter(pk=purchase.pk).update(label_file=content)
        purchase.label_file = content
    return purchase


def _with_format(request: LabelRequest, fmt: str) -> LabelRequest:
    return replace(request, label_format=fmt)


# ---- voiding --------------------------------------------------------------------------------------


def label_void_request(*, carrier: Carrier, tracking_number: str, carrier_reference: str, shipment_number: str):
    """Write the outbox row that voids a bought label at its carrier (in the caller's transaction); mark the
    unused purchases of that number as void requested."""
    outbox.outbox_put(
        kind=CARRIER_VOID,
        destination=carrier.code,
        key=f"{carrier.code}:{tracking_number}",
        payload={
            "carrier_id": carrier.pk,
            "tracking_number": tracking_number,
            "carrier_reference": carrier_reference,
            "shipment": shipment_number,
        },
        subject=shipment_number,
    )
    LabelPurchase.objects.filter(tracking_number=tracking_number, void_requested_at__isnull=True).update(
        void_requested_at=timezone.now()
    )


def unused_purchases_void(*, shipment_ids) -> list[str]:
    """Labels bought for these shipments but never used by a parcel (a write that failed after the buy):
    void them through the outbox too. The caller holds the order's lock and its transaction."""
    done = []
    purchases = LabelPurchase.objects.filter(
        shipment_id__in=list(shipment_ids), parcel__isnull=True, void_requested_at__isnull=True
    ).select_related("service__carrier", "shipment")
    # A repeat order can come back with the number already on a parcel (Kdniao answers the same OrderCode
    # with the same waybill): that label is in use, never cancel it from here.
    in_use = set(
        Parcel.objects.filter(
            tracking_number__in=[p.tracking_number for p in purchases], voided_at__isnull=True
        ).values_list("tracking_number", flat=True)
    )
    for purchase in purchases:
        if purchase.tracking_number in in_use:
            continue
        label_void_request(
            carrier=purchase.service.carrier,
            tracking_number=purchase.tracking_number,
            carrier_reference=purchase.carrier_reference,
            shipment_number=purchase.shipment.number,
        )
        done.append(f"unused label {purchase.tracking_number}: void requested from {purchase.service.carrier.name}")
    return done


def send_carrier_voids(rows) -> dict:
    """Outbox handler of ``carrier.void``: one void call per row; refusals are dead letters, failures retried."""
    carriers = Carrier.objects.in_bulk({row.payload.get("carrier_id") for row in rows})
    outcomes = {}
    for row in rows:
        carrier = carriers.get(row.payload.get("carrier_id"))
        if carrier is None:
            outcomes[row.pk] = dead("The carrier of this label no longer exists.")
            continue
        try:
            carrier_adapter(carrier).void(row.payload["tracking_number"], row.payload.get("carrier_reference", ""))
        except TransientCarrierError as exc:
            outcomes[row.pk] = retry(str(exc))
        except CarrierError as exc:
            outcomes[row.pk] = dead(f"{carrier.name} refused to void {row.payload['tracking_number']}: {exc}")
        else:
            outcomes[row.pk] = sent()
    return outcomes


def register() -> None:
    outbox.register_outbox_handler(CARRIER_VOID, send_carrier_voids, rate_per_minute=120)


# ---- printing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelFile:
    content: bytes
    content_type: str
    filename: str
    format: str


def parcel_purchase(parcel: Parcel) -> LabelPurchase | None:
    return LabelPurchase.objects.filter(parcel=parcel).first()


def carrier_label_file(parcel: Parcel) -> LabelFile | None:
    """The carrier's own label of a parcel (see the module doc); None when the OMS label is the one to print.
    Raises `CarrierError` when a bought label's file is missing (never falls back to a label the carrier
    did not issue)."""
    purchase = parcel_purchase(parcel)
    if purchase is None:
        return None
    fmt = (purchase.label_format or "PDF").upper()
    if purchase.label_file:
        content = bytes(purchase.label_file)
    elif parcel.service.carrier.adapter == "kdniao":
        content, fmt = waybill_pdf(parcel, purchase), "PDF"
    else:
        raise CarrierError(
            gettext("The label file of %(tracking)s is missing: fetch it from the carrier.")
            % {"tracking": parcel.tracking_number}
        )
    return LabelFile(
        content=content,
        content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"),
        filename=f"label-{parcel.tracking_number}.{EXTENSIONS.get(fmt, 'bin')}",
        format=fmt,
    )


def carrier_label_files(parcels) -> dict[int, LabelFile]:
    """{parcel id: the carrier's label} for the parcels that have one (a wave's labels)."""
    bought = {p.parcel_id for p in LabelPurchase.objects.filter(parcel__in=list(parcels)).only("parcel_id")}
    return {p.pk: carrier_label_file(p) for p in parcels if p.pk in bought}


def pdf_join(parcels, files: dict[int, LabelFile], own_pdf: bytes) -> bytes:
    """One PDF of a wave's labels in the parcels' order: the carriers' own PDF pages, and the pages of our
    labels (``own_pdf``, one page per parcel without a carrier label, in the same order)."""
    own = PdfReader(io.BytesIO(own_pdf)).pages if own_pdf else []
    writer = PdfWriter()
    next_own = 0
    for parcel in parcels:
        if parcel.pk in files:
            for page in PdfReader(io.BytesIO(files[parcel.pk].content)).pages:
                writer.add_page(page)
        elif next_own < len(own):
            writer.add_page(own[next_own])
            next_own += 1
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
