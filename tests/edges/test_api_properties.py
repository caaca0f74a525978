"""Property-based: any JSON for the API's order body gets either a created order that stores exactly what
was sent, or a 400 with nothing written; never a 5xx (hypothesis, derandomized: the same examples each run)."""

import itertools
import json
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orders.models import InboundMessage, Order

from .conftest import api_payload, written

URL = "/api/v1/orders/"
PROFILE = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["1e30", "NaN", "sNaN", "-0", "Infinity", "0001-01-01", "9999-12-31", "\x00", "19.999", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
texts = st.one_of(st.text(max_size=300), json_values)
money = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("99999999999.999"), places=3).map(str),
    st.integers(min_value=-5, max_value=10**12),
    json_values,
)
quantities = st.one_of(st.integers(min_value=-3, max_value=200000), json_values)

orders = st.fixed_dictionaries(
    {
        "ship_to": st.fixed_dictionaries(
            {k: texts for k in ("name", "phone", "city", "province", "address1", "postcode", "country")}
        ),
        "customer": st.fixed_dictionaries({k: texts for k in ("name", "email")}),
        "lines": st.lists(
            st.fixed_dictionaries(
                {
                    "sku": st.sampled_from(["SKU-A", "SKU-B"]) | texts,
                    "quantity": quantities,
                    "unit_price": money,
                    "name": texts,
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "note": texts,
        "total": st.none() | money,
        "placed_at": st.none() | texts,
        "promise_date": st.none() | texts,
        "priority": st.none() | json_values,
        "currency": st.sampled_from(["CNY", "USD", "cny"]) | texts,
    }
)


# Values near the columns' limits: about half of these orders fit, half do not.
printable = st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"))


def words(low: int, high: int):
    return st.text(alphabet=printable, min_size=low, max_size=high)


near_limits = st.fixed_dictionaries(
    {
        "ship_to": st.fixed_dictionaries(
            {
                "name": words(110, 124),
                "city": words(58, 66),
                "province": words(0, 70),
                "address1": words(1, 260),
                "phone": st.text(alphabet="0123456789", min_size=5, max_size=34),
                "country": st.sampled_from(["CN", "US", "DE", "China", "Atlantis"]),
            }
        ),
        "customer": st.fixed_dictionaries({"name": words(0, 125), "email": st.just("c@example.com")}),
        "lines": st.lists(
            st.fixed_dictionaries(
                {
                    "sku": st.one_of(st.just("SKU-A"), st.just("SKU-B"), words(60, 68)),
                    "quantity": st.one_of(st.integers(1, 5), st.integers(1, 99), st.sampled_from([100000, 100001])),
                    "unit_price": st.one_of(
                        st.decimals(min_value=0, max_value=Decimal("99999.99"), places=2).map(str),
                        st.decimals(min_value=0, max_value=Decimal("999.99"), places=2).map(str),
                        st.sampled_from(["9999999999.99", "10000000000.00", "0.001", "1.50"]),
                    ),
                    "name": words(0, 205),
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "note": words(0, 50),
    }
)


EXTERNAL_IDS = itertools.count(1)


def same_text(stored: str, sent) -> bool:
    return stored == " ".join(str(sent).split()) if sent is not None else stored == ""


@PROFILE
@given(data=orders)
def test_any_order_body_is_stored_exactly_or_rejected_with_nothing_written(client, token, data):
    post_and_check(client, token, data)


@PROFILE
@given(data=near_limits)
def test_values_near_the_columns_limits_are_stored_exactly_or_rejected(client, token, data):
    post_and_check(client, token, data)


def post_and_check(client, token, data):
    body = api_payload(external_id=f"P-{next(EXTERNAL_IDS)}")
    body.update({k: v for k, v in data.items() if k not in ("ship_to", "customer")})
    body["ship_to"] = {**body["ship_to"], **data["ship_to"]}
    body["customer"] = data["customer"]
    messages = InboundMessage.objects.count()
    already = Order.objects.filter(external_id=body["external_id"]).exists()
    before = written()

    # Prefer: return=representation applies the message in the request, through the inbox's batch path.
    response = client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_PREFER="return=representation",
    )

    assert response.status_code < 500
    event(f"HTTP {response.status_code}")
    assert InboundMessage.objects.count() == messages + 1
    message = InboundMessage.objects.order_by("-pk").first()
    assert message.status != "received"
    if response.status_code == 400:
        assert response.json()["error"]
        assert message.status == "rejected"
        assert written() == before
        return
    assert response.status_code == (200 if already else 201)
    if already:
        return
    order = Order.objects.get(external_id=body["external_id"])
    ship = body["ship_to"]
    for field in ("name", "city", "province", "address1"):
        assert same_text(getattr(order, f"ship_{field}"), ship.get(field)), field
    assert same_text(order.note, body.get("note"))
    lines = list(order.lines.order_by("line_no"))
    assert len(lines) == len(body["lines"])
    for line, sent in zip(lines, body["lines"], strict=True):
        assert same_text(line.sku, sent["sku"])
        assert line.quantity == Decimal(str(sent["quantity"]))
        price = sent.get("unit_price")
        if price not in (None, ""):
            try:
                assert line.unit_price == Decimal(str(price))
            except InvalidOperation:
                pytest.fail(f"stored {line.unit_price} for {price!r}")
    if body.get("total") not in (None, ""):
        assert order.total == Decimal(str(body["total"]))
