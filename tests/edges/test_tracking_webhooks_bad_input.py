"""Tracking webhooks (AfterShip, EasyPost, Kdniao) with bad input: 401 for a bad or non-ASCII signature,
413 past the size limit; a signed push that cannot be read is acknowledged and stored with its outcome
and the reason; never a 500, never a tracking event."""

import json
from pathlib import Path

import pytest

from logistics.providers import aftership, easypost, kdniao

from .conftest import MAX_BODY, NOTHING, nested, only_message, set_path, written

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SECRETS = {"aftership": "as-edges-secret", "easypost": "ep-edges-secret", "kdniao": "kd-edges-appkey"}


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.AFTERSHIP_WEBHOOK_SECRET = SECRETS["aftership"]
    settings.EASYPOST_WEBHOOK_SECRET = SECRETS["easypost"]
    settings.KDNIAO_WEBHOOK_SECRET = SECRETS["kdniao"]
    settings.KDNIAO_EBUSINESS_ID = "1237100"


def aftership_data() -> dict:
    return json.loads((FIXTURES / "aftership" / "tracking_update_in_transit.json").read_text(encoding="utf-8"))


def easypost_data() -> dict:
    return json.loads((FIXTURES / "easypost" / "tracker_updated_in_transit.json").read_text(encoding="utf-8"))


def kdniao_data() -> dict:
    return json.loads((FIXTURES / "kdniao" / "push_in_transit.json").read_text(encoding="utf-8"))


def encode(data) -> bytes:
    return json.dumps(data).encode("ascii")


def push(client, provider: str, body: bytes, signature: str | None = None):
    if provider == "aftership":
        sig = aftership.compute_signature(body, SECRETS["aftership"]) if signature is None else signature
        return client.post(
            "/webhooks/tracking/aftership/", body, content_type="application/json", HTTP_AFTERSHIP_HMAC_SHA256=sig
        )
    sig = easypost.compute_signature(body, SECRETS["easypost"]) if signature is None else signature
    return client.post("/webhooks/tracking/easypost/", body, content_type="application/json", HTTP_X_HMAC_SIGNATURE=sig)


def kdniao_push(client, request_data: str, key: str = SECRETS["kdniao"]):
    body = kdniao.build_push_body(request_data, key)
    return client.post(
        "/webhooks/tracking/kdniao/", body, content_type="application/x-www-form-urlencoded;charset=utf-8"
    )


def assert_stored_unapplied(reason: str | None = None):
    message = only_message()
    assert message.status in ("failed", "rejected")
    if reason is not None:
        assert reason in message.error, message.error
    assert "\x00" not in message.body and "\x00" not in message.error
    assert written() == NOTHING
    return message


BAD_BODIES = [
    ("not json", b"<xml>not json</xml>", "not JSON"),
    ("nested 50000 deep", nested(50000).encode(), "nested too deeply"),
    ("object nested 30000 deep", b'{"msg":' * 30000 + b"1" + b"}" * 30000, "nested too deeply"),
    ("a list", b"[]", "expected a JSON object"),
    ("raw NUL", b'{"event": "tracking_update"\x00}', "not JSON"),
    ("not UTF-8", b'{"event": "tracking_update", "msg": "caf\xe9"}', "not JSON"),
]


