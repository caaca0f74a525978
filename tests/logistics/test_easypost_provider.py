"""EasyPost webhook signature and Event/Tracker parsing. Pure: no database."""

import dataclasses
import hashlib
import hmac
import json
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.http.request import HttpHeaders

from logistics.providers.base import NormalizedEvent, PayloadInvalid, SignatureInvalid, make_dedupe_key
from logistics.providers.easypost import compute_signature, parse_event, parse_tracker, verify_signature
from logistics.status import TrackingStatus as T

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "easypost"
SECRET = "whsec-3f9a1c"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_dict(name: str) -> dict:
    return json.loads(fixture_bytes(name))


def sign(body: bytes, key: bytes) -> str:
    """EasyPost's scheme written out independently of the code under test."""
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- signature


def test_signature_valid():
    body = fixture_bytes("tracker_updated_delivered.json")
    verify_signature(body, {"X-Hmac-Signature": sign(body, SECRET.encode())}, SECRET)


def test_signature_compute_matches_independent_hmac():
    body = b'{"description":"tracker.updated"}'
    assert compute_signature(body, SECRET) == sign(body, SECRET.encode())


@pytest.mark.parametrize(
    "make_headers",
    [
        lambda sig: {"x-hmac-signature": sig},
        lambda sig: {"X-HMAC-SIGNATURE": sig},
        lambda sig: {"HTTP_X_HMAC_SIGNATURE": sig},  # the request.META spelling
        lambda sig: HttpHeaders({"HTTP_X_HMAC_SIGNATURE": sig, "CONTENT_TYPE": "application/json"}),  # request.headers
    ],
    ids=["lower", "upper", "meta", "django-headers"],
)
def test_signature_header_lookup_is_case_insensitive(make_headers):
    body = fixture_bytes("tracker_updated_in_transit.json")
    verify_signature(body, make_headers(sign(body, SECRET.encode())), SECRET)


def test_signature_wrong_secret_is_invalid():
    body = fixture_bytes("tracker_updated_delivered.json")
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify_signature(body, {"X-Hmac-Signature": sign(body, b"another-secret")}, SECRET)


def test_signature_missing_header_is_invalid():
    body = fixture_bytes("tracker_updated_delivered.json")
    with pytest.raises(SignatureInvalid, match="X-Hmac-Signature header is missing"):
        verify_signature(body, {"Content-Type": "application/json"}, SECRET)


def test_signature_empty_header_is_invalid():
    body = fixture_bytes("tracker_updated_delivered.json")
    with pytest.raises(SignatureInvalid, match="missing"):
        verify_signature(body, {"X-Hmac-Signature": ""}, SECRET)


@pytest.mark.parametrize("secret", ["", None])
def test_signature_empty_secret_is_invalid_even_with_matching_hmac(secret):
    body = fixture_bytes("tracker_updated_delivered.json")
    with pytest.raises(SignatureInvalid, match="no webhook secret"):
        verify_signature(body, {"X-Hmac-Signature": sign(body, b"")}, secret)


def test_signature_tampered_body_is_invalid():
    body = fixture_bytes("tracker_updated_in_transit.json")
    signature = sign(body, SECRET.encode())
    tampered = body.replace(b'"in_transit"', b'"delivered"', 1)
    assert tampered != body
    with pytest.raises(SignatureInvalid):
        verify_signature(tampered, {"X-Hmac-Signature": signature}, SECRET)


def test_signature_reserialised_body_is_invalid():
    """The HMAC is over the raw bytes; parsing and dumping the JSON again breaks it."""
    body = fixture_bytes("tracker_updated_in_transit.json")
    signature = sign(body, SECRET.encode())
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(SignatureInvalid):
        verify_signature(reserialised, {"X-Hmac-Signature": signature}, SECRET)


def test_signature_without_prefix_is_invalid():
    body = fixture_bytes("tracker_updated_in_transit.json")
    bare = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(SignatureInvalid):
        verify_signature(body, {"X-Hmac-Signature": bare}, SECRET)


