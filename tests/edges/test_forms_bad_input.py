"""Back-office forms with bad input: the page is shown again (400) with the field named, nothing is
written; a value that passes the form but not the order's checks (a total past the column, a date out of
range) is stored as a rejected message with the reason."""

import pytest

from inventory.models import Location, StockMovement, Transfer
from orders import services as order_services
from orders.models import Channel, InboundMessage
from tests.factories import LocationFactory, canonical

from .conftest import NOTHING, only_message, written


def order_form(**changes) -> dict:
    data = {
        "channel": Channel.objects.get(slug="web").pk,
        "external_id": "",
        "ship_name": "Wang Fang",
        "ship_phone": "13900001111",
        "ship_email": "wang@example.com",
        "ship_country": "CN",
        "ship_province": "Shanghai",
        "ship_city": "Shanghai",
        "ship_district": "",
        "ship_address1": "1 West Nanjing Road",
        "ship_address2": "",
        "ship_postcode": "200040",
        "requested_service": "",
        "promise_date": "",
        "note": "",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-sku": "SKU-A",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "19.90",
    }
    data.update(changes)
    return data


def errors_of(response) -> dict:
    form, formset = response.context["form"], response.context["formset"]
    found = dict(form.errors)
    for i, errors in enumerate(formset.errors):
        found.update({f"lines-{i}-{k}": v for k, v in errors.items()})
    return found


FIELD_CASES = [
    ("ship_name", "N" * 121),
    ("ship_city", "C" * 65),
    ("ship_province", "P" * 65),
    ("ship_district", "D" * 65),
    ("ship_address1", "A" * 256),
    ("ship_phone", "1" * 33),
    ("ship_email", "e" * 250 + "@x.com"),
    ("ship_postcode", "2" * 17),
    ("external_id", "E" * 65),
    ("ship_name", "Wang\x00Fang"),
    ("ship_city", "\x00"),
    ("note", "ring twice\x00"),
    ("lines-0-sku", "SKU\x00A"),
    ("lines-0-sku", "S" * 65),
    ("lines-0-unit_price", "1e30"),
    ("lines-0-unit_price", "NaN"),
    ("lines-0-unit_price", "sNaN"),
    ("lines-0-unit_price", "Infinity"),
    ("lines-0-unit_price", "-1"),
    ("lines-0-unit_price", "19.999"),
    ("lines-0-unit_price", "10000000000"),
    ("lines-0-quantity", "0"),
    ("lines-0-quantity", "100001"),
    ("lines-0-quantity", "1e30"),
    ("lines-0-quantity", "99999999999999999999999"),
    ("lines-0-quantity", "1.5"),
    ("promise_date", "not a date"),
    ("promise_date", "0000-01-01"),
]


@pytest.mark.parametrize(("field", "value"), FIELD_CASES, ids=[f"{c[0]}={c[1]!r:.24}" for c in FIELD_CASES])
def test_new_order_form_bad_field_is_400_naming_it_and_writes_nothing(client, manager, field, value):
    client.force_login(manager)

    response = client.post("/orders/new/", order_form(**{field: value}))

    assert response.status_code == 400
    assert field in errors_of(response), errors_of(response)
    assert InboundMessage.objects.count() == 0
    assert written() == NOTHING


CHECK_CASES = [
    ({"lines-0-quantity": "100000", "lines-0-unit_price": "9999999999.99"}, "total"),
    ({"lines-0-quantity": "100000", "lines-0-unit_price": "100000.01"}, "total"),
    ({"promise_date": "0001-01-01"}, "promise_date"),
    ({"promise_date": "9999-12-31"}, "promise_date"),
]


@pytest.mark.parametrize(("changes", "field"), CHECK_CASES)
def test_new_order_form_value_the_order_cannot_hold_is_400_and_stored_rejected(client, manager, changes, field):
    client.force_login(manager)

    response = client.post("/orders/new/", order_form(**changes))

    assert response.status_code == 400
    shown = " ".join(response.context["form"].non_field_errors())
    assert shown.startswith(f"{field}:"), shown
    message = only_message()
    assert message.source == "form" and message.status == "rejected" and field in message.error
    assert written() == NOTHING


