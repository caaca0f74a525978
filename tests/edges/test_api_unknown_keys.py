"""An order body's keys the API does not know (review of issue 14/17): refused by name and path, 400, nothing
written, instead of dropped in silence (``ship_to.address`` for ``address1`` used to leave the order held
"address invalid" for an address it did send). The same in the batch endpoint, per order; hypothesis adds keys
of its own anywhere in the order (derandomized: the same examples each run; its parts shared with
tests/oms/test_api_write_keys.py in tests/unknown_keys.py). The check is the API's one (oms/api.py
``unknown_keys``) reading the published ``OrderIn`` schema (orders/intake/order_in.py)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.models import OutboxMessage
from orders.intake import oms_json
from orders.intake.canonical import FieldError, shown
from orders.intake.invoice import INVOICE_INPUTS
from orders.models import InboundMessage, InvoiceRequest
from tests.unknown_keys import named_unknown, profile, values

from .conftest import NOTHING, api_payload, only_message, written

URL = "/api/v1/orders/"
BATCH = "/api/v1/orders/batch/"
SHIP_TO_KNOWN = "address1, address2, city, country, district, email, full, name, phone, postcode, province"


def post(client, token, url, body, **headers):
    return client.post(
        url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}", **headers
    )


def test_an_unknown_key_in_ship_to_is_400_naming_it_and_nothing_is_written(client, token):
    body = api_payload()
    del body["ship_to"]["address1"]
    body["ship_to"]["address"] = "1 Nanjing Road"

    response = post(client, token, URL, body)

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": None, "field": "ship_to.address", "message": f"unknown field; known: {SHIP_TO_KNOWN}."}
    ]
    assert written() == NOTHING
    message = only_message()
    assert message.status == "rejected"
    assert message.error == f"ship_to.address: unknown field; known: {SHIP_TO_KNOWN}."


def test_every_unknown_key_is_named_with_its_path_beside_the_other_errors(client, token):
    body = api_payload(colour="red", lines=[{"sku": "SKU-A", "quantity": 0, "qty": 2}, {"sku": "SKU-B", "quantity": 1}])
    body["customer"]["mobile"] = "13712345678"
    body["invoice"] = {"title": "上海某某有限公司", "titel": "x"}

    response = post(client, token, URL, body, HTTP_PREFER="return=representation")

    assert response.status_code == 400
    fields = [(e["field"], e["message"]) for e in response.json()["errors"]]
    known_order = ", ".join(sorted(oms_json.ORDER_FIELDS))
    assert fields[:4] == [
        ("colour", f"unknown field; known: {known_order}."),
        ("customer.mobile", "unknown field; known: email, name, phone."),
        ("invoice.titel", f"unknown field; known: {', '.join(sorted(INVOICE_INPUTS))}."),
        ("lines[1].qty", "unknown field; known: gift, name, quantity, sku, unit_price."),
    ]
    assert ("lines[1].quantity", "must be at least 1, got 0.") in fields
    assert written() == NOTHING
    assert InvoiceRequest.objects.count() == 0


def test_the_batch_answers_an_order_with_an_unknown_key_as_rejected_and_takes_the_others(client, token):
    bad = api_payload(external_id="B-2")
    bad["lines"][0]["price"] = "19.90"
    orders = [api_payload(external_id="B-1"), bad]

    response = post(client, token, BATCH, {"orders": orders})

    assert response.status_code == 202
    answer = response.json()
    assert (answer["accepted"], answer["exists"], answer["rejected"]) == (1, 0, 1)
    rejected = answer["results"][1]
    assert (rejected["index"], rejected["status"]) == (1, "rejected")
    assert rejected["errors"] == [
        {
            "row": None,
            "field": "lines[1].price",
            "message": "unknown field; known: gift, name, quantity, sku, unit_price.",
        }
    ]
    assert InboundMessage.objects.get(pk=rejected["message"]).status == "rejected"
    assert sorted(InboundMessage.objects.values_list("status", flat=True)) == ["received", "rejected"]
    assert written() == NOTHING  # the accepted one waits for the next batch


def test_an_unknown_key_beside_the_batchs_orders_refuses_the_request_whole(client, token):
    response = post(client, token, BATCH, {"orders": [api_payload()], "dry_run": True})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": None, "field": "dry_run", "message": "unknown field; known: orders."}]
    assert written() == NOTHING
    assert only_message().status == "rejected"


def test_an_unknown_key_in_an_invoice_request_is_400_and_nothing_is_requested(client, token):
    response = post(client, token, URL, api_payload(), HTTP_PREFER="return=representation")
    number = response.json()["number"]

    refused = post(client, token, f"/api/v1/orders/{number}/invoice/", {"title": "王五", "tax_number": "X"})

    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"row": None, "field": "tax_number", "message": f"unknown field; known: {', '.join(sorted(INVOICE_INPUTS))}."}
    ]
    assert InvoiceRequest.objects.count() == 0


def test_the_published_schema_lists_exactly_the_keys_the_api_takes(client, token):
    schemas = client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").json()["components"]["schemas"]
    order = schemas["OrderIn"]
    parts = {
        "order": (order, oms_json.ORDER_FIELDS),
        "customer": (order["properties"]["customer"], oms_json.CUSTOMER_FIELDS),
        "ship_to": (order["properties"]["ship_to"], oms_json.SHIP_TO_FIELDS),
        "line": (order["properties"]["lines"]["items"], oms_json.LINE_FIELDS),
        "invoice": (schemas["InvoiceIn"], INVOICE_INPUTS),
    }
    for name, (schema, known) in parts.items():
        assert schema["additionalProperties"] is False, name
        assert sorted(schema["properties"]) == sorted(known), name


# ---- property: any extra key anywhere → 400 naming it, never a 5xx, nothing written --------------------------

PLACES = {
    "": oms_json.ORDER_FIELDS,
    "customer.": oms_json.CUSTOMER_FIELDS,
    "ship_to.": oms_json.SHIP_TO_FIELDS,
    "lines[1].": oms_json.LINE_FIELDS,
    "invoice.": INVOICE_INPUTS,
}
extras = st.lists(
    st.tuples(st.sampled_from(sorted(PLACES)), st.text(min_size=1, max_size=12), values).filter(
        lambda extra: extra[1] not in PLACES[extra[0]]
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda extra: extra[:2],
)


def _object_at(body: dict, place: str) -> dict:
    if place == "":
        return body
    if place == "lines[1].":
        return body["lines"][0]
    return body.setdefault(place.rstrip("."), {})


@pytest.mark.parametrize("url", [URL, BATCH])
@profile(40)
@given(extra=extras)
def test_random_extra_keys_anywhere_are_400_naming_each_never_500_and_nothing_written(client, token, url, extra):
    body = api_payload(invoice={"title": "王五"})
    for place, key, value in extra:
        _object_at(body, place)[key] = value
    messages, outbox, before = InboundMessage.objects.count(), OutboxMessage.objects.count(), written()

    response = post(
        client, token, url, {"orders": [body]} if url == BATCH else body, HTTP_PREFER="return=representation"
    )

    assert response.status_code == (200 if url == BATCH else 400), response.content[:300]
    answer = response.json()
    errors = answer["results"][0]["errors"] if url == BATCH else answer["errors"]
    if url == BATCH:
        assert (answer["accepted"], answer["rejected"]) == (0, 1)
    assert named_unknown(errors) == {FieldError(f"{place}{shown(key, 80)}", "").field for place, key, _ in extra}
    assert written() == before
    assert InboundMessage.objects.count() == messages + 1
    assert InboundMessage.objects.order_by("-pk").first().status == "rejected"
    assert OutboxMessage.objects.count() == outbox
    assert InvoiceRequest.objects.count() == 0


def test_a_message_accepted_before_keys_were_judged_is_still_applied(client, token):
    """The inbox's batch applies what the API accepted already: a body stored (202) before unknown keys were
    refused keeps its answer; its unknown key is ignored, as it was then."""
    from orders.intake import inbox
    from orders.models import Channel

    body = api_payload(external_id="OLD-1", colour="red")
    message = inbox._message(body=json.dumps(body).encode(), user=None, channel=Channel.objects.get(slug="web"))
    message.save()

    inbox.apply_pending(ids=[message.pk])

    message.refresh_from_db()
    assert (message.status, message.result.get("created")) == ("processed", True)
    assert written()["orders"] == 1


def test_an_unknown_key_does_not_hide_a_missing_channel(client, token):
    body = api_payload(shipping="express")
    del body["channel"]

    response = post(client, token, URL, body)

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["shipping", "channel"]
    assert written() == NOTHING


def test_a_person_retrying_a_stored_api_message_gets_the_same_judgement_as_the_api(client, token):
    """The intake monitor's retry of an API message reads it as the API does now: an unknown key rejects it
    by name, it does not become an order held for an address it did send."""
    from orders.intake import inbox
    from orders.intake.pipeline import inbound_process
    from orders.models import Channel

    body = api_payload(external_id="OLD-2")
    body["ship_to"]["address"] = body["ship_to"].pop("address1")
    message = inbox._message(body=json.dumps(body).encode(), user=None, channel=Channel.objects.get(slug="web"))
    message.status, message.attempts = "failed", 1
    message.save()

    inbound_process(message.pk, retry=True)

    message.refresh_from_db()
    assert message.status == "rejected"
    assert message.result["errors"] == [
        {"row": None, "field": "ship_to.address", "message": f"unknown field; known: {SHIP_TO_KNOWN}."}
    ]
    assert written() == NOTHING


def test_every_error_entry_of_the_order_intake_has_one_shape_row_null(client, token):
    """A single order, each order of a batch, a batch refused whole and an order's message answer their errors
    alike: ``{row, field, message}``, ``row`` null (README "The API")."""
    single = post(client, token, URL, api_payload(channel="gone", colour="red"))
    bad_line = post(client, token, URL, api_payload(lines=[{"sku": "SKU-A", "quantity": 0}]))
    orders = [api_payload(channel="gone"), api_payload(external_id="E-2", priority=10)]
    batch = post(client, token, BATCH, {"orders": orders})
    whole = post(client, token, BATCH, {"orders": []})
    outcome = client.get(f"/api/v1/inbound/{bad_line.json()['message']}/", HTTP_AUTHORIZATION=f"Token {token}")
    unknown_channel = post(client, token, URL, api_payload(channel="gone"))

    answers = {
        "single": single.json()["errors"],
        "bad line": bad_line.json()["errors"],
        "batch's order": batch.json()["results"][0]["errors"],
        "batch's other order": batch.json()["results"][1]["errors"],
        "batch refused whole": whole.json()["errors"],
        "message": outcome.json()["errors"],
        "unknown channel": unknown_channel.json()["errors"],
    }
    for name, errors in answers.items():
        assert errors, name
        assert all(list(e) == ["row", "field", "message"] and e["row"] is None for e in errors), (name, errors)
    assert answers["unknown channel"] == [{"row": None, "field": "channel", "message": "unknown channel 'gone'."}]