def test_signature_non_ascii_header_is_invalid_not_an_error():
    body = b"{}"
    with pytest.raises(SignatureInvalid):
        verify_signature(body, {"X-Hmac-Signature": "hmac-sha256-hex=ü"}, SECRET)


def test_signature_unicode_secret_is_nfkd_normalised():
    """EasyPost's clients key the HMAC with unicodedata.normalize("NFKD", secret) in UTF-8."""
    body = fixture_bytes("tracker_failure.json")
    composed = "s\u00e9cret-\ufb01"  # é as one code point, and the "fi" ligature
    key = unicodedata.normalize("NFKD", composed).encode("utf-8")
    assert key == b"se\xcc\x81cret-fi"
    signature = sign(body, key)
    verify_signature(body, {"X-Hmac-Signature": signature}, composed)
    verify_signature(body, {"X-Hmac-Signature": signature}, "se\u0301cret-fi")  # already decomposed
    with pytest.raises(SignatureInvalid):  # the un-normalised key is not what EasyPost uses
        verify_signature(body, {"X-Hmac-Signature": sign(body, composed.encode("utf-8"))}, composed)


def test_signature_accepts_uppercase_hex():
    body = fixture_bytes("tracker_updated_in_transit.json")
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest().upper()
    verify_signature(body, {"X-Hmac-Signature": "hmac-sha256-hex=" + digest}, SECRET)


# --------------------------------------------------------------------------- parsing the fixtures


def test_parse_in_transit():
    events = parse_event(fixture_bytes("tracker_updated_in_transit.json"))

    assert [(e.status, e.occurred_at, e.carrier_status) for e in events] == [
        (T.INFO_RECEIVED, utc(2025, 3, 3, 14, 2), "pre_transit/label_created"),
        (T.IN_TRANSIT, utc(2025, 3, 3, 21, 48), "in_transit/arrived_at_facility"),
        (T.IN_TRANSIT, utc(2025, 3, 4, 6, 15), "in_transit/departed_facility"),
        (T.IN_TRANSIT, utc(2025, 3, 5, 3, 40), "in_transit/arrived_at_facility"),
    ]
    first, *_, last = events
    assert first.tracking_number == "9400110898825022579493"
    assert first.description == "Shipping Label Created, USPS Awaiting Item"
    assert first.location == "BROOKLYN, NY 11201, US"
    assert last.location == "PHILADELPHIA PA DISTRIBUTION CENTER, US"
    assert {e.est_delivery_date for e in events} == {date(2025, 3, 6)}
    assert {type(e.status) for e in events} == {str}
    assert first.raw["tracker_id"] == "trk_7c1e0b4a9d2f4c8e8a1b2c3d4e5f6a7b"
    assert first.raw["event_id"] == "evt_1f0e9d8c7b6a45a3b2c1d0e9f8a7b6c5"
    assert first.raw["mode"] == "production"
    assert first.raw["detail"]["carrier_code"] == "GX"


def test_parse_delivered():
    events = parse_event(fixture_bytes("tracker_updated_delivered.json"))

    assert [e.status for e in events] == [
        T.INFO_RECEIVED,
        T.INFO_RECEIVED,
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.OUT_FOR_DELIVERY,
        T.DELIVERED,
    ]
    delivered = events[-1]
    assert delivered.tracking_number == "EZ4000000004"
    assert delivered.occurred_at == utc(2025, 2, 13, 17, 42)
    assert delivered.description == "Delivered, In/At Mailbox"
    assert delivered.location == "CHARLESTON, SC 29407, US"
    assert delivered.carrier_status == "delivered/arrived_at_destination"
    # no est_delivery_date_local: the date part of est_delivery_date is used
    assert delivered.est_delivery_date == date(2025, 2, 13)
    assert events[0].location == ""  # a TrackingLocation of nulls
    expected_key = hashlib.sha256(
        b"EZ4000000004|delivered|2025-02-13T17:42:00+00:00|Delivered, In/At Mailbox"
    ).hexdigest()
    assert delivered.dedupe_key == expected_key
    assert len(delivered.dedupe_key) == 64


