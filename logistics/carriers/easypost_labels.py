"""EasyPost as a carrier adapter: rates, buying a label, refunding (voiding) it, and tracking.

Written to EasyPost's API v2 as documented in its API reference (https://docs.easypost.com/docs/shipments,
https://docs.easypost.com/docs/trackers) and as its official Python client calls it (repository
EasyPost/easypost-python: ``easypost/services/shipment_service.py`` and the recorded responses in
``tests/cassettes/test_shipment_buy.yaml``, read 2025):

- Base URL ``https://api.easypost.com/v2``; HTTP Basic authentication with the API key as the user
  name and an empty password; JSON bodies.
- ``POST /shipments`` with ``{"shipment": {"to_address", "from_address", "parcel", "options",
  "reference"}}`` answers ``201`` with a Shipment (``id`` ``shp_...``) whose ``rates[]`` each carry ``id``
  (``rate_...``), ``carrier`` (``"USPS"``), ``service`` (``"Priority"``), ``rate`` (a decimal string),
  ``currency``, ``delivery_days`` (or ``null``) and ``est_delivery_days``. ``messages[]`` lists carriers
  that could not rate (``type: "rate_error"``).
  Address fields: ``name, company, street1, street2, city, state, zip, country, phone, email``.
  Parcel: ``length, width, height`` in inches and ``weight`` in ounces (floats).
  ``options.label_format``: ``PNG`` (the default), ``PDF``, ``ZPL`` or ``EPL2``; labels are 4x6 by default.
- ``POST /shipments/:id/buy`` with ``{"rate": {"id": "rate_..."}}`` answers with the Shipment, now with
  ``tracking_code``, ``selected_rate`` and ``postage_label`` (``label_url``, and ``label_pdf_url`` /
  ``label_zpl_url`` when that format was asked for).
- ``POST /shipments/:id/refund`` answers with the Shipment and ``refund_status``: ``submitted``,
  ``refunded``, ``rejected`` or ``not_applicable``. EasyPost has no separate "void": an unused label is
  refunded. Only ``rejected`` and ``not_applicable`` are refusals.
- ``POST /trackers`` with ``{"tracker": {"tracking_code", "carrier"}}`` answers with a Tracker, parsed by
  `logistics.providers.easypost.parse_tracker` (the same parser as the webhook).
- Errors: a non-2xx status with ``{"error": {"code", "message", "errors": [{"field", "message"}]}}``.
  4xx -> `CarrierError` (do not retry); 5xx, 429, timeouts and connection errors -> `TransientCarrierError`.

Our service levels name the EasyPost rate they stand for in ``ServiceLevel.external_code`` as
``"CARRIER:Service"`` (``"USPS:Priority"``); ``rates()`` returns rates with ``service_code`` in that form.

The HTTP transport is injected (``transport(method, url, headers, body) -> (status, body)``), so tests
drive the adapter with EasyPost-shaped responses and never touch the network; the default transport uses
``urllib`` with a timeout, over https only (plain http only to a loopback address: the test suite's fake
EasyPost server, tests/logistics/fake_easypost.py). The base URL and API key come from the Carrier
(``configure``); the label file itself is fetched from the bought label's URL (``fetch_label``).
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from logistics.providers.base import NormalizedEvent
from logistics.providers.easypost import parse_tracker

from .base import (
    CarrierAccount,
    CarrierError,
    LabelRequest,
    LabelResult,
    Rate,
    ShipmentInfo,
    TransientCarrierError,
)
from .http import Transport, make_transport

API_BASE = "https://api.easypost.com/v2"
GRAMS_PER_OUNCE = 28.349523125
MM_PER_INCH = 25.4
LABEL_FORMATS = ("PDF", "ZPL", "PNG", "EPL2")

urllib_transport = make_transport("EasyPost")


def ounces(grams: int) -> float:
    """Grams to ounces, rounded up to 0.1 oz (never 0: EasyPost refuses a weightless parcel)."""
    return max(0.1, math.ceil(grams / GRAMS_PER_OUNCE * 10) / 10)


def inches(mm: int) -> float:
    return max(0.1, math.ceil(mm / MM_PER_INCH * 10) / 10)


def easypost_address(address: Mapping[str, str]) -> dict:
    """Our plain address dict (name, phone, country, province, city, district, address1, address2,
    postcode, email) as an EasyPost Address."""
    street1 = address.get("address1", "")
    district = address.get("district", "")
    if district and district not in street1:
        street1 = f"{district} {street1}".strip()
    result = {
        "name": address.get("name", ""),
        "street1": street1,
        "street2": address.get("address2", ""),
        "city": address.get("city", ""),
        "state": address.get("province", ""),
        "zip": address.get("postcode", ""),
        "country": (address.get("country") or "").upper(),
        "phone": address.get("phone", ""),
        "email": address.get("email", ""),
    }
    return {k: v for k, v in result.items() if v}


def _rate_name(rate: Mapping[str, Any]) -> str:
    return f"{rate.get('carrier', '')}:{rate.get('service', '')}"


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise CarrierError(f"EasyPost sent a rate that is not a number: {value!r}")


class EasyPostCarrier:
    name = "easypost"
    remote = True

    def __init__(self, api_key: str | None = None, transport: Transport | None = None, base_url: str = API_BASE):
        self.api_key = api_key if api_key is not None else os.environ.get("EASYPOST_API_KEY", "")
        self.transport = transport or urllib_transport
        self.base_url = base_url.rstrip("/")

    def __repr__(self) -> str:  # the key never reaches a log
        return f"EasyPostCarrier(base_url={self.base_url!r})"

    def configure(self, account: CarrierAccount) -> None:
        """The Carrier's own key and base URL (empty: EASYPOST_API_KEY and the production URL)."""
        if account.api_key:
            self.api_key = account.api_key
        if account.base_url:
            self.base_url = account.base_url.rstrip("/")

    def fetch_label(self, url: str) -> bytes:
        """The bought label's file from its URL (EasyPost serves it from its file store, without auth)."""
        if not url:
            raise TransientCarrierError("EasyPost sent no label URL")
        status, body = self.transport("GET", url, {"Accept": "*/*"}, None)
        if status >= 400 or not body:
            raise TransientCarrierError(f"the label file could not be fetched from EasyPost ({status})")
        return body

    # ---- HTTP ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        if not self.api_key:
            raise CarrierError("EasyPost needs an API key (Carrier.api_key or EASYPOST_API_KEY).")
        token = base64.b64encode(f"{self.api_key}:".encode()).decode("ascii")
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        status, raw = self.transport(method, f"{self.base_url}{path}", headers, body)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = {}
        if status >= 500 or status == 429:
            raise TransientCarrierError(f"EasyPost answered {status}: {self._error_text(data)}")
        if status >= 400:
            raise CarrierError(f"EasyPost refused ({status}): {self._error_text(data)}")
        if not isinstance(data, dict):
            raise TransientCarrierError(f"EasyPost answered {status} with no JSON object")
        return data

    @staticmethod
    def _error_text(data: Any) -> str:
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return "no error details"
        text = f"{error.get('code', '')} {error.get('message', '')}".strip()
        fields = [f"{e.get('field')}: {e.get('message')}" for e in error.get("errors") or [] if isinstance(e, dict)]
        return text + (" (" + "; ".join(fields) + ")" if fields else "")

    # ---- shipments -------------------------------------------------------------------------

    def _shipment_payload(self, *, sender, recipient, weight_g, dimensions_mm, label_format, reference) -> dict:
        parcel: dict[str, float] = {"weight": ounces(weight_g)}
        if dimensions_mm and all(dimensions_mm):
            length, width, height = dimensions_mm
            parcel.update(length=inches(length), width=inches(width), height=inches(height))
        shipment = {
            "to_address": easypost_address(recipient),
            "from_address": easypost_address(sender),
            "parcel": parcel,
            "options": {"label_format": label_format},
        }
        if reference:
            shipment["reference"] = reference
        return {"shipment": shipment}

    def _create_shipment(self, **kwargs) -> dict:
        shipment = self._call("POST", "/shipments", self._shipment_payload(**kwargs))
        if not str(shipment.get("id", "")).startswith("shp_"):
            raise TransientCarrierError("EasyPost created no shipment id")
        return shipment

    def rates(self, shipment_info: ShipmentInfo) -> list[Rate]:
        """EasyPost's rates for the parcel, cheapest first, with ``service_code`` = ``"CARRIER:Service"``.

        Rates without ``delivery_days`` fall back to ``est_delivery_days``, else 0 (unknown)."""
        shipment = self._create_shipment(
            sender=shipment_info.sender,
            recipient=shipment_info.recipient,
            weight_g=shipment_info.weight_g,
            dimensions_mm=shipment_info.dimensions_mm,
            label_format="PDF",
            reference="",
        )
        result = []
        for rate in shipment.get("rates") or []:
            days = rate.get("delivery_days") or rate.get("est_delivery_days") or 0
            result.append(Rate(_rate_name(rate), _decimal(rate.get("rate")), rate.get("currency") or "USD", int(days)))
        return sorted(result, key=lambda r: (r.amount, r.transit_days, r.service_code))

    def create_label(self, request: LabelRequest) -> LabelResult:
        """Create the shipment, buy the rate named by ``request.external_service``, return the label."""
        label_format = (request.label_format or "PDF").upper()
        if label_format not in LABEL_FORMATS:
            raise CarrierError(f"EasyPost labels are {', '.join(LABEL_FORMATS)}, not {label_format}")
        wanted = request.external_service or request.service_code
        shipment = self._create_shipment(
            sender=request.sender,
            recipient=request.recipient,
            weight_g=request.weight_g,
            dimensions_mm=request.dimensions_mm,
            label_format=label_format,
            reference=request.shipment_number,
        )
        rates = shipment.get("rates") or []
        if ":" in wanted:
            match = [r for r in rates if _rate_name(r).lower() == wanted.lower()]
        else:
            match = [r for r in rates if str(r.get("service", "")).lower() == wanted.lower()]
        if not match:
            offered = ", ".join(sorted(_rate_name(r) for r in rates)) or "none"
            problems = "; ".join(
                f"{m.get('carrier')}: {m.get('message')}" for m in shipment.get("messages") or [] if isinstance(m, dict)
            )
            raise CarrierError(
                f"EasyPost offered no rate {wanted!r} for {request.shipment_number}; offered: {offered}"
                + (f" ({problems})" if problems else "")
            )
        rate = min(match, key=lambda r: _decimal(r.get("rate")))
        bought = self._call("POST", f"/shipments/{shipment['id']}/buy", {"rate": {"id": rate["id"]}})
        tracking = bought.get("tracking_code")
        label = bought.get("postage_label") or {}
        if not tracking or not isinstance(label, dict):
            raise TransientCarrierError(f"EasyPost bought {shipment['id']} but sent no tracking code or label")
        url = {"PDF": label.get("label_pdf_url"), "ZPL": label.get("label_zpl_url")}.get(label_format) or label.get(
            "label_url", ""
        )
        selected = bought.get("selected_rate") or rate
        return LabelResult(
            tracking_number=str(tracking),
            carrier_reference=str(bought.get("id") or shipment["id"]),
            label_url=url or "",
            label_format=label_format,
            amount=_decimal(selected.get("rate")),
            currency=selected.get("currency") or "USD",
        )

    def void(self, tracking_number: str, carrier_reference: str = "") -> None:
        """Refund an unused label (``carrier_reference`` is the ``shp_`` id). Refused refunds raise."""
        if not carrier_reference.startswith("shp_"):
            raise CarrierError(f"voiding {tracking_number} needs its EasyPost shipment id (shp_...)")
        shipment = self._call("POST", f"/shipments/{carrier_reference}/refund")
        status = shipment.get("refund_status")
        if status not in ("submitted", "refunded"):
            raise CarrierError(f"EasyPost did not refund {tracking_number}: refund_status {status!r}")

    def track(self, tracking_number: str, carrier: str = "") -> list[NormalizedEvent]:
        tracker = {"tracking_code": tracking_number}
        if carrier:
            tracker["carrier"] = carrier
        data = self._call("POST", "/trackers", {"tracker": tracker})
        return parse_tracker(data, context={"source": "easypost-poll"})