@pytest.fixture
def placed_order(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = order_services.order_create(
            channel=Channel.objects.get(slug="web"), data=canonical("FORM-1"), source="test"
        ).order
    order.refresh_from_db()
    return order


ADDRESS_CASES = [
    ("name", "N" * 121),
    ("city", "C" * 65),
    ("phone", "1" * 33),
    ("postcode", "2" * 17),
    ("email", "e" * 250 + "@x.com"),
    ("address1", "A\x00"),
]


@pytest.mark.parametrize(("field", "value"), ADDRESS_CASES, ids=[f"{c[0]}={c[1]!r:.24}" for c in ADDRESS_CASES])
def test_address_change_form_bad_field_names_it_and_changes_nothing(client, manager, placed_order, field, value):
    client.force_login(manager)
    before = {f: getattr(placed_order, f"ship_{f}") for f in ("name", "city", "phone", "postcode", "email", "address1")}
    data = dict(before, reason_code="address_correction", note="")
    data[field] = value

    response = client.post(f"/orders/{placed_order.number}/change/address/", data)

    assert response.status_code in (200, 400)
    assert field in response.context["address_form"].errors
    placed_order.refresh_from_db()
    assert {f: getattr(placed_order, f"ship_{f}") for f in before} == before


@pytest.fixture
def stock_world(manager):
    LocationFactory(code="sha", name="Shanghai DC")
    LocationFactory(code="can", name="Guangzhou DC")
    return manager


STOCK_CASES = [
    ("/inventory/stock/receive/", {"location": "sha", "sku": "SKU-A", "quantity": "99999999999999999999"}, "quantity"),
    ("/inventory/stock/receive/", {"location": "sha", "sku": "SKU-A", "quantity": "1e30"}, "quantity"),
    ("/inventory/stock/receive/", {"location": "sha", "sku": "SKU\x00A", "quantity": "1"}, "sku"),
    ("/inventory/stock/receive/", {"location": "s\x00ha", "sku": "SKU-A", "quantity": "1"}, "location"),
    (
        "/inventory/stock/adjust/",
        {"location": "sha", "sku": "SKU-A", "delta": "-99999999999999999999", "reason": "x"},
        "delta",
    ),
    ("/inventory/stock/count/", {"location": "sha", "sku": "SKU-A", "counted": str(2**40)}, "counted"),
    (
        "/inventory/stock/write-off/",
        {"location": "sha", "sku": "SKU-A", "quantity": str(2**63), "reason_code": "damaged", "reason": "x"},
        "quantity",
    ),
    (
        "/inventory/transfers/new/",
        {"from_location": "sha", "to_location": "can", "lines": "SKU-A 99999999999999999999"},
        "lines",
    ),
    ("/inventory/transfers/new/", {"from_location": "sha", "to_location": "can", "lines": "SKU-A -3"}, "lines"),
]


@pytest.mark.parametrize(
    ("url", "data", "field"), STOCK_CASES, ids=[f"{c[0].split('/')[-2]}-{c[2]}-{i}" for i, c in enumerate(STOCK_CASES)]
)
def test_stock_form_bad_number_is_400_naming_the_field_and_moves_nothing(client, stock_world, url, data, field):
    client.force_login(stock_world)

    response = client.post(url, data)

    assert response.status_code == 400, response.status_code
    assert field in response.context["form"].errors
    assert StockMovement.objects.count() == 0 and not Transfer.objects.exists()
    assert Location.objects.count() == 2


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "9999-12-31T23:59", "2026-02-30T10:00", "\x00"])
def test_manual_tracking_event_with_a_date_out_of_range_names_it_and_records_nothing(client, manager, when):
    client.force_login(manager)

    response = client.post(
        "/logistics/tracking/record/",
        {"tracking_number": "SF123", "status": "in_transit", "occurred_at": when, "location": "", "description": ""},
    )

    assert response.status_code in (200, 400)
    assert "occurred_at" in response.context["form"].errors
    assert written() == NOTHING
