"""AfterShip Tracking webhooks (``tracking_update``; ``edd_revise`` for a revised expected date).

Sources followed (stored copies read 2026; re-check them when AfterShip changes its API):

- Signature: "Webhook Signature", https://www.aftership.com/docs/tracking/webhook/webhook-signature and the
  help-centre page "Learn More About AfterShip Tracking Webhooks": every request carries an
  ``aftership-hmac-sha256`` header, "a base64-encoded HMAC generated using sha256 algorithm with webhook
  request body and webhook secret of your account" (their Node.js sample:
  ``crypto.createHmac('sha256', WEBHOOK_SECRET).update(body, 'utf8').digest('base64')``). Header names are
  case-insensitive (their webhook changelog says so explicitly).
- Body: "Webhook Specifications", https://www.aftership.com/docs/tracking/webhook/webhook-specifications
  (and https://developers.aftership.com/reference/specification): a JSON object with ``ts`` (UTC unix
  timestamp), ``event`` (``tracking_update``, ``edd_revise``, ``tracking_pending_time``, ...), ``event_id``
  (UUID), ``is_tracking_first_tag`` and ``msg`` = the Tracking object: ``id``, ``tracking_number``, ``slug``,
  ``tag``, ``subtag``, ``subtag_message``, ``expected_delivery``, ``aftership_estimated_delivery_date``
  {``estimated_delivery_date``, ...}, ``checkpoints[]`` with ``checkpoint_time``, ``tag``, ``subtag``,
  ``subtag_message``, ``message``, ``location``, ``city``, ``state``, ``country_iso3``, ``slug``.
- Tags: "Delivery Statuses", https://www.aftership.com/docs/tracking/enum/delivery-statuses — Pending,
  InfoReceived, InTransit, OutForDelivery, AttemptFail, AvailableForPickup, Delivered, Exception, Expired.
- Subtags: "Delivery Sub-statuses", https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses —
  Exception_002 customer moved, _003 refused, _007 incorrect address, _010 returning to sender,
  _011 returned to sender, _012 shipment damage, _013 shipment lost, ...

Mapping (the tables `TAG_MAP` and `SUBTAG_MAP`; `map_tag` reads them; a test walks every entry):

- ``Pending`` and ``Expired`` (and their subtags) produce no event: they say what AfterShip knows (nothing yet;
  nothing for 30 days), not where the parcel is. A parcel with no scans is caught by the "no scan" rule.
- Every documented subtag has its own row. Exception subtags: ``Exception_003`` (refused) and ``_010``
  (returning to sender) -> returning to sender, ``_011`` -> returned to sender, ``_013`` -> lost; the others
  (customer moved, customs or external delay, held for payment, incorrect address, pick-up missed, rejected by
  carrier, damage, processing/weather delays, documents) stay ``exception`` with ``carrier_status``
  ``Exception/Exception_0xx`` so the exception rules can tell an address problem (_002, _007) from damage (_012).
- Nothing is guessed: an unknown tag gives an ``unknown`` event, an unknown subtag of a known tag keeps the
  tag's meaning; both are flagged (``code_known=False``), stored raw and shown to staff.
- ``checkpoint_time`` is documented as ``YYYY-MM-DDTHH:MM:SS+TZ`` but couriers sometimes give no offset, or
  only a date: those are taken as UTC (the instant may be off by the courier's offset; the order of scans
  and the dedupe key stay stable).

Every checkpoint becomes one `NormalizedEvent` (AfterShip sends the whole history in each push), so
duplicates and out-of-order pushes are handled by the caller's dedupe on ``dedupe_key``. A tracking with no
checkpoints yields one event from its own tag at ``updated_at``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from logistics.status import TrackingStatus

from .base import Mapped, NormalizedEvent, PayloadInvalid, SignatureInvalid, skip_known
from .easypost import header_value

SOURCE = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"
TRACKING_EVENTS = frozenset({"tracking_update", "edd_revise"})

T = TrackingStatus

# The documented tags ("Delivery Statuses") -> ours; None: no event.
TAG_MAP: dict[str, str | None] = {
    "Pending": None,
    "InfoReceived": T.INFO_RECEIVED.value,
    "InTransit": T.IN_TRANSIT.value,
    "OutForDelivery": T.OUT_FOR_DELIVERY.value,
    "AttemptFail": T.FAILED_ATTEMPT.value,
    "AvailableForPickup": T.AVAILABLE_FOR_PICKUP.value,
    "Delivered": T.DELIVERED.value,
    "Exception": T.EXCEPTION.value,
    "Expired": None,
}
# The documented subtags ("Delivery Sub-statuses", 2025-04 and 2026-07 versions; AfterShip's help centre for
# Exception_016-018, added 2026-03-27) -> ours.
SUBTAG_MAP: dict[str, str | None] = {
    "Pending_001": None,  # no information yet
    "Pending_002": None,
    "Pending_003": None,
    "Pending_004": None,
    "Pending_005": None,
    "Pending_006": None,
    "InfoReceived_001": T.INFO_RECEIVED.value,
    "InTransit_001": T.IN_TRANSIT.value,  # in transit
    "InTransit_002": T.IN_TRANSIT.value,  # acceptance scan
    "InTransit_003": T.IN_TRANSIT.value,  # arrival scan
    "InTransit_004": T.IN_TRANSIT.value,  # arrived at the destination country
    "InTransit_005": T.IN_TRANSIT.value,  # customs clearance completed
    "InTransit_006": T.IN_TRANSIT.value,  # customs clearance started
    "InTransit_007": T.IN_TRANSIT.value,  # departure scan
    "InTransit_008": T.IN_TRANSIT.value,  # problem resolved: moving again
    "InTransit_009": T.IN_TRANSIT.value,  # forwarded to a different delivery address
    "OutForDelivery_001": T.OUT_FOR_DELIVERY.value,
    "OutForDelivery_003": T.OUT_FOR_DELIVERY.value,  # customer contacted
    "OutForDelivery_004": T.OUT_FOR_DELIVERY.value,  # delivery appointment scheduled
    "AttemptFail_001": T.FAILED_ATTEMPT.value,
    "AttemptFail_002": T.FAILED_ATTEMPT.value,  # addressee not available
    "AttemptFail_003": T.FAILED_ATTEMPT.value,  # business closed
    "AvailableForPickup_001": T.AVAILABLE_FOR_PICKUP.value,
    "Delivered_001": T.DELIVERED.value,
    "Delivered_002": T.DELIVERED.value,  # picked up by the customer
    "Delivered_003": T.DELIVERED.value,  # signed by the customer
    "Delivered_004": T.DELIVERED.value,  # delivered, cash collected
    "Delivered_005": T.DELIVERED.value,  # delivered to a neighbour
    "Exception_001": T.EXCEPTION.value,
    "Exception_002": T.EXCEPTION.value,  # customer moved
    "Exception_003": T.RETURNING_TO_SENDER.value,  # customer refused delivery
    "Exception_004": T.EXCEPTION.value,  # delayed (customs clearance)
    "Exception_005": T.EXCEPTION.value,  # delayed (external factors)
    "Exception_006": T.EXCEPTION.value,  # held for payment
    "Exception_007": T.EXCEPTION.value,  # incorrect address
    "Exception_008": T.EXCEPTION.value,  # pick-up missed
    "Exception_009": T.EXCEPTION.value,  # rejected by carrier
    "Exception_010": T.RETURNING_TO_SENDER.value,
    "Exception_011": T.RETURNED_TO_SENDER.value,
    "Exception_012": T.EXCEPTION.value,  # shipment damage
    "Exception_013": T.LOST.value,
    "Exception_016": T.EXCEPTION.value,  # delayed (processing issue)
    "Exception_017": T.EXCEPTION.value,  # delayed (extreme weather)
    "Exception_018": T.EXCEPTION.value,  # incorrect / missing documents
    "Expired_001": None,
}


def compute_signature(body: bytes, secret: str) -> str:
    """The ``aftership-hmac-sha256`` value AfterShip sends for ``body`` under ``secret``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Raise `SignatureInvalid` unless the header holds AfterShip's HMAC of the raw ``body``."""
    if not secret:
        raise SignatureInvalid("no webhook secret is configured for AfterShip")
    received = header_value(headers, SIGNATURE_HEADER)
    if not received:
        raise SignatureInvalid(f"the {SIGNATURE_HEADER} header is missing")
    if isinstance(body, str):
        body = body.encode("utf-8")
    expected = compute_signature(bytes(body), secret)
    if not hmac.compare_digest(expected.encode("ascii"), received.strip().encode("utf-8", "replace")):
        raise SignatureInvalid("the signature does not match the body and the webhook secret")


