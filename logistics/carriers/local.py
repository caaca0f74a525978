"""The built-in "local" carrier of the embedded default: our own vans or a courier that takes our labels.

- Labels carry UPU S10 numbers ``LC`` + 8-digit serial + check digit + ``CN`` (`make_s10`).
- Serials are random (``secrets.randbelow``), not counted. A counter would need a sequence table or a
  locked row, and the models are fixed; a random serial needs neither and is safe across processes and
  machines. The price is a rare collision: with N local parcels on file a new number collides with
  probability N / 10**8 (1 % at a million parcels). `Parcel.tracking_number` is unique, so the caller
  creates the parcel inside a savepoint and, on ``IntegrityError``, asks for another label (a few tries are
  plenty). Nothing is reserved at the carrier, so a discarded number costs nothing.
- Rates are base + per started kilogram, from the price list the caller passes in.
- `track` returns ``[]``: the local carrier pushes nothing; its events are recorded by hand.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from logistics.providers.base import NormalizedEvent
from logistics.tracking_numbers import S10_RE, compact_number, is_valid_s10, make_s10

from .base import CarrierError, LabelRequest, LabelResult, Rate, ShipmentInfo

SERVICE_INDICATOR = "LC"
COUNTRY = "CN"
CENT = Decimal("0.01")


def random_serial() -> int:
    """A uniformly random 8-digit S10 serial from the OS's CSPRNG."""
    return secrets.randbelow(100_000_000)


class LocalCarrier:
    name = "local"

    def __init__(self, serial_source: Callable[[], int] = random_serial) -> None:
        self._serial_source = serial_source

    def rates(self, shipment_info: ShipmentInfo) -> list[Rate]:
        """base_rate + per_kg_rate x started kilograms, per service that can take the weight; cheapest first.

        A parcel of 0 g pays the base rate only; 1 g to 1000 g pays one kilogram.
        """
        weight_g = shipment_info.weight_g
        if weight_g < 0:
            raise CarrierError(f"weight cannot be negative: {weight_g} g")
        kilograms = math.ceil(weight_g / 1000)
        rates = []
        for service in shipment_info.services:
            if service.max_weight_g is not None and weight_g > service.max_weight_g:
                continue
            amount = (Decimal(service.base_rate) + Decimal(service.per_kg_rate) * kilograms).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            rates.append(Rate(service.service_code, amount, shipment_info.currency, service.transit_days))
        return sorted(rates, key=lambda r: (r.amount, r.transit_days, r.service_code))

    def create_label(self, request: LabelRequest) -> LabelResult:
        """Issue a fresh ``LC........CN`` number. The caller retries on a unique violation (see module docstring)."""
        if not request.service_code:
            raise CarrierError("a label needs a service code")
        if request.weight_g < 0:
            raise CarrierError(f"weight cannot be negative: {request.weight_g} g")
        tracking_number = make_s10(SERVICE_INDICATOR, self._serial_source(), COUNTRY)
        return LabelResult(tracking_number=tracking_number, carrier_reference=request.shipment_number)

    def void(self, tracking_number: str, carrier_reference: str = "") -> None:
        """Nothing to cancel at a carrier; only checks that the number is one of ours."""
        if not is_local_number(tracking_number):
            raise CarrierError(f"{tracking_number!r} is not a local carrier tracking number")

    def track(self, tracking_number: str) -> list[NormalizedEvent]:
        return []


def is_local_number(number: object) -> bool:
    """A valid S10 number issued by the local carrier (``LC`` ... ``CN``)."""
    if not is_valid_s10(number):
        return False
    match = S10_RE.match(compact_number(number) or "")
    return bool(match) and match.group(1) == SERVICE_INDICATOR and match.group(4) == COUNTRY