@pytest.mark.parametrize("provider", ["aftership", "easypost"])
@pytest.mark.parametrize("body", [c[1] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_a_signed_unreadable_push_is_stored_with_its_outcome(client, provider, body):
    response = push(client, provider, body)

    assert response.status_code == 200
    message = assert_stored_unapplied()
    assert "Unreadable payload" in message.error
    assert bytes(message.raw) == body


AFTERSHIP_FIELDS = [
    ("msg.tracking_number", "1Z\x00999"),
    ("msg.tracking_number", "\ud800"),
    ("msg.checkpoints[0].checkpoint_time", "0001-01-01T00:00:00+08:00"),
    ("msg.checkpoints[0].checkpoint_time", "9999-12-31T23:59:59-12:00"),
    ("msg.checkpoints[0].checkpoint_time", "not a time"),
    ("msg.checkpoints[0].message", "arrived\x00"),
    ("msg.checkpoints[0].location", "L" * 10000),
    ("msg.checkpoints", "none"),
    ("msg.checkpoints", [7]),
    ("msg", None),
    ("msg.tag", {"a": 1}),
]


@pytest.mark.parametrize(("path", "value"), AFTERSHIP_FIELDS, ids=[f"{c[0]}={c[1]!r:.24}" for c in AFTERSHIP_FIELDS])
def test_aftership_bad_field_is_stored_with_its_outcome_and_applies_nothing(client, path, value):
    response = push(client, "aftership", encode(set_path(aftership_data(), path, value)))

    assert response.status_code == 200
    assert_stored_unapplied()


EASYPOST_FIELDS = [
    ("result.tracking_code", "EZ\x001"),
    ("result.tracking_details[0].datetime", "0001-01-01T00:00:00+08:00"),
    ("result.tracking_details[0].datetime", "9999-12-31T23:59:59-12:00"),
    ("result.tracking_details[0].datetime", 1e308),
    ("result.tracking_details[0].message", "\x00"),
    ("result.tracking_details", {"a": 1}),
    ("result.est_delivery_date", "0000-00-00"),
    ("result", "tracker"),
]


@pytest.mark.parametrize(("path", "value"), EASYPOST_FIELDS, ids=[f"{c[0]}={c[1]!r:.24}" for c in EASYPOST_FIELDS])
def test_easypost_bad_field_is_stored_with_its_outcome_and_applies_nothing(client, path, value):
    response = push(client, "easypost", encode(set_path(easypost_data(), path, value)))

    assert response.status_code == 200
    assert_stored_unapplied()


SIGNATURES = [("non-ASCII", "h\u00e9llo\u4e2d"), ("empty", ""), ("wrong", "AAAA"), ("latin-1", "\u00ff" * 44)]


@pytest.mark.parametrize("provider", ["aftership", "easypost"])
@pytest.mark.parametrize("signature", [c[1] for c in SIGNATURES], ids=[c[0] for c in SIGNATURES])
def test_a_bad_signature_is_401_stored_rejected(client, provider, signature):
    body = encode(aftership_data() if provider == "aftership" else easypost_data())

    response = push(client, provider, body, signature=signature)

    assert response.status_code == 401
    message = assert_stored_unapplied("Signature invalid")
    assert message.status == "rejected"


KDNIAO_CASES = [
    ("nested 20000 deep", nested(20000)),
    ("object nested 10000 deep", '{"Data":' * 10000 + "1" + "}" * 10000),
    ("not json", "not json"),
    ("NUL in the number", json.dumps(set_path(kdniao_data(), "Data[0].LogisticCode", "SF\x001"))),
    ("year 1", json.dumps(set_path(kdniao_data(), "Data[0].Traces[0].AcceptTime", "0001-01-01 00:00:00"))),
    ("year 9999", json.dumps(set_path(kdniao_data(), "Data[0].Traces[0].AcceptTime", "9999-12-31 23:59:59"))),
    ("not a time", json.dumps(set_path(kdniao_data(), "Data[0].Traces[0].AcceptTime", "soon"))),
    ("Data not a list", json.dumps(set_path(kdniao_data(), "Data", "none"))),
]


@pytest.mark.parametrize("request_data", [c[1] for c in KDNIAO_CASES], ids=[c[0] for c in KDNIAO_CASES])
def test_kdniao_signed_bad_push_is_answered_and_stored_with_its_outcome(client, request_data):
    response = kdniao_push(client, request_data)

    assert response.status_code == 200
    assert response.json()["EBusinessID"] == "1237100"
    assert_stored_unapplied()


@pytest.mark.parametrize("key", ["wrong-key", "ключ-中文"])
def test_kdniao_bad_data_sign_is_401(client, key):
    response = kdniao_push(client, json.dumps(kdniao_data()), key=key)

    assert response.status_code == 401 and response.json()["Success"] is False
    assert_stored_unapplied("Signature invalid")


def test_kdniao_non_ascii_data_sign_is_401(client):
    body = b"RequestData=%7B%7D&DataSign=%C3%A9%E4%B8%AD&RequestType=101"
    response = client.post("/webhooks/tracking/kdniao/", body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 401
    assert_stored_unapplied("Signature invalid")


@pytest.mark.parametrize("provider", ["aftership", "easypost", "kdniao"])
def test_a_push_past_the_limit_is_413_and_the_refusal_stored(client, provider):
    body = b'{"pad": "' + b"x" * MAX_BODY + b'"}'
    response = client.post(f"/webhooks/tracking/{provider}/", body, content_type="application/json")

    assert response.status_code == 413
    message = assert_stored_unapplied("too large")
    assert message.status == "rejected" and message.source == f"webhook:{provider}"
