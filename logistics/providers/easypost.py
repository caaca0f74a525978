"""EasyPost tracking pushes (`tracker.created` / `tracker.updated` webhooks) and polled Trackers.

Sources followed (stored copies read 2025; re-check them when EasyPost changes its API):

- Webhook signature: EasyPost's official Python client, repository EasyPost/easypost-python,
  ``validate_webhook`` (``easypost/webhook.py``, later moved to ``easypost/util.py``) and its test
  ``tests/test_webhook.py``: header ``X-Hmac-Signature`` holds ``"hmac-sha256-hex=" + hexdigest`` of
  HMAC-SHA256 over the raw request body, keyed with the webhook secret normalised with
  ``unicodedata.normalize("NFKD", secret)`` and encoded UTF-8, compared with ``hmac.compare_digest``.
  The Webhooks Guide (https://docs.easypost.com/guides/webhooks-guide) names the same header.
- Event and Tracker shape: https://docs.easypost.com/docs/trackers (Tracker, TrackingDetail,
  TrackingLocation, CarrierDetail) and EasyPost's sample event ``official/fixtures/event-body.json`` in
  repository EasyPost/examples (an Event with ``object: "Event"``, ``description: "tracker.updated"``,
  ``mode``, ``created_at``, ``result`` = a Tracker with ``tracking_details[]``).
- Status and status_detail values: EasyPost's C# client, repository EasyPost/easypost-csharp,
  ``EasyPost/Models/API/TrackingDetail.cs``, which lists the documented values:
  status ``pre_transit, in_transit, out_for_delivery, delivered, available_for_pickup, return_to_sender,
  failure, cancelled, unknown`` (a Tracker may also be ``error``), and status_detail ``address_correction,
  arrived_at_destination, arrived_at_facility, arrived_at_pickup_location, awaiting_information, cancelled,
  damaged, delayed, delivery_exception, departed_facility, departed_origin_facility, expired, failure, held,
  in_transit, label_created, lost, missorted, out_for_delivery, received_at_destination_facility,
  received_at_origin_facility, refused, return, status_update, transferred_to_destination_carrier,
  transit_exception, unknown, weather_delay``.

Mapping (the tables `STATUS_MAP`, `DETAIL_MAP`, `PAIR_MAP`; `map_status` reads them; a test walks every entry):

- Every documented ``status`` has a meaning: ``pre_transit`` information received, ``return_to_sender``
  returning to the sender (EasyPost's word for a parcel on its way back), ``failure`` and ``cancelled`` an
  exception. ``unknown`` and ``error`` produce no event: they say what EasyPost knows about the tracker
  (nothing yet, or it could not reach the carrier), not where the parcel is.
- A ``status_detail`` that names a problem wins over a moving status: ``refused`` and ``return`` ->
  returning to sender; ``delivery_exception`` -> failed attempt (the carrier could not complete the delivery);
  ``lost`` -> lost; ``address_correction``, ``damaged``, ``held``, ``delayed``, ``weather_delay``,
  ``transit_exception``, ``cancelled``, ``expired`` -> exception (the words and the code go to the case).
  ``arrived_at_pickup_location`` -> available for pickup. Every other documented detail says where a moving
  parcel is, and the status decides.
- A delay or exception detail whose carrier message says the courier could not hand it over (FedEx's "Delivery
  exception / Customer not available or business closed", "Delivery attempted") reads as a failed attempt
  (`ATTEMPT_WORDS`).
- Not in EasyPost's documented list but seen in carrier data: ``delivery_failed`` and ``address_not_found``
  (-> failed attempt), kept in `DETAIL_MAP` with a note.
- Nothing is guessed: a status outside the documented set gives an ``unknown`` event, and a documented status
  with an unknown detail keeps the status's meaning; both are flagged (``code_known=False``), stored with their
  raw record, shown to staff and applied to nothing they cannot mean.
- Events whose description is not ``tracker.created``/``tracker.updated`` (batch, payment, refund, ...)
  parse to ``[]``.
- An unreadable optional ``est_delivery_date`` is treated as absent rather than refusing the push.

Every TrackingDetail becomes one `NormalizedEvent` (the whole history comes in each push, in any order),
so late and out-of-order scans are handled by the caller's dedupe on ``dedupe_key``. The list is returned
sorted by ``occurred_at``. A Tracker with no details yields one event from its own status at
``updated_at`` (or ``created_at``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from logistics.status import TrackingStatus

from .base import Mapped, NormalizedEvent, PayloadInvalid, SignatureInvalid

SOURCE = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})

T = TrackingStatus

# Every documented status -> ours. None: no event (see the module docstring).
STATUS_MAP: dict[str, str | None] = {
    "unknown": None,
    "error": None,
    "pre_transit": T.INFO_RECEIVED.value,
    "in_transit": T.IN_TRANSIT.value,
    "out_for_delivery": T.OUT_FOR_DELIVERY.value,
    "delivered": T.DELIVERED.value,
    "available_for_pickup": T.AVAILABLE_FOR_PICKUP.value,
    "return_to_sender": T.RETURNING_TO_SENDER.value,
    "failure": T.EXCEPTION.value,
    "cancelled": T.EXCEPTION.value,
}

# Every documented status_detail: what it says over the status, or None when it only says where a moving parcel
# is (the status decides).
DETAIL_MAP: dict[str, str | None] = {
    "address_correction": T.EXCEPTION.value,
    "arrived_at_destination": None,
    "arrived_at_facility": None,
    "arrived_at_pickup_location": T.AVAILABLE_FOR_PICKUP.value,
    "awaiting_information": None,
    "cancelled": T.EXCEPTION.value,
    "damaged": T.EXCEPTION.value,
    "delayed": T.EXCEPTION.value,
    "delivery_exception": T.FAILED_ATTEMPT.value,
    "departed_facility": None,
    "departed_origin_facility": None,
    "expired": T.EXCEPTION.value,
    "failure": None,
    "held": T.EXCEPTION.value,
    "in_transit": None,
    "label_created": None,
    "lost": T.LOST.value,
    "missorted": None,
    "out_for_delivery": None,
    "received_at_destination_facility": None,
    "received_at_origin_facility": None,
    "refused": T.RETURNING_TO_SENDER.value,
    "return": T.RETURNING_TO_SENDER.value,
    "status_update": None,
    "transferred_to_destination_carrier": None,
    "transit_exception": T.EXCEPTION.value,
    "unknown": None,
    "weather_delay": T.EXCEPTION.value,
    # Not in EasyPost's documented list; seen in carrier data (issue 13): a failed delivery, said two ways.
    "delivery_failed": T.FAILED_ATTEMPT.value,
    "address_not_found": T.FAILED_ATTEMPT.value,
}

# Pairs where the status keeps its meaning whatever the detail says.
STATUS_KEEPS = {
    # delivered is delivered; a parcel on its way back stays on its way back (unless the carrier lost it)
    "delivered": frozenset(),
    "return_to_sender": frozenset({T.LOST.value}),
    "unknown": frozenset(),
    "error": frozenset(),
}
PAIR_MAP: dict[tuple[str, str], str | None] = {
    ("available_for_pickup", "held"): T.AVAILABLE_FOR_PICKUP.value,  # held for the customer to collect
    ("pre_transit", "awaiting_information"): T.INFO_RECEIVED.value,
}
# Details that may hide a failed hand-over; the carrier's message decides (FedEx: "Customer not available or
# business closed").
ATTEMPT_DETAILS = frozenset({"delayed", "delivery_exception", "transit_exception", "failure", "status_update"})
ATTEMPT_WORDS = (
    "not available",
    "unavailable",
    "business closed",
    "no one",
    "nobody",
    "not home",
    "delivery attempt",
    "attempted",
    "no access",
    "unable to deliver",
    "could not be delivered",
)


# --------------------------------------------------------------------------- signature


def compute_signature(body: bytes, secret: str) -> str:
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body`` under ``secret``."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup; also finds the WSGI/`request.META` spelling ``HTTP_X_HMAC_SIGNATURE``."""
    wanted = name.lower().replace("_", "-")
    for key, value in headers.items():
        k = str(key).lower().replace("_", "-")
        if k.startswith("http-"):
            k = k[5:]
        if k == wanted:
            return value
    return None


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise `SignatureInvalid` unless ``headers`` carry EasyPost's HMAC of ``body`` under ``secret``.

    ``body`` must be the raw request body (``request.body``), never re-serialised JSON. A missing header, a
    malformed value or an empty secret are all invalid: an endpoint without a secret accepts nothing.
    """
    if not secret:
        raise SignatureInvalid("no webhook secret is configured for this carrier")
    received = header_value(headers, SIGNATURE_HEADER)
    if not received:
        raise SignatureInvalid(f"the {SIGNATURE_HEADER} header is missing")
    if isinstance(body, str):
        body = body.encode("utf-8")
    expected = compute_signature(bytes(body), secret)
    # compare bytes: compare_digest refuses non-ASCII str, and a header may hold anything.
    if not hmac.compare_digest(expected.encode("ascii"), received.strip().lower().encode("utf-8", "replace")):
        raise SignatureInvalid("the signature does not match the body and the webhook secret")


# --------------------------------------------------------------------------- status mapping


def map_status(status: str, status_detail: str | None = None, message: str = "") -> Mapped:
    """Our `TrackingStatus` value for an EasyPost (status, status_detail) and the carrier's message
    (``status`` None: no event); ``known`` False when the status or the detail is not in our tables."""
    if status not in STATUS_MAP:
        return Mapped(T.UNKNOWN.value, known=False)
    ours = STATUS_MAP[status]
    known = status_detail is None or status_detail in DETAIL_MAP
    if ours is None:
        return Mapped(None, known)
    if status_detail is not None and (status, status_detail) in PAIR_MAP:
        return Mapped(PAIR_MAP[(status, status_detail)])
    detail = DETAIL_MAP.get(status_detail) if status_detail else None
    keeps = STATUS_KEEPS.get(status)
    if detail is not None and (keeps is None or detail in keeps):
        ours = detail
    if (
        ours in (T.EXCEPTION.value, T.IN_TRANSIT.value, T.OUT_FOR_DELIVERY.value)
        and (status_detail in ATTEMPT_DETAILS or (status == "failure" and status_detail is None))
        and any(w in message.lower() for w in ATTEMPT_WORDS)
    ):
        ours = T.FAILED_ATTEMPT.value
    return Mapped(ours, known)


# --------------------------------------------------------------------------- parsing


def parse_event(body: bytes | str) -> list[NormalizedEvent]:
    """Parse a webhook body (an EasyPost Event) into events, oldest first.

    Raises `PayloadInvalid` for a body that is not JSON, not an ``Event``, or whose Tracker lacks what we need.
    Returns ``[]`` for events that are not about trackers.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise PayloadInvalid("body", f"not JSON ({exc})")
    if not isinstance(data, dict):
        raise PayloadInvalid("body", f"expected a JSON object, got {type(data).__name__}")
    if data.get("object") != "Event":
        raise PayloadInvalid("object", f"expected 'Event', got {data.get('object')!r}")
    description = data.get("description")
    if not isinstance(description, str) or not description:
        raise PayloadInvalid("description", "missing")
    if description not in TRACKER_EVENTS:
        return []
    if "result" not in data or data["result"] is None:
        raise PayloadInvalid("result", "missing")
    context = {"event_id": data.get("id"), "event": description, "mode": data.get("mode")}
    return parse_tracker(data["result"], path="result", context=context)


