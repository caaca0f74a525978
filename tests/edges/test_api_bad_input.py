"""The JSON API answers bad input with 400 and the field named, 413 past the size limit, never a 500; the
message is stored with its outcome and nothing else is written."""

import json

import pytest

from orders.models import InboundMessage

from .conftest import MAX_BODY, NOTHING, api_payload, nested, only_message, set_path, written

URL = "/api/v1/orders/"
LONG = "x" * 300


def post(client, token, body: bytes | str):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")


# (path in the body, bad value, the field the error names)
FIELD_CASES = [
    # strings longer than their column (the limits are the model's own)
    ("ship_to.name", "N" * 121, "ship_to.name"),
    ("ship_to.city", "C" * 65, "ship_to.city"),
    ("ship_to.province", "P" * 65, "ship_to.province"),
    ("ship_to.district", "D" * 65, "ship_to.district"),
    ("ship_to.address1", "A" * 256, "ship_to.address1"),
    ("ship_to.address2", "A" * 256, "ship_to.address2"),
    ("ship_to.postcode", "2" * 17, "ship_to.postcode"),
    ("ship_to.phone", "1" * 33, "ship_to.phone"),
    ("ship_to.email", "a" * 250 + "@x.com", "ship_to.email"),
    ("ship_to.country", "C" * 65, "ship_to.country"),
    ("customer.name", "N" * 121, "customer.name"),
    ("customer.email", "e" * 250 + "@x.com", "customer.email"),
    ("customer.phone", "9" * 33, "customer.phone"),
    ("external_id", "E" * 65, "external_id"),
    ("requested_service", "s" * 33, "requested_service"),
    ("lines[0].sku", "S" * 65, "lines[1].sku"),
    ("lines[0].name", "n" * 201, "lines[1].name"),
    # NUL characters (PostgreSQL text cannot hold them) and lone surrogates (not UTF-8 at all)
    ("ship_to.name", "Han\x00Meimei", "ship_to.name"),
    ("ship_to.city", "\x00", "ship_to.city"),
    ("ship_to.address1", "1 Nanjing\x00Road", "ship_to.address1"),
    ("customer.name", "a\x00", "customer.name"),
    ("customer.email", "han\x00@example.com", "customer.email"),
    ("external_id", "EDGE\x001", "external_id"),
    ("note", "leave at door\x00", "note"),
    ("lines[0].sku", "SKU\x00A", "lines[1].sku"),
    ("lines[0].name", "Coffee\x00", "lines[1].name"),
    ("channel", "web\x00", "channel"),
    ("currency", "CN\x00", "currency"),
    ("ship_to.name", "Han \ud800", "ship_to.name"),
    ("note", "\udfff", "note"),
    # money
    ("lines[0].unit_price", "1e30", "lines[1].unit_price"),
    ("lines[0].unit_price", 1e30, "lines[1].unit_price"),
    ("lines[0].unit_price", "NaN", "lines[1].unit_price"),
    ("lines[0].unit_price", "sNaN", "lines[1].unit_price"),
    ("lines[0].unit_price", "Infinity", "lines[1].unit_price"),
    ("lines[0].unit_price", "-Infinity", "lines[1].unit_price"),
    ("lines[0].unit_price", "-0.01", "lines[1].unit_price"),
    ("lines[0].unit_price", -5, "lines[1].unit_price"),
    ("lines[0].unit_price", "10000000000.00", "lines[1].unit_price"),
    ("lines[0].unit_price", "19.999", "lines[1].unit_price"),
    ("lines[0].unit_price", "twelve", "lines[1].unit_price"),
    ("lines[0].unit_price", True, "lines[1].unit_price"),
    ("total", "1e30", "total"),
    ("total", "NaN", "total"),
    ("total", "sNaN", "total"),
    ("total", "-1", "total"),
    ("total", "99999999999", "total"),
    ("total", 1e308, "total"),
    # quantities
    ("lines[0].quantity", 0, "lines[1].quantity"),
    ("lines[0].quantity", -1, "lines[1].quantity"),
    ("lines[0].quantity", 100001, "lines[1].quantity"),
    ("lines[0].quantity", 2**64, "lines[1].quantity"),
    ("lines[0].quantity", "1e30", "lines[1].quantity"),
    ("lines[0].quantity", "NaN", "lines[1].quantity"),
    ("lines[0].quantity", "sNaN", "lines[1].quantity"),
    ("lines[0].quantity", "Infinity", "lines[1].quantity"),
    ("lines[0].quantity", 1.5, "lines[1].quantity"),
    ("lines[0].quantity", None, "lines[1].quantity"),
    ("lines[0].quantity", True, "lines[1].quantity"),
    ("lines[0].quantity", [1], "lines[1].quantity"),
    # dates
    ("placed_at", "0001-01-01T00:00:00", "placed_at"),
    ("placed_at", "9999-12-31T23:59:59-12:00", "placed_at"),
    ("placed_at", "not a date", "placed_at"),
    ("placed_at", "2026-02-30T10:00:00", "placed_at"),
    ("placed_at", 12345, "placed_at"),
    ("promise_date", "0001-01-01", "promise_date"),
    ("promise_date", "9999-12-31", "promise_date"),
    ("promise_date", "tomorrow", "promise_date"),
    ("promise_date", "2026-13-01", "promise_date"),
    # shapes and choices
    ("priority", 0, "priority"),
    ("priority", 10, "priority"),
    ("priority", True, "priority"),
    ("priority", "5", "priority"),
    ("priority", 2**70, "priority"),
    ("lines", [], "lines"),
    ("lines", "SKU-A x2", "lines"),
    ("lines", [7], "lines[1]"),
    ("ship_to", "Shanghai", "ship_to"),
    ("customer", [1, 2], "customer"),
    ("ship_to.name", {"first": "Han"}, "ship_to.name"),
    ("lines[0].sku", ["SKU-A"], "lines[1].sku"),
    ("external_id", True, "external_id"),
    ("channel", "", "channel"),
    ("channel", "no-such-channel", "channel"),
    ("currency", "XXX", "currency"),
    ("payment_method", "bitcoin", "payment_method"),
]