def test_parse_out_of_order_sorts_converts_to_utc_and_drops_repeats():
    events = parse_event(fixture_bytes("tracker_updated_out_of_order.json"))

    assert [(e.occurred_at, e.status, e.description) for e in events] == [
        (utc(2025, 4, 1, 16, 30), T.INFO_RECEIVED, "Shipping Label Created"),  # 09:30-07:00
        (utc(2025, 4, 2, 1, 47), T.IN_TRANSIT, "Accepted at USPS Origin Facility"),  # 18:47-07:00
        (utc(2025, 4, 3, 2, 0), T.IN_TRANSIT, "In Transit to Next Facility"),
        (utc(2025, 4, 3, 3, 14), T.IN_TRANSIT, "Arrived at USPS Regional Facility"),  # 22:14-05:00, sent twice
        (utc(2025, 4, 4, 12, 5), T.OUT_FOR_DELIVERY, "Out for Delivery"),  # 08:05-04:00
    ]
    assert len({e.dedupe_key for e in events}) == 5
    assert all(e.occurred_at.utcoffset().total_seconds() == 0 for e in events)
    assert {e.est_delivery_date for e in events} == {date(2025, 4, 4)}


def test_dedupe_keys_do_not_depend_on_detail_order():
    data = fixture_dict("tracker_updated_out_of_order.json")
    forward = parse_event(json.dumps(data).encode())
    data["result"]["tracking_details"].reverse()
    backward = parse_event(json.dumps(data).encode())

    assert [e.dedupe_key for e in forward] == [e.dedupe_key for e in backward]


def test_a_later_push_repeats_earlier_keys():
    """Each push carries the whole history: the earlier scans come back with the same keys."""
    data = fixture_dict("tracker_updated_delivered.json")
    full = parse_event(json.dumps(data).encode())
    data["result"]["tracking_details"] = data["result"]["tracking_details"][:3]
    early = parse_event(json.dumps(data).encode())

    assert [e.dedupe_key for e in early] == [e.dedupe_key for e in full[:3]]


def test_parse_created_without_details_uses_tracker_status_and_updated_at():
    events = parse_event(fixture_bytes("tracker_created_pre_transit.json"))

    assert len(events) == 1
    (event,) = events
    assert event.tracking_number == "EZ1000000001"
    assert event.status == T.INFO_RECEIVED
    assert event.occurred_at == utc(2025, 5, 20, 8, 0, 5)
    assert event.description == ""
    assert event.location == ""
    assert event.carrier_status == "pre_transit/label_created"
    assert event.est_delivery_date is None
    assert event.raw["event"] == "tracker.created"
    assert event.raw["tracker_status"] == "pre_transit"


def test_parse_tracker_without_details_falls_back_to_created_at():
    tracker = fixture_dict("tracker_created_pre_transit.json")["result"]
    tracker["updated_at"] = None

    (event,) = parse_tracker(tracker)

    assert event.occurred_at == utc(2025, 5, 20, 8, 0, 4)


def test_parse_tracker_without_details_and_unknown_status_gives_nothing():
    tracker = fixture_dict("tracker_created_pre_transit.json")["result"]
    tracker["status"], tracker["status_detail"] = "unknown", "unknown"

    assert parse_tracker(tracker) == []


def test_parse_failure():
    events = parse_event(fixture_bytes("tracker_failure.json"))

    assert [(e.status, e.carrier_status) for e in events] == [
        (T.INFO_RECEIVED, "pre_transit/label_created"),
        (T.IN_TRANSIT, "in_transit/arrived_at_facility"),
        (T.OUT_FOR_DELIVERY, "out_for_delivery/out_for_delivery"),
        (T.FAILED_ATTEMPT, "failure/delivery_exception"),
        (T.EXCEPTION, "failure/address_correction"),
    ]
    assert events[3].description == "Delivery Attempted - No Access to Delivery Location"
    assert events[3].occurred_at == utc(2025, 6, 11, 19, 26)
    assert events[4].description == "Addressee Unknown"


