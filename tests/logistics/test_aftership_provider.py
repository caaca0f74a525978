"""AfterShip webhook signature and tracking parsing. Pure: no database.

Fixtures in tests/fixtures/aftership follow AfterShip's "Webhook Specifications" sample (see that folder's
README and logistics/providers/aftership.py for the sources)."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from logistics.providers.aftership import compute_signature, parse_event, verify_signature
from logistics.providers.base import PayloadInvalid, SignatureInvalid
from logistics.status import TrackingStatus as T

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aftership"
SECRET = "as-whsec-81f2"


def body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(data: bytes, secret: str = SECRET) -> str:
    """AfterShip's scheme written out independently: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_signature_valid_in_any_header_spelling():
    data = body("tracking_update_in_transit.json")
    assert compute_signature(data, SECRET) == sign(data)
    for name in ("aftership-hmac-sha256", "Aftership-Hmac-Sha256", "HTTP_AFTERSHIP_HMAC_SHA256"):
        verify_signature(data, {name: sign(data)}, SECRET)


@pytest.mark.parametrize(
    ("headers", "secret", "match"),
    [
        ({"aftership-hmac-sha256": "bm90IGl0"}, SECRET, "does not match"),
        ({}, SECRET, "header is missing"),
        ({"aftership-hmac-sha256": "x"}, "", "no webhook secret"),
    ],
    ids=["wrong", "missing", "no-secret"],
)
def test_signature_invalid(headers, secret, match):
    with pytest.raises(SignatureInvalid, match=match):
        verify_signature(body("tracking_update_in_transit.json"), headers, secret)


def test_signature_over_tampered_body_is_invalid():
    data = body("tracking_update_in_transit.json")
    signature = sign(data)
    with pytest.raises(SignatureInvalid):
        verify_signature(data.replace(b"InTransit_007", b"Delivered_001"), {"aftership-hmac-sha256": signature}, SECRET)


def test_parse_in_transit_checkpoints_in_utc_oldest_first():
    events = parse_event(body("tracking_update_in_transit.json"))
    assert [(e.status, e.occurred_at, e.location, e.carrier_status) for e in events] == [
        (T.INFO_RECEIVED, utc(2026, 11, 21, 2, 0), "Shanghai, CHN", "InfoReceived/InfoReceived_001"),
        (T.IN_TRANSIT, utc(2026, 11, 21, 9, 0), "Shanghai Qingpu hub, CHN", "InTransit/InTransit_002"),
        (T.IN_TRANSIT, utc(2026, 11, 22, 1, 20), "Hangzhou transit centre, CHN", "InTransit/InTransit_007"),
    ]
    assert {e.tracking_number for e in events} == {"AS1000000001"}
    assert {e.est_delivery_date for e in events} == {date(2026, 11, 24)}
    assert events[2].description == "Departed transit centre"
    assert events[2].raw["carrier_status"] == "InTransit/InTransit_007"
    assert events[2].raw["event_id"] == "3f645f5e-530b-4062-8695-db6a64420af8"


def test_parse_delivered_and_the_same_scans_give_the_same_dedupe_keys():
    delivered = parse_event(body("tracking_update_delivered.json"))
    in_transit = parse_event(body("tracking_update_in_transit.json"))
    assert [e.status for e in delivered] == [
        T.INFO_RECEIVED,
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.OUT_FOR_DELIVERY,
        T.DELIVERED,
    ]
    assert [e.dedupe_key for e in delivered[:3]] == [e.dedupe_key for e in in_transit]


def test_out_of_order_checkpoints_are_sorted():
    events = parse_event(body("tracking_update_out_of_order.json"))
    assert [(e.status, e.occurred_at) for e in events] == [
        (T.INFO_RECEIVED, utc(2026, 11, 21, 2, 0)),
        (T.IN_TRANSIT, utc(2026, 11, 21, 9, 0)),
    ]


def test_exception_address_keeps_the_subtag_for_the_exception_rules():
    events = parse_event(body("tracking_update_exception_address.json"))
    last = events[-1]
    assert (last.status, last.carrier_status, last.occurred_at) == (
        T.EXCEPTION,
        "Exception/Exception_007",
        utc(2026, 11, 23, 3, 0),
    )


def test_other_events_parse_to_nothing():
    assert parse_event(json.dumps({"event": "tracking_pending_time", "msg": {}})) == []


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"not json", "body: not JSON"),
        (b"[]", "body: expected a JSON object"),
        (b'{"msg": {}}', "event: missing"),
        (b'{"event": "tracking_update"}', "msg: missing"),
        (b'{"event": "tracking_update", "msg": {"tag": "InTransit"}}', "msg.tracking_number: missing"),
    ],
)
def test_unreadable_bodies(payload, match):
    with pytest.raises(PayloadInvalid, match=match):
        parse_event(payload)


def test_no_offset_checkpoint_time_is_taken_as_utc_and_no_checkpoints_uses_the_tag():
    data = json.loads(body("tracking_update_in_transit.json"))
    data["msg"]["checkpoints"][0]["checkpoint_time"] = "2026-11-21T10:00:00"
    info = [e for e in parse_event(json.dumps(data)) if e.status == T.INFO_RECEIVED]
    assert [e.occurred_at for e in info] == [utc(2026, 11, 21, 10, 0)]
    data["msg"]["checkpoints"] = []
    [only] = parse_event(json.dumps(data))
    assert (only.status, only.occurred_at) == (T.IN_TRANSIT, utc(2026, 11, 22, 1, 30))