@pytest.mark.parametrize(("path", "value", "field"), FIELD_CASES, ids=[f"{c[0]}={c[1]!r:.30}" for c in FIELD_CASES])
def test_a_bad_field_is_400_naming_it_and_nothing_is_written(client, token, path, value, field):
    response = post(client, token, set_path(api_payload(), path, value))

    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert field in [e["field"] for e in body["errors"]], body
    message = only_message()
    assert message.source == "api" and message.status == "rejected"
    assert field in message.error
    assert written() == NOTHING


def test_an_order_total_past_the_column_is_400_naming_the_total(client, token):
    lines = [{"sku": "SKU-A", "quantity": 100000, "unit_price": "9999999999.99"}]
    response = post(client, token, api_payload(lines=lines))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["total"]
    assert only_message().status == "rejected"
    assert written() == NOTHING


def test_more_lines_than_line_numbers_hold_is_400(client, token, settings):
    settings.INTAKE_MAX_BODY_BYTES = 4 * 1024 * 1024
    lines = [{"sku": "SKU-A", "quantity": 1}] * 32768
    response = post(client, token, api_payload(lines=lines))

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["lines"]
    assert written() == NOTHING


BODY_CASES = [
    ("not json", b"this is not json", "not valid JSON"),
    ("truncated", b'{"channel": "web", ', "not valid JSON"),
    ("array", b"[1, 2]", "must be a JSON object"),
    ("string", b'"order"', "must be a JSON object"),
    ("empty", b"", "must be a JSON object"),
    ("nested 50000 deep", nested(50000).encode(), "nested too deeply"),
    (
        "nested 50000 deep in a field",
        json.dumps(api_payload())[:-1].encode() + b', "x": ' + nested(50000).encode() + b"}",
        "nested too deeply",
    ),
    ("raw NUL byte", b'{"channel": "web\x00"}', "not valid JSON"),
    ("not UTF-8", b'{"channel": "w\xe9b"}', "not valid JSON"),
    ("JSON NaN literal", json.dumps(api_payload(total=float("nan"))).encode(), "total"),
    (
        "a 5000-digit number",
        json.dumps(api_payload()).encode().replace(b'"quantity": 2', b'"quantity": ' + b"9" * 5000),
        "digits",
    ),
]


@pytest.mark.parametrize(("body", "reason"), [c[1:] for c in BODY_CASES], ids=[c[0] for c in BODY_CASES])
def test_a_bad_body_is_400_with_the_reason_stored(client, token, body, reason):
    response = post(client, token, body)

    assert response.status_code == 400, response.content[:300]
    message = only_message()
    assert message.status == "rejected" and reason in message.error
    assert reason in json.dumps(response.json())
    assert bytes(message.raw) == body  # the exact bytes are kept
    assert "\x00" not in message.body
    assert written() == NOTHING


def test_a_body_past_the_limit_is_413_and_the_refusal_is_stored(client, token):
    body = json.dumps(api_payload(note="n" * MAX_BODY)).encode()

    response = post(client, token, body)

    assert response.status_code == 413
    assert "too large" in response.json()["error"]
    message = only_message()
    assert message.status == "rejected" and "too large" in message.error
    assert message.body == "" and bytes(message.raw) == b""
    assert written() == NOTHING


LIST_CASES = [
    ("/api/v1/orders/?offset=-1", "offset"),
    ("/api/v1/orders/?offset=99999999999999999999999", "offset"),
    (f"/api/v1/orders/?offset={2**63}", "offset"),
    ("/api/v1/orders/?offset=abc", "offset"),
    ("/api/v1/orders/?offset=1e3", "offset"),
    ("/api/v1/orders/?limit=0", "limit"),
    ("/api/v1/orders/?limit=-5", "limit"),
    ("/api/v1/orders/?limit=501", "limit"),
    ("/api/v1/orders/?limit=99999999999999999999999", "limit"),
    ("/api/v1/orders/?limit=%D9%A1", "limit"),
    ("/api/v1/stock/?offset=-1", "offset"),
    (f"/api/v1/stock/?offset={2**64}", "offset"),
    ("/api/v1/stock/?limit=2001", "limit"),
]


@pytest.mark.parametrize(("url", "field"), LIST_CASES)
def test_list_paging_out_of_range_is_400_naming_the_parameter(client, token, url, field):
    response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 400, response.content[:300]
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_largest_offset_allowed_answers_an_empty_page(client, token):
    response = client.get(f"/api/v1/orders/?offset={2**63 - 502}", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200 and response.json() == {"results": [], "next": None}


NUL_URLS = [
    "/api/v1/orders/?channel=%00",
    "/api/v1/orders/?number=SO%00",
    "/api/v1/orders/%00/",
    "/api/v1/orders/SO1%00/",
    "/api/v1/stock/?sku=a%00b",
    "/orders/?q=%00",
    "/orders/SO100001%00/",
    "/track/?number=%00",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_path_or_query_is_400(client, token, url):
    response = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert InboundMessage.objects.count() == 0


def test_a_non_ascii_token_is_401_not_500(client):
    response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION="Token cl\u00e9-\u4e2d\u6587")
    assert response.status_code == 401