def parse_tracker(
    tracker: Mapping[str, Any], *, path: str = "tracker", context: Mapping[str, Any] | None = None
) -> list[NormalizedEvent]:
    """Parse an EasyPost Tracker (from a webhook's ``result`` or from ``GET /trackers/:id``), oldest first.

    ``path`` prefixes field names in `PayloadInvalid` messages; ``context`` is copied into each event's ``raw``.
    """
    if not isinstance(tracker, Mapping):
        raise PayloadInvalid(path, f"expected a Tracker object, got {type(tracker).__name__}")
    if tracker.get("object") != "Tracker":
        raise PayloadInvalid(f"{path}.object", f"expected 'Tracker', got {tracker.get('object')!r}")
    tracking_number = tracker.get("tracking_code")
    if not isinstance(tracking_number, str) or not tracking_number.strip():
        raise PayloadInvalid(f"{path}.tracking_code", "missing")
    tracking_number = tracking_number.strip()
    est = _est_delivery_date(tracker)
    base_raw = {
        **(dict(context) if context else {}),
        "tracker_id": tracker.get("id"),
        "carrier": tracker.get("carrier"),
    }

    details = tracker.get("tracking_details")
    if details is None:
        details = []
    if not isinstance(details, list):
        raise PayloadInvalid(f"{path}.tracking_details", f"expected a list, got {type(details).__name__}")

    events: list[NormalizedEvent] = []
    if details:
        for i, detail in enumerate(details):
            event = _detail_event(detail, f"{path}.tracking_details[{i}]", tracking_number, est, base_raw)
            if event is not None:
                events.append(event)
    else:
        event = _tracker_event(tracker, path, tracking_number, est, base_raw)
        if event is not None:
            events.append(event)

    unique: dict[str, NormalizedEvent] = {}
    for event in events:
        unique.setdefault(event.dedupe_key, event)
    return sorted(unique.values(), key=lambda e: e.occurred_at)