def map_tag(tag: str, subtag: str | None = None) -> Mapped:
    """Our status for an AfterShip (tag, subtag) (``status`` None: no event); ``known`` False when the tag or the
    subtag is not in our tables (an unknown tag is ``unknown``; an unknown subtag keeps its tag's meaning)."""
    if tag not in TAG_MAP:
        return Mapped(T.UNKNOWN.value, known=False)
    if subtag is None:
        return Mapped(TAG_MAP[tag])
    if subtag in SUBTAG_MAP and subtag.split("_", 1)[0] == tag:
        return Mapped(SUBTAG_MAP[subtag])
    return Mapped(TAG_MAP[tag], known=False)


def parse_event(body: bytes | str) -> list[NormalizedEvent]:
    """Parse a webhook body into events, oldest first. ``[]`` for events that are not tracking updates."""
    return parse_decoded(decode(body))


def decode(body: bytes | str) -> dict:
    """The webhook body as JSON (the first half of `parse_event`; a batch reads the tracking numbers in between,
    `tracking_numbers`)."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PayloadInvalid("body", f"not JSON ({exc})")
    if not isinstance(data, dict):
        raise PayloadInvalid("body", f"expected a JSON object, got {type(data).__name__}")
    return data


def tracking_numbers(data: dict) -> list[str]:
    """The tracking number a decoded webhook is about (none when it has none: parsing says why)."""
    msg = data.get("msg")
    number = msg.get("tracking_number") if isinstance(msg, Mapping) else None
    return [number.strip()] if isinstance(number, str) and number.strip() else []


def parse_decoded(data: dict, *, known: dict | None = None, skipped: dict | None = None) -> list[NormalizedEvent]:
    """`parse_event` of a `decode`d body. ``known``: tracking number -> the dedupe keys of its stored scans;
    those scans are not built but noted in ``skipped`` (`providers.base.skip_known`)."""
    event = data.get("event")
    if not isinstance(event, str) or not event:
        raise PayloadInvalid("event", "missing")
    if event not in TRACKING_EVENTS:
        return []
    msg = data.get("msg")
    if not isinstance(msg, Mapping):
        raise PayloadInvalid("msg", "missing")
    context = {"event_id": data.get("event_id"), "event": event, "ts": data.get("ts")}
    return parse_tracking(msg, path="msg", context=context, known=known, skipped=skipped)


# Polling: "Get a tracking by slug and tracking number", API v4 (https://www.aftership.com/docs/api/4/trackings/
# get-trackings-slug-tracking_number): ``GET https://api.aftership.com/v4/trackings/{slug}/{tracking_number}``
# with the header ``aftership-api-key``; the answer is ``{"meta": {"code": 200, ...}, "data": {"tracking":
# {...}}}`` where the Tracking object is the same as a webhook's ``msg`` (``checkpoints[]`` ...). An error
# answers another ``meta.code`` (4004 tracking does not exist, 401 invalid key, 429 too many requests) with
# ``meta.message``.
API_BASE = "https://api.aftership.com/v4"
API_KEY_HEADER = "aftership-api-key"


class Refused(Exception):
    """AfterShip answered the poll with an error (``meta.code`` other than 200); the text is its message."""

    def __init__(self, code, message: str) -> None:
        self.code = code
        super().__init__(f"AfterShip {code}: {message or 'no message'}")


def tracking_url(slug: str, tracking_number: str) -> str:
    from urllib.parse import quote

    return f"{API_BASE}/trackings/{quote(slug, safe='')}/{quote(tracking_number, safe='')}"


def parse_get_tracking(body: bytes | str) -> list[NormalizedEvent]:
    """Parse the answer of ``GET /trackings/{slug}/{tracking_number}`` into events, oldest first. Raises `Refused`
    for an error answer, `PayloadInvalid` for a body we cannot read."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PayloadInvalid("body", f"not JSON ({exc})")
    if not isinstance(data, dict):
        raise PayloadInvalid("body", f"expected a JSON object, got {type(data).__name__}")
    meta = data.get("meta") if isinstance(data.get("meta"), Mapping) else {}
    code = meta.get("code")
    if code is not None and code != 200:
        raise Refused(code, str(meta.get("message") or meta.get("type") or ""))
    payload = data.get("data")
    tracking = payload.get("tracking") if isinstance(payload, Mapping) else None
    if not isinstance(tracking, Mapping):
        raise PayloadInvalid("data.tracking", "missing")
    return parse_tracking(tracking, path="data.tracking", context={"event": "get_tracking"})


