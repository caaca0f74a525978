"""Every documented status and sub-status of each tracking provider, walked one by one with the status it must
read as (issue 13 item 6). The expected values are written here, not read from the code's tables, so a wrong
mapping fails; the documented lists are written here too, so a code missing from a table (or one added without
a decision) fails. Unknown codes are kept and flagged, never dropped or guessed. Pure: no database."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from logistics.providers import aftership, easypost, kdniao
from logistics.providers.base import Mapped
from logistics.status import TrackingStatus as T
from logistics.status import parcel_moves

# ---- EasyPost: Tracker.status and TrackingDetail.status_detail (docs.easypost.com/docs/trackers) ---------------

EASYPOST_STATUSES = {
    "unknown": None,
    "error": None,
    "pre_transit": T.INFO_RECEIVED,
    "in_transit": T.IN_TRANSIT,
    "out_for_delivery": T.OUT_FOR_DELIVERY,
    "delivered": T.DELIVERED,
    "available_for_pickup": T.AVAILABLE_FOR_PICKUP,
    "return_to_sender": T.RETURNING_TO_SENDER,
    "failure": T.EXCEPTION,
    "cancelled": T.EXCEPTION,
}
# Each documented detail, in the status it comes with in practice, and what the pair must read as.
EASYPOST_DETAILS = {
    "address_correction": ("failure", T.EXCEPTION),
    "arrived_at_destination": ("in_transit", T.IN_TRANSIT),
    "arrived_at_facility": ("in_transit", T.IN_TRANSIT),
    "arrived_at_pickup_location": ("available_for_pickup", T.AVAILABLE_FOR_PICKUP),
    "awaiting_information": ("pre_transit", T.INFO_RECEIVED),
    "cancelled": ("cancelled", T.EXCEPTION),
    "damaged": ("failure", T.EXCEPTION),
    "delayed": ("in_transit", T.EXCEPTION),
    "delivery_exception": ("failure", T.FAILED_ATTEMPT),
    "departed_facility": ("in_transit", T.IN_TRANSIT),
    "departed_origin_facility": ("in_transit", T.IN_TRANSIT),
    "expired": ("available_for_pickup", T.EXCEPTION),
    "failure": ("failure", T.EXCEPTION),
    "held": ("in_transit", T.EXCEPTION),
    "in_transit": ("in_transit", T.IN_TRANSIT),
    "label_created": ("pre_transit", T.INFO_RECEIVED),
    "lost": ("failure", T.LOST),
    "missorted": ("in_transit", T.IN_TRANSIT),
    "out_for_delivery": ("out_for_delivery", T.OUT_FOR_DELIVERY),
    "received_at_destination_facility": ("in_transit", T.IN_TRANSIT),
    "received_at_origin_facility": ("in_transit", T.IN_TRANSIT),
    "refused": ("failure", T.RETURNING_TO_SENDER),
    "return": ("return_to_sender", T.RETURNING_TO_SENDER),
    "status_update": ("in_transit", T.IN_TRANSIT),
    "transferred_to_destination_carrier": ("in_transit", T.IN_TRANSIT),
    "transit_exception": ("in_transit", T.EXCEPTION),
    "unknown": ("in_transit", T.IN_TRANSIT),
    "weather_delay": ("in_transit", T.EXCEPTION),
}
# Seen in carrier data though not in the documented list (issue 13): a failed delivery.
EASYPOST_OBSERVED = {
    "delivery_failed": ("failure", T.FAILED_ATTEMPT),
    "address_not_found": ("failure", T.FAILED_ATTEMPT),
}
# Pairs that matter after out-for-delivery or at a pickup point, and where the status keeps its meaning.
EASYPOST_PAIRS = [
    ("out_for_delivery", "refused", "", T.RETURNING_TO_SENDER),
    ("in_transit", "refused", "", T.RETURNING_TO_SENDER),
    ("return_to_sender", None, "", T.RETURNING_TO_SENDER),
    ("return_to_sender", "refused", "", T.RETURNING_TO_SENDER),
    ("return_to_sender", "expired", "Unclaimed, returning to sender", T.RETURNING_TO_SENDER),
    ("return_to_sender", "lost", "", T.LOST),
    ("available_for_pickup", "held", "Held at the location for pickup", T.AVAILABLE_FOR_PICKUP),
    ("failure", None, "", T.EXCEPTION),
    ("failure", "failure", "Delivery attempted - no access to delivery location", T.FAILED_ATTEMPT),
    ("in_transit", "delayed", "Delivery exception - Customer not available or business closed", T.FAILED_ATTEMPT),
    ("in_transit", "delayed", "Delay - Local weather conditions", T.EXCEPTION),
    ("out_for_delivery", "delivery_exception", "", T.FAILED_ATTEMPT),
    ("delivered", "refused", "", T.DELIVERED),
    ("delivered", "arrived_at_destination", "", T.DELIVERED),
    ("unknown", "lost", "", None),
    ("error", None, "", None),
]


def test_easypost_tables_hold_exactly_the_documented_codes():
    assert set(easypost.STATUS_MAP) == set(EASYPOST_STATUSES)
    assert set(easypost.DETAIL_MAP) == set(EASYPOST_DETAILS) | set(EASYPOST_OBSERVED)


@pytest.mark.parametrize(("status", "expected"), list(EASYPOST_STATUSES.items()))
def test_every_easypost_status(status, expected):
    assert easypost.map_status(status, None) == Mapped(expected, known=True)


@pytest.mark.parametrize(("detail", "pair"), list((EASYPOST_DETAILS | EASYPOST_OBSERVED).items()))
def test_every_easypost_status_detail(detail, pair):
    status, expected = pair
    assert easypost.map_status(status, detail) == Mapped(expected, known=True)


@pytest.mark.parametrize(("status", "detail", "message", "expected"), EASYPOST_PAIRS)
def test_easypost_pairs_that_decide_a_delivery(status, detail, message, expected):
    assert easypost.map_status(status, detail, message) == Mapped(expected, known=True)


def test_easypost_unknown_status_is_an_unknown_flagged_event():
    assert easypost.map_status("teleported", None) == Mapped(T.UNKNOWN, known=False)


def test_easypost_unknown_detail_keeps_the_status_and_is_flagged():
    assert easypost.map_status("in_transit", "beamed_up") == Mapped(T.IN_TRANSIT, known=False)
    assert easypost.map_status("failure", "beamed_up") == Mapped(T.EXCEPTION, known=False)


# ---- AfterShip: tag and subtag ("Delivery Statuses", "Delivery Sub-statuses") --------------------------------

AFTERSHIP_TAGS = {
    "Pending": None,
    "InfoReceived": T.INFO_RECEIVED,
    "InTransit": T.IN_TRANSIT,
    "OutForDelivery": T.OUT_FOR_DELIVERY,
    "AttemptFail": T.FAILED_ATTEMPT,
    "AvailableForPickup": T.AVAILABLE_FOR_PICKUP,
    "Delivered": T.DELIVERED,
    "Exception": T.EXCEPTION,
    "Expired": None,
}
AFTERSHIP_SUBTAGS = {
    **{f"Pending_00{n}": None for n in range(1, 7)},
    "InfoReceived_001": T.INFO_RECEIVED,
    **{f"InTransit_00{n}": T.IN_TRANSIT for n in range(1, 10)},
    "OutForDelivery_001": T.OUT_FOR_DELIVERY,
    "OutForDelivery_003": T.OUT_FOR_DELIVERY,
    "OutForDelivery_004": T.OUT_FOR_DELIVERY,
    "AttemptFail_001": T.FAILED_ATTEMPT,
    "AttemptFail_002": T.FAILED_ATTEMPT,
    "AttemptFail_003": T.FAILED_ATTEMPT,
    "AvailableForPickup_001": T.AVAILABLE_FOR_PICKUP,
    **{f"Delivered_00{n}": T.DELIVERED for n in range(1, 6)},
    "Exception_001": T.EXCEPTION,
    "Exception_002": T.EXCEPTION,
    "Exception_003": T.RETURNING_TO_SENDER,
    "Exception_004": T.EXCEPTION,
    "Exception_005": T.EXCEPTION,
    "Exception_006": T.EXCEPTION,
    "Exception_007": T.EXCEPTION,
    "Exception_008": T.EXCEPTION,
    "Exception_009": T.EXCEPTION,
    "Exception_010": T.RETURNING_TO_SENDER,
    "Exception_011": T.RETURNED_TO_SENDER,
    "Exception_012": T.EXCEPTION,
    "Exception_013": T.LOST,
    "Exception_016": T.EXCEPTION,
    "Exception_017": T.EXCEPTION,
    "Exception_018": T.EXCEPTION,
    "Expired_001": None,
}


def test_aftership_tables_hold_exactly_the_documented_codes():
    assert set(aftership.TAG_MAP) == set(AFTERSHIP_TAGS)
    assert set(aftership.SUBTAG_MAP) == set(AFTERSHIP_SUBTAGS)


@pytest.mark.parametrize(("tag", "expected"), list(AFTERSHIP_TAGS.items()))
def test_every_aftership_tag(tag, expected):
    assert aftership.map_tag(tag, None) == Mapped(expected, known=True)


@pytest.mark.parametrize(("subtag", "expected"), list(AFTERSHIP_SUBTAGS.items()))
def test_every_aftership_subtag(subtag, expected):
    assert aftership.map_tag(subtag.split("_")[0], subtag) == Mapped(expected, known=True)


def test_aftership_unknown_codes_are_flagged():
    assert aftership.map_tag("Teleported", None) == Mapped(T.UNKNOWN, known=False)
    assert aftership.map_tag("Exception", "Exception_014") == Mapped(T.EXCEPTION, known=False)
    assert aftership.map_tag("InTransit", "Exception_010") == Mapped(T.IN_TRANSIT, known=False)  # not its tag's


# ---- Kdniao: State and StateEx/Action -----------------------------------------------------------------------

KDNIAO_CODES = {
    "0": None,
    "1": T.IN_TRANSIT,
    "10": T.INFO_RECEIVED,
    "2": T.IN_TRANSIT,
    "201": T.IN_TRANSIT,
    "202": T.OUT_FOR_DELIVERY,
    "203": T.AVAILABLE_FOR_PICKUP,
    "204": T.IN_TRANSIT,
    "205": T.IN_TRANSIT,
    "206": T.IN_TRANSIT,
    "211": T.AVAILABLE_FOR_PICKUP,
    "3": T.DELIVERED,
    "301": T.DELIVERED,
    "302": T.DELIVERED,
    "304": T.DELIVERED,
    "311": T.DELIVERED,
    "4": T.EXCEPTION,
    "401": T.EXCEPTION,
    "402": T.EXCEPTION,
    "403": T.EXCEPTION,
    "404": T.RETURNING_TO_SENDER,
    "405": T.FAILED_ATTEMPT,
    "406": T.RETURNED_TO_SENDER,
    "407": T.RETURNING_TO_SENDER,
    "412": T.EXCEPTION,
    "413": T.EXCEPTION,
    "414": T.EXCEPTION,
    "415": T.EXCEPTION,
    "416": T.FAILED_ATTEMPT,
    "417": T.EXCEPTION,
    "418": T.EXCEPTION,
    "419": T.IN_TRANSIT,
    "420": T.EXCEPTION,
    "421": T.EXCEPTION,
    "422": T.EXCEPTION,
    "423": T.EXCEPTION,
    "5": T.IN_TRANSIT,
    "6": T.IN_TRANSIT,
    "601": T.IN_TRANSIT,
    "602": T.IN_TRANSIT,
    "603": T.IN_TRANSIT,
    "604": T.EXCEPTION,
}


def test_kdniao_table_holds_exactly_the_documented_codes():
    assert set(kdniao.STATE_MAP) == set(KDNIAO_CODES)


@pytest.mark.parametrize(("code", "expected"), list(KDNIAO_CODES.items()))
def test_every_kdniao_code(code, expected):
    assert kdniao.map_state(code) == Mapped(expected, known=True)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("101", T.IN_TRANSIT),  # listed by some, in no documentation we could read: its family, flagged
        ("104", T.IN_TRANSIT),
        ("207", T.IN_TRANSIT),
        ("499", T.EXCEPTION),
        ("999", T.UNKNOWN),
        ("X1", T.UNKNOWN),
    ],
)
def test_kdniao_unknown_codes_keep_their_family_and_are_flagged(code, expected):
    assert kdniao.map_state(code) == Mapped(expected, known=False)


# ---- unknown codes reach the event, flagged, with the raw record ---------------------------------------------


def test_an_unknown_easypost_status_becomes_a_flagged_event_not_an_error():
    tracker = {
        "object": "Tracker",
        "tracking_code": "EZ1",
        "tracking_details": [
            {"status": "in_transit", "datetime": "2026-11-20T01:00:00Z", "message": "Arrived"},
            {"status": "teleported", "status_detail": "beamed", "datetime": "2026-11-20T02:00:00Z", "message": "?"},
        ],
    }
    events = easypost.parse_tracker(tracker)
    assert [(e.status, e.carrier_status, e.code_known) for e in events] == [
        (T.IN_TRANSIT, "in_transit", True),
        (T.UNKNOWN, "teleported/beamed", False),
    ]
    assert events[1].raw["detail"]["status"] == "teleported"


def test_an_unknown_aftership_subtag_becomes_a_flagged_event():
    msg = {
        "tracking_number": "AS1",
        "checkpoints": [
            {"checkpoint_time": "2026-11-20T09:00:00+08:00", "tag": "Exception", "subtag": "Exception_099"},
        ],
    }
    (event,) = aftership.parse_tracking(msg)
    assert (event.status, event.carrier_status, event.code_known) == (T.EXCEPTION, "Exception/Exception_099", False)
    assert event.raw["checkpoint"]["subtag"] == "Exception_099"


def test_an_unknown_kdniao_action_becomes_a_flagged_event():
    push = {
        "Data": [
            {
                "LogisticCode": "KD1",
                "State": "2",
                "Traces": [{"AcceptTime": "2026-11-20 10:00:00", "AcceptStation": "?", "Action": "999"}],
            }
        ]
    }
    (event,) = kdniao.parse_event(json.dumps(push))
    assert (event.status, event.carrier_status, event.code_known) == (T.UNKNOWN, "kdniao/999", False)
    assert event.raw["trace"]["Action"] == "999"


# ---- the ordering rule: the newest carrier event wins; problems and returns are not "backwards" ---------------

H0 = datetime(2026, 11, 20, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "new", "later", "moves"),
    [
        (T.OUT_FOR_DELIVERY, T.RETURNING_TO_SENDER, True, True),  # refused at the door
        (T.OUT_FOR_DELIVERY, T.FAILED_ATTEMPT, True, True),
        (T.AVAILABLE_FOR_PICKUP, T.EXCEPTION, True, True),  # not collected from the locker
        (T.EXCEPTION, T.IN_TRANSIT, True, True),  # moving again
        (T.FAILED_ATTEMPT, T.OUT_FOR_DELIVERY, True, True),
        (T.LOST, T.IN_TRANSIT, True, True),  # found again
        (T.OUT_FOR_DELIVERY, T.IN_TRANSIT, False, False),  # an older scan arriving late
        (T.IN_TRANSIT, T.DELIVERED, False, True),  # a late "delivered" is still the truth
        (T.DELIVERED, T.IN_TRANSIT, True, False),  # a stray scan after delivery
        (T.DELIVERED, T.RETURNING_TO_SENDER, True, False),
        (T.RETURNED_TO_SENDER, T.IN_TRANSIT, True, False),
        (T.RETURNING_TO_SENDER, T.IN_TRANSIT, True, False),  # the way back is scanned "in transit"
        (T.RETURNING_TO_SENDER, T.OUT_FOR_DELIVERY, True, False),
        (T.RETURNING_TO_SENDER, T.RETURNED_TO_SENDER, True, True),
        (T.RETURNING_TO_SENDER, T.LOST, True, True),
        (T.IN_TRANSIT, T.UNKNOWN, True, False),  # an unknown code moves nothing
    ],
)
def test_parcel_moves(current, new, later, moves):
    when = H0 + timedelta(hours=1 if later else -1)
    assert parcel_moves(current, H0, new, when) is moves


def test_parcel_moves_first_event_and_ties():
    assert parcel_moves(T.INFO_RECEIVED, None, T.IN_TRANSIT, H0) is True
    assert parcel_moves(T.IN_TRANSIT, H0, T.OUT_FOR_DELIVERY, H0) is True  # same instant: the further one
    assert parcel_moves(T.OUT_FOR_DELIVERY, H0, T.IN_TRANSIT, H0) is False