def _detail_event(
    detail: Any, path: str, tracking_number: str, est: date | None, base_raw: dict
) -> NormalizedEvent | None:
    if not isinstance(detail, Mapping):
        raise PayloadInvalid(path, f"expected a TrackingDetail object, got {type(detail).__name__}")
    status, status_detail = _status_pair(detail, path)
    description = _text(detail.get("message")) or _text(detail.get("description"))
    mapped = map_status(status, status_detail, description)
    if mapped.status is None:
        return None
    occurred_at = _parse_datetime(detail.get("datetime"), f"{path}.datetime")
    return NormalizedEvent.build(
        tracking_number=tracking_number,
        status=mapped.status,
        code_known=mapped.known,
        occurred_at=occurred_at,
        description=description,
        location=_location(detail.get("tracking_location")),
        carrier_status=_carrier_status(status, status_detail),
        est_delivery_date=est,
        raw={**base_raw, "detail": dict(detail)},
    )


def _tracker_event(
    tracker: Mapping[str, Any], path: str, tracking_number: str, est: date | None, base_raw: dict
) -> NormalizedEvent | None:
    status, status_detail = _status_pair(tracker, path)
    mapped = map_status(status, status_detail)
    if mapped.status is None:
        return None
    field_name = "updated_at" if tracker.get("updated_at") else "created_at"
    occurred_at = _parse_datetime(tracker.get(field_name), f"{path}.{field_name}")
    return NormalizedEvent.build(
        tracking_number=tracking_number,
        status=mapped.status,
        code_known=mapped.known,
        occurred_at=occurred_at,
        description="",
        location="",
        carrier_status=_carrier_status(status, status_detail),
        est_delivery_date=est,
        raw={**base_raw, "tracker_status": status, "tracker_status_detail": status_detail},
    )