def parse_tracking(
    msg: Mapping[str, Any],
    *,
    path: str = "msg",
    context: Mapping | None = None,
    known: dict | None = None,
    skipped: dict | None = None,
) -> list[NormalizedEvent]:
    """Parse an AfterShip Tracking object (a webhook's ``msg`` or ``GET /trackings/...``'s ``data.tracking``).
    A checkpoint whose scan is stored already (``known``, see `parse_decoded`) is checked as before (a bad one
    still makes the push unreadable) but not built."""
    tracking_number = msg.get("tracking_number")
    if not isinstance(tracking_number, str) or not tracking_number.strip():
        raise PayloadInvalid(f"{path}.tracking_number", "missing")
    tracking_number = tracking_number.strip()
    est = _expected(msg)
    base_raw = {**(dict(context) if context else {}), "tracking_id": msg.get("id"), "slug": msg.get("slug")}
    checkpoints = msg.get("checkpoints") or []
    if not isinstance(checkpoints, list):
        raise PayloadInvalid(f"{path}.checkpoints", f"expected a list, got {type(checkpoints).__name__}")
    events: list[NormalizedEvent] = []
    for i, cp in enumerate(checkpoints):
        cp_path = f"{path}.checkpoints[{i}]"
        if not isinstance(cp, Mapping):
            raise PayloadInvalid(cp_path, "expected a Checkpoint object")
        tag, subtag = _tag_pair(cp, cp_path)
        mapped = map_tag(tag, subtag)
        if mapped.status is None:
            continue
        carrier_status = f"{tag}/{subtag}" if subtag else tag
        occurred_at = _parse_time(cp.get("checkpoint_time"), f"{cp_path}.checkpoint_time")
        description = _text(cp.get("message")) or _text(cp.get("subtag_message"))
        if known and skip_known(
            known,
            skipped,
            tracking_number=tracking_number,
            status=mapped.status,
            occurred_at=occurred_at,
            description=description,
            carrier_status=carrier_status,
            code_known=mapped.known,
        ):
            continue
        events.append(
            NormalizedEvent.build(
                tracking_number=tracking_number,
                status=mapped.status,
                code_known=mapped.known,
                occurred_at=occurred_at,
                description=description,
                location=_location(cp),
                carrier_status=carrier_status,
                est_delivery_date=est,
                raw={**base_raw, "carrier_status": carrier_status, "checkpoint": dict(cp)},
            )
        )
    if not checkpoints:
        tag, subtag = _tag_pair(msg, path)
        mapped = map_tag(tag, subtag)
        if mapped.status is not None:
            when_field = "updated_at" if msg.get("updated_at") else "created_at"
            carrier_status = f"{tag}/{subtag}" if subtag else tag
            events.append(
                NormalizedEvent.build(
                    tracking_number=tracking_number,
                    status=mapped.status,
                    code_known=mapped.known,
                    occurred_at=_parse_time(msg.get(when_field), f"{path}.{when_field}"),
                    description=_text(msg.get("subtag_message")),
                    carrier_status=carrier_status,
                    est_delivery_date=est,
                    raw={**base_raw, "carrier_status": carrier_status, "tag": tag, "subtag": subtag},
                )
            )
    unique: dict[str, NormalizedEvent] = {}
    for e in events:
        unique.setdefault(e.dedupe_key, e)
    return sorted(unique.values(), key=lambda e: e.occurred_at)


def _tag_pair(obj: Mapping[str, Any], path: str) -> tuple[str, str | None]:
    tag = obj.get("tag")
    if not isinstance(tag, str) or not tag:
        raise PayloadInvalid(f"{path}.tag", "missing")
    subtag = obj.get("subtag")
    return tag, subtag if isinstance(subtag, str) and subtag else None


def _parse_time(value: Any, path: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise PayloadInvalid(path, "missing")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadInvalid(path, f"not an ISO 8601 timestamp: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _expected(msg: Mapping[str, Any]) -> date | None:
    """AfterShip's own estimate if present, else the carrier's ``expected_delivery`` (a date or datetime)."""
    candidates = []
    edd = msg.get("aftership_estimated_delivery_date")
    if isinstance(edd, Mapping):
        candidates.append(edd.get("estimated_delivery_date"))
    candidates.append(msg.get("expected_delivery"))
    for value in candidates:
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _location(cp: Mapping[str, Any]) -> str:
    if _text(cp.get("location")):
        return _text(cp.get("location"))
    parts = [_text(cp.get(k)) for k in ("city", "state", "country_iso3")]
    return ", ".join(p for p in parts if p)
