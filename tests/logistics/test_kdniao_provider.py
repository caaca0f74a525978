"""Kdniao push signature (DataSign), push and instant-query parsing. Pure: no database.

Fixtures in tests/fixtures/kdniao are RequestData JSON as Kdniao documents it (see that folder's README and
logistics/providers/kdniao.py for the sources); tests build the form body around them."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

import pytest

from logistics.providers.base import PayloadInvalid, SignatureInvalid
from logistics.providers.kdniao import (
    build_push_body,
    data_sign,
    form_fields,
    parse_event,
    push_response,
    query_form,
    verify_signature,
)
from logistics.status import TrackingStatus as T

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kdniao"
APP_KEY = "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17"


def request_data(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_data_sign_is_base64_of_the_md5_hex():
    text = '{"LogisticCode":"1"}'
    expected = base64.b64encode(hashlib.md5((text + APP_KEY).encode()).hexdigest().encode()).decode()
    assert data_sign(text, APP_KEY) == expected


def test_signature_valid_and_double_encoded():
    data = request_data("push_in_transit.json")
    verify_signature(build_push_body(data, APP_KEY), {}, APP_KEY)
    twice = urlencode({"RequestData": data, "DataSign": quote(data_sign(data, APP_KEY), safe=""), "RequestType": "101"})
    verify_signature(twice.encode(), {}, APP_KEY)


@pytest.mark.parametrize(
    ("make_body", "secret", "match"),
    [
        (lambda d: build_push_body(d, "another-key"), APP_KEY, "does not match"),
        (lambda d: urlencode({"RequestData": d}).encode(), APP_KEY, "DataSign field is missing"),
        (lambda d: urlencode({"DataSign": "eA=="}).encode(), APP_KEY, "RequestData field is missing"),
        (lambda d: build_push_body(d, APP_KEY), "", "no Kdniao AppKey"),
    ],
    ids=["wrong-key", "no-sign", "no-data", "no-secret"],
)
def test_signature_invalid(make_body, secret, match):
    with pytest.raises(SignatureInvalid, match=match):
        verify_signature(make_body(request_data("push_in_transit.json")), {}, secret)


def test_tampered_request_data_is_invalid():
    data = request_data("push_in_transit.json")
    sign = data_sign(data, APP_KEY)
    tampered = urlencode({"RequestData": data.replace('"State": "2"', '"State": "3"'), "DataSign": sign})
    with pytest.raises(SignatureInvalid):
        verify_signature(tampered.encode(), {}, APP_KEY)


def test_parse_push_beijing_times_to_utc():
    events = parse_event(build_push_body(request_data("push_in_transit.json"), APP_KEY))
    assert [(e.status, e.occurred_at, e.location, e.carrier_status) for e in events] == [
        (T.IN_TRANSIT, utc(2026, 11, 21, 9, 0), "上海市", "kdniao/1"),
        (T.IN_TRANSIT, utc(2026, 11, 21, 14, 10), "上海市", "kdniao/204"),
        (T.IN_TRANSIT, utc(2026, 11, 22, 1, 20), "杭州市", "kdniao/2"),
    ]
    assert events[0].description == "【上海青浦】已揽收"
    assert {e.tracking_number for e in events} == {"YT1000000001"}
    assert events[0].raw["shipper_code"] == "YTO"


def test_parse_delivered_repeats_history_with_the_same_keys():
    delivered = parse_event(build_push_body(request_data("push_delivered.json"), APP_KEY))
    first = parse_event(build_push_body(request_data("push_in_transit.json"), APP_KEY))
    assert [e.status for e in delivered] == [T.IN_TRANSIT] * 4 + [T.OUT_FOR_DELIVERY, T.DELIVERED]
    assert [e.dedupe_key for e in delivered[:3]] == [e.dedupe_key for e in first]


def test_problem_push_keeps_the_state_code():
    last = parse_event(build_push_body(request_data("push_problem_address.json"), APP_KEY))[-1]
    assert (last.status, last.carrier_status) == (T.EXCEPTION, "kdniao/420")


def test_basic_push_without_action_uses_state_for_the_latest_trace():
    events = parse_event(build_push_body(request_data("push_basic_101.json"), APP_KEY))
    assert [(e.status, e.carrier_status) for e in events] == [
        (T.IN_TRANSIT, "kdniao/2"),
        (T.IN_TRANSIT, "kdniao/2"),
        (T.IN_TRANSIT, "kdniao/2"),
    ]


def test_query_response_parses_like_a_push():
    events = parse_event(request_data("query_8001_response.json"))
    assert [e.carrier_status for e in events] == ["kdniao/1", "kdniao/204", "kdniao/2", "kdniao/201"]


def test_record_kdniao_could_not_track_gives_no_events():
    data = json.loads(request_data("push_in_transit.json"))
    data["Data"][0]["Success"] = False
    assert parse_event(build_push_body(json.dumps(data), APP_KEY)) == []


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"Foo=1", "RequestData: missing"),
        (urlencode({"RequestData": "{x"}).encode(), "RequestData: not JSON"),
        (urlencode({"RequestData": "{}"}).encode(), "RequestData.Data: missing"),
        (urlencode({"RequestData": '{"Data":[{"Traces":[]}]}'}).encode(), r"Data\[0\].LogisticCode: missing"),
    ],
)
def test_unreadable_pushes(payload, match):
    with pytest.raises(PayloadInvalid, match=match):
        parse_event(payload)


def test_push_response_shape():
    assert push_response(e_business_id="1237100", now=utc(2026, 11, 23, 6, 40)) == {
        "EBusinessID": "1237100",
        "UpdateTime": "2026-11-23 14:40:00",
        "Success": True,
        "Reason": "",
    }


def test_query_form_is_signed():
    form = query_form(
        e_business_id="1237100", app_key=APP_KEY, shipper_code="SF", logistic_code="SF1", customer_name="8000"
    )
    assert form["RequestType"] == "8001"
    assert json.loads(form["RequestData"]) == {"ShipperCode": "SF", "LogisticCode": "SF1", "CustomerName": "8000"}
    assert form["DataSign"] == data_sign(form["RequestData"], APP_KEY)
    assert form["DataType"] == "2"


@pytest.mark.parametrize(
    "body",
    [
        b"RequestData=%7B%22a%22%3A%22%E4%B8%AD+%3D%26%22%7D&DataSign=abc%3D%3D&RequestType=101",
        b"a=1&a=2&b=&c",  # the first value wins; blank values kept
        b"a%3Db=c%2Bd+e&&x==y",
        b"bad=%zz%4&ok=%41",  # not an escape: read by parse_qs itself
        b"line=one%0Atwo&raw=one\ntwo",
        b"cr=one\rtwo&crlf=%0D%0A",  # a carriage return alone
        b"end=%4",  # an escape cut short at the end
        b"end=%",
        b"a=%4g&b=%g4&c=%%41&d=%4%41&e=%%",  # a bad escape beside good ones, or one % after another
        b"a=%41&b=%4",  # the only bad escape last
        b"x=\xff%41&y=%e4%B8%aD",  # a byte that is not UTF-8; hex digits of either case
        b"lower=%e4%b8%ad&upper=%E4%B8%AD&broken=%C3",
        "text=中%E4%B8%AD%2B+plus".encode(),  # raw UTF-8 beside escapes
        b"",
    ],
)
def test_form_fields_read_a_form_as_parse_qs_does(body):
    expected = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}

    assert form_fields(body) == expected
    assert form_fields(body.decode("utf-8", "replace")) == expected


def test_form_fields_read_every_short_form_as_parse_qs_does():
    """Every form of up to five characters from an alphabet of escapes, hex digits and separators: the fast
    path (taken only when every % starts an escape) and parse_qs agree."""
    from itertools import product

    alphabet = ["%", "4", "e", "g", "=", "&", "+"]
    for size in range(1, 6):
        for chars in product(alphabet, repeat=size):
            body = ("v=" + "".join(chars)).encode()
            expected = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
            assert form_fields(body) == expected, body


def test_response_names_the_configured_business_id_else_the_pushs(settings, monkeypatch):
    from logistics.providers import kdniao

    body = build_push_body(json.dumps({"EBusinessID": "1237100", "Count": "0", "Data": []}), APP_KEY)
    settings.KDNIAO_EBUSINESS_ID = ""
    monkeypatch.delenv("KDNIAO_EBUSINESS_ID", raising=False)
    answer, status = kdniao.response_for(body, True)
    assert (answer["EBusinessID"], answer["Success"], status) == ("1237100", True, 200)
    answer, status = kdniao.response_for(b"RequestData=%7Bnot+json", False)
    assert (answer["EBusinessID"], answer["Success"], answer["Reason"], status) == ("", False, "invalid DataSign", 401)

    settings.KDNIAO_EBUSINESS_ID = "8888"
    read = []
    monkeypatch.setattr(kdniao, "form_fields", lambda b: read.append(b) or {})
    answer, status = kdniao.response_for(body, True)
    assert (answer["EBusinessID"], status, read) == ("8888", 200, [])  # the push's form is not decoded at all


def test_parcels_of_one_push_sharing_times_each_keep_their_own_codes():
    """The parcels of a push share what they have in common (a time string read once, a code's meaning looked up
    once), never what differs: each parcel's latest trace without an Action takes its own State."""
    from logistics.providers.kdniao import decode, parse_parts_decoded

    def record(code: str, state: str, actions: list[str]) -> dict:
        times = ["2026-11-20 10:00:00", "2026/11/20 16:30:00"]
        traces = [
            {"AcceptTime": when, "AcceptStation": "Shanghai hub", **({"Action": a} if a else {})}
            for when, a in zip(times, actions, strict=True)
        ]
        return {"LogisticCode": code, "ShipperCode": "YTO", "Success": True, "State": state, "Traces": traces}

    data = {
        "EBusinessID": "1",
        "Count": "3",
        "Data": [
            record("A1", "3", ["1", ""]),
            record("B2", "4", ["1", ""]),
            record("C3", "2", ["", "999"]),
        ],
    }
    alone = {r["LogisticCode"]: parse_event(json.dumps(r)) for r in data["Data"]}
    events, set_aside = parse_parts_decoded(decode(build_push_body(json.dumps(data), APP_KEY)))
    assert set_aside == []
    by_parcel = {code: [e for e in events if e.tracking_number == code] for code in alone}
    assert by_parcel == alone  # the same events as each record parsed on its own (equality: keys, times, codes)
    assert [(e.status, e.carrier_status) for e in by_parcel["A1"]][-1] == (T.DELIVERED, "kdniao/3")
    assert by_parcel["B2"][-1].status == T.EXCEPTION and by_parcel["B2"][-1].carrier_status == "kdniao/4"
    assert by_parcel["C3"][0].carrier_status == "kdniao/2" and not by_parcel["C3"][-1].code_known
    assert by_parcel["C3"][-1].occurred_at == utc(2026, 11, 20, 8, 30)
