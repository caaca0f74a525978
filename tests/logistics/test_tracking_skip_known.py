"""Providers carry a parcel's whole history in every push: the batch reads the stored scans' keys first and the
parsers skip those scans without building them (issue 14). Nothing a message says about itself changes: the
same counts, the same flags, the same rows; text that is not clean is built in full and deduplicated as before."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache

from logistics.intake import tracking_push_receive, tracking_pushes_process
from logistics.models import TrackingEvent
from logistics.providers import aftership, kdniao
from logistics.providers.aftership import compute_signature
from tests.logistics.casework import T0, order_at, parcel_of, world

SECRET = "skip-secret"
CHECKPOINTS = [
    ("InfoReceived", "InfoReceived_001", "Shipment information received"),
    ("InTransit", "InTransit_099", "Picked up by courier"),  # a subtag not in AfterShip's table: flagged
    ("InTransit", None, "Departed transit centre"),
    ("Delivered", None, "Delivered"),
]


def aftership_body(number: str, upto: int, *, text: dict | None = None) -> bytes:
    checkpoints = []
    for i, (tag, subtag, message) in enumerate(CHECKPOINTS[: upto + 1]):
        cp = {
            "checkpoint_time": (T0 + timedelta(hours=i)).isoformat(),
            "tag": tag,
            "message": (text or {}).get(i, message),
        }
        if subtag:
            cp["subtag"] = subtag
        checkpoints.append(cp)
    msg = {"tracking_number": number, "tag": CHECKPOINTS[upto][0], "checkpoints": checkpoints}
    return json.dumps({"event": "tracking_update", "event_id": "e", "msg": msg}).encode()


def test_aftership_skips_the_stored_scans_and_builds_the_others_as_before():
    full = aftership.parse_event(aftership_body("SK1", 3))
    known = {"SK1": {full[0].dedupe_key, full[1].dedupe_key}, "OTHER": {full[2].dedupe_key}}
    skipped: dict = {}

    events = aftership.parse_decoded(aftership.decode(aftership_body("SK1", 3)), known=known, skipped=skipped)

    assert events == full[2:]
    assert [e.raw for e in events] == [e.raw for e in full[2:]]
    assert aftership.tracking_numbers(aftership.decode(aftership_body("SK1", 3))) == ["SK1"]
    assert sorted((s.dedupe_key, s.carrier_status, s.code_known) for s in skipped.values()) == sorted(
        [
            (full[0].dedupe_key, "InfoReceived/InfoReceived_001", True),
            (full[1].dedupe_key, "InTransit/InTransit_099", False),
        ]
    )


def test_aftership_checks_a_stored_scan_still_a_bad_one_makes_the_push_unreadable():
    good = aftership.parse_event(aftership_body("SK2", 1))
    data = json.loads(aftership_body("SK2", 1))
    data["msg"]["checkpoints"][0]["checkpoint_time"] = "yesterday"

    with pytest.raises(aftership.PayloadInvalid, match=r"msg.checkpoints\[0\].checkpoint_time"):
        aftership.parse_decoded(data, known={"SK2": {e.dedupe_key for e in good}}, skipped={})


def kdniao_body(numbers: list[str], upto: int) -> bytes:
    traces = [
        {"AcceptTime": f"2026-11-20 1{i}:00:00", "AcceptStation": station, "Location": "北京市", "Action": action}
        for i, (action, station) in enumerate([("1", "已揽收"), ("204", "到达转运中心"), ("202", "派件中")][: upto + 1])
    ]
    data = {
        "EBusinessID": "1",
        "Count": str(len(numbers)),
        "Data": [
            {"LogisticCode": n, "ShipperCode": "YTO", "Success": True, "State": "2", "Traces": traces} for n in numbers
        ],
    }
    return kdniao.build_push_body(json.dumps(data, ensure_ascii=False), "key")


def test_kdniao_skips_the_stored_traces_of_each_parcel_and_builds_the_others_as_before():
    full, bad = kdniao.parse_parts(kdniao_body(["K1", "K2"], 2))
    assert bad == []
    k1, k2 = [[e for e in full if e.tracking_number == n] for n in ("K1", "K2")]
    known = {"K1": {e.dedupe_key for e in k1}, "K2": {k2[0].dedupe_key}}
    skipped: dict = {}
    decoded = kdniao.decode(kdniao_body(["K1", "K2"], 2))

    events, bad = kdniao.parse_parts_decoded(decoded, known=known, skipped=skipped)

    assert kdniao.tracking_numbers(decoded) == ["K1", "K2"]
    assert bad == []
    assert events == k2[1:]
    assert len(events) == 2 and len(skipped) == 4


@pytest.fixture
def parcel(django_capture_on_commit_callbacks, settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = SECRET
    cache.clear()
    world()
    return parcel_of(order_at(django_capture_on_commit_callbacks, "shipped", "SK"))


def receive(data: bytes):
    message, accepted = tracking_push_receive(
        provider="aftership", body=data, headers={"aftership-hmac-sha256": compute_signature(data, SECRET)}
    )
    assert accepted
    return message


@pytest.mark.django_db
def test_a_push_repeating_stored_scans_counts_them_as_duplicates_and_still_flags_their_unknown_code(parcel):
    number = parcel.tracking_number
    [first] = tracking_pushes_process([receive(aftership_body(number, 1)).pk])
    assert first.result["unknown_codes"] == ["InTransit/InTransit_099"]

    [second] = tracking_pushes_process([receive(aftership_body(number, 2)).pk])

    assert second.result == {
        "events": 3,
        "recorded": 1,
        "duplicates": 2,
        "unknown_tracking_numbers": [],
        "unknown_codes": ["InTransit/InTransit_099"],
    }
    assert second.status == "processed"
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3


@pytest.mark.django_db
def test_a_stored_scan_whose_text_needed_fitting_is_built_again_and_still_stored_once(parcel):
    number = parcel.tracking_number
    dirty = {0: "Shipment \x00 received"}  # stored with U+FFFD: its cheap key differs, so it is built in full
    tracking_pushes_process([receive(aftership_body(number, 0, text=dirty)).pk])
    stored = TrackingEvent.objects.get(parcel=parcel)
    assert stored.description == "Shipment \ufffd received"
    assert "Shipment \ufffd received" in json.dumps(stored.raw, ensure_ascii=False)  # jsonb takes no NUL

    [again] = tracking_pushes_process([receive(aftership_body(number, 1, text=dirty)).pk])

    assert (again.result["events"], again.result["recorded"], again.result["duplicates"]) == (2, 1, 1)
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 2