def test_parse_tracker_is_what_a_poller_uses():
    tracker = fixture_dict("tracker_updated_delivered.json")["result"]

    events = parse_tracker(tracker)

    assert [e.dedupe_key for e in events] == [
        e.dedupe_key for e in parse_event(fixture_bytes("tracker_updated_delivered.json"))
    ]
    assert "event_id" not in events[0].raw


def test_parse_accepts_str_body():
    body = fixture_bytes("tracker_updated_in_transit.json")
    assert parse_event(body.decode()) == parse_event(body)


def test_detail_with_unknown_status_is_skipped():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"][1]["status"] = "unknown"

    events = parse_event(json.dumps(data).encode())

    assert [e.occurred_at for e in events] == [
        utc(2025, 3, 3, 14, 2),
        utc(2025, 3, 4, 6, 15),
        utc(2025, 3, 5, 3, 40),
    ]


def test_description_falls_back_to_detail_description():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"][0]["message"] = None
    data["result"]["tracking_details"][0]["description"] = "Label created"

    events = parse_event(json.dumps(data).encode())

    assert events[0].description == "Label created"


def test_long_text_is_cut_to_the_model_columns():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"][0]["message"] = "x" * 400
    data["result"]["tracking_details"][0]["tracking_location"]["city"] = "C" * 200

    event = parse_event(json.dumps(data).encode())[0]

    assert event.description == "x" * 255
    assert len(event.location) == 120


def test_naive_datetime_is_taken_as_utc():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"][0]["datetime"] = "2025-03-03T14:02:00"

    assert parse_event(json.dumps(data).encode())[0].occurred_at == utc(2025, 3, 3, 14, 2)


def test_unreadable_est_delivery_date_is_ignored():
    data = fixture_dict("tracker_updated_delivered.json")
    data["result"]["est_delivery_date"] = "soon"

    assert {e.est_delivery_date for e in parse_event(json.dumps(data).encode())} == {None}


@pytest.mark.parametrize("description", ["batch.updated", "refund.successful", "payment.completed"])
def test_events_that_are_not_about_trackers_give_nothing(description):
    data = {"object": "Event", "description": description, "id": "evt_x", "result": {"object": "Batch"}}

    assert parse_event(json.dumps(data).encode()) == []


# --------------------------------------------------------------------------- status mapping


# --------------------------------------------------------------------------- invalid payloads


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "body: not JSON"),
        (b"", "body: not JSON"),
        (b"\xff\xfe{}", "body: not JSON"),
        (b"[1, 2]", "body: expected a JSON object, got list"),
        (b'{"object": "Tracker", "tracking_code": "EZ1000000001"}', "object: expected 'Event', got 'Tracker'"),
        (b'{"description": "tracker.updated"}', "object: expected 'Event', got None"),
        (b'{"object": "Event", "result": {}}', "description: missing"),
        (b'{"object": "Event", "description": "tracker.updated"}', "result: missing"),
        (b'{"object": "Event", "description": "tracker.updated", "result": null}', "result: missing"),
        (b'{"object": "Event", "description": "tracker.updated", "result": []}', "result: expected a Tracker"),
        (
            b'{"object": "Event", "description": "tracker.updated", "result": {"object": "Shipment"}}',
            "result.object: expected 'Tracker', got 'Shipment'",
        ),
    ],
)
def test_payload_invalid(body, message):
    with pytest.raises(PayloadInvalid) as exc:
        parse_event(body)
    assert str(exc.value).startswith(message)
    assert isinstance(exc.value, ValueError)


@pytest.mark.parametrize("value", [None, "", "   ", 42])
def test_missing_tracking_code_is_payload_invalid(value):
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_code"] = value

    with pytest.raises(PayloadInvalid, match=r"^result\.tracking_code: missing$"):
        parse_event(json.dumps(data).encode())