def _status_pair(obj: Mapping[str, Any], path: str) -> tuple[str, str | None]:
    status = obj.get("status")
    if not isinstance(status, str) or not status:
        raise PayloadInvalid(f"{path}.status", "missing")
    status_detail = obj.get("status_detail")
    if status_detail is not None and not isinstance(status_detail, str):
        raise PayloadInvalid(f"{path}.status_detail", f"expected a string, got {type(status_detail).__name__}")
    return status, status_detail or None


def _carrier_status(status: str, status_detail: str | None) -> str:
    return f"{status}/{status_detail}" if status_detail else status


def _parse_datetime(value: Any, path: str) -> datetime:
    """ISO 8601 as EasyPost sends it (``2024-07-31T15:00:00Z``, with or without an offset or fraction).
    EasyPost documents that a timestamp without enough location data is UTC, so a naive one is taken as UTC."""
    if not isinstance(value, str) or not value.strip():
        raise PayloadInvalid(path, "missing")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadInvalid(path, f"not an ISO 8601 timestamp: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _est_delivery_date(tracker: Mapping[str, Any]) -> date | None:
    """The carrier's local estimate (``carrier_detail.est_delivery_date_local``, a date) if given, else the date
    part of ``est_delivery_date`` as sent (EasyPost sends midnight of the day, e.g. ``2024-08-05T00:00:00Z``)."""
    carrier_detail = tracker.get("carrier_detail")
    candidates = []
    if isinstance(carrier_detail, Mapping):
        candidates.append(carrier_detail.get("est_delivery_date_local"))
    candidates.append(tracker.get("est_delivery_date"))
    for value in candidates:
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _location(loc: Any) -> str:
    """``"ORLANDO, FL 32809, US"`` from a TrackingLocation; empty parts are left out."""
    if not isinstance(loc, Mapping):
        return ""
    city, state, zip_code, country = (_text(loc.get(k)) for k in ("city", "state", "zip", "country"))
    region = " ".join(p for p in (state, zip_code) if p)
    return ", ".join(p for p in (city, region, country) if p)