def test_absent_tracking_code_is_payload_invalid():
    data = fixture_dict("tracker_updated_in_transit.json")
    del data["result"]["tracking_code"]

    with pytest.raises(PayloadInvalid, match=r"^result\.tracking_code: missing$"):
        parse_event(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("datetime"), "result.tracking_details[1].datetime: missing"),
        (lambda d: d.update(datetime="yesterday"), "result.tracking_details[1].datetime: not an ISO 8601 timestamp"),
        (lambda d: d.pop("status"), "result.tracking_details[1].status: missing"),
        (lambda d: d.update(status_detail=7), "result.tracking_details[1].status_detail: expected a string"),
    ],
)
def test_bad_detail_is_payload_invalid(mutate, message):
    data = fixture_dict("tracker_updated_in_transit.json")
    mutate(data["result"]["tracking_details"][1])

    with pytest.raises(PayloadInvalid) as exc:
        parse_event(json.dumps(data).encode())
    assert str(exc.value).startswith(message)


def test_details_not_a_list_is_payload_invalid():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"] = {"0": {}}

    with pytest.raises(PayloadInvalid, match=r"^result\.tracking_details: expected a list, got dict$"):
        parse_event(json.dumps(data).encode())


def test_detail_not_an_object_is_payload_invalid():
    data = fixture_dict("tracker_updated_in_transit.json")
    data["result"]["tracking_details"][0] = "Shipping Label Created"

    with pytest.raises(PayloadInvalid, match=r"^result\.tracking_details\[0\]: expected a TrackingDetail"):
        parse_event(json.dumps(data).encode())


def test_tracker_without_details_or_timestamps_is_payload_invalid():
    tracker = fixture_dict("tracker_created_pre_transit.json")["result"]
    tracker["updated_at"] = tracker["created_at"] = None

    with pytest.raises(PayloadInvalid, match=r"^tracker\.created_at: missing$"):
        parse_tracker(tracker)


# --------------------------------------------------------------------------- NormalizedEvent


def test_normalized_event_is_frozen_and_checks_its_values():
    event = parse_event(fixture_bytes("tracker_updated_delivered.json"))[-1]

    with pytest.raises(dataclasses.FrozenInstanceError):
        event.status = T.EXCEPTION
    assert hash(event) == hash(dataclasses.replace(event, raw={"other": 1}))  # raw takes no part
    with pytest.raises(ValueError, match="not a TrackingStatus"):
        dataclasses.replace(event, status="on_the_moon")
    with pytest.raises(ValueError, match="aware"):
        dataclasses.replace(event, occurred_at=datetime(2025, 2, 13, 17, 42))


def test_normalized_event_stores_other_zones_as_utc():
    """A form posts local time (Asia/Shanghai); the event keeps the same instant in UTC."""
    from zoneinfo import ZoneInfo

    local = datetime(2025, 2, 14, 1, 42, tzinfo=ZoneInfo("Asia/Shanghai"))
    event = NormalizedEvent(
        tracking_number="LC473124829CN",
        status="delivered",
        occurred_at=local,
        description="",
        location="",
        carrier_status="manual",
        dedupe_key=make_dedupe_key("LC473124829CN", "delivered", local, ""),
    )

    assert event.occurred_at == utc(2025, 2, 13, 17, 42)
    assert event.occurred_at.tzinfo is UTC
    assert event.dedupe_key == make_dedupe_key("LC473124829CN", "delivered", event.occurred_at, "")


def test_build_converts_to_utc_and_computes_the_key():
    from zoneinfo import ZoneInfo

    shanghai = datetime(2025, 7, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    event = NormalizedEvent.build(
        tracking_number="LC473124829CN", status="in_transit", occurred_at=shanghai, description="  Left hub  "
    )

    assert event.occurred_at == utc(2025, 7, 1, 1, 30)
    assert event.occurred_at.tzinfo is UTC
    assert event.description == "Left hub"
    assert (
        event.dedupe_key == hashlib.sha256(b"LC473124829CN|in_transit|2025-07-01T01:30:00+00:00|Left hub").hexdigest()
    )
    assert event.dedupe_key == make_dedupe_key("LC473124829CN", "in_transit", shanghai, "Left hub")


def test_make_dedupe_key_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        make_dedupe_key("X", "delivered", datetime(2025, 1, 1), "")
