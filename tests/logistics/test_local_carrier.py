"""The built-in local carrier and the adapter registry. Pure: no database."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from logistics.carriers import (
    CarrierAdapter,
    LabelRequest,
    LabelResult,
    Rate,
    ServiceRate,
    ShipmentInfo,
    UnknownCarrierAdapter,
    get_adapter,
)
from logistics.carriers.base import CarrierError
from logistics.carriers.local import LocalCarrier, is_local_number, random_serial
from logistics.tracking_numbers import is_valid_s10

SENDER = {"name": "杭州仓", "city": "杭州", "country": "CN"}
RECIPIENT = {"name": "张三", "phone": "13800000000", "city": "上海", "country": "CN"}


def request(**kwargs) -> LabelRequest:
    values = {
        "shipment_number": "S-000123",
        "service_code": "std",
        "weight_g": 1200,
        "sender": SENDER,
        "recipient": RECIPIENT,
    }
    values.update(kwargs)
    return LabelRequest(**values)


SERVICES = (
    ServiceRate("exp", Decimal("18.00"), Decimal("6.00"), 1),
    ServiceRate("std", Decimal("10.00"), Decimal("2.50"), 3),
    ServiceRate("eco", Decimal("8.00"), Decimal("1.20"), 6, max_weight_g=2000),
)


# --------------------------------------------------------------------------- registry


def test_get_adapter_local():
    adapter = get_adapter("local")

    assert isinstance(adapter, LocalCarrier)
    assert isinstance(adapter, CarrierAdapter)
    assert adapter.name == "local"


def test_get_adapter_unknown():
    with pytest.raises(UnknownCarrierAdapter, match="no carrier adapter named 'nope'; known: easypost, kdniao, local"):
        get_adapter("nope")


# --------------------------------------------------------------------------- labels


def test_create_label_issues_a_valid_local_s10_number():
    result = LocalCarrier(serial_source=lambda: 47312482).create_label(request())

    assert result == LabelResult(tracking_number="LC473124829CN", carrier_reference="S-000123")
    assert is_valid_s10(result.tracking_number)
    assert is_local_number(result.tracking_number)


def test_create_label_with_serial_zero():
    assert LocalCarrier(serial_source=lambda: 0).create_label(request()).tracking_number == "LC000000005CN"


def test_random_labels_are_valid_and_spread():
    carrier = get_adapter("local")
    numbers = [carrier.create_label(request()).tracking_number for _ in range(500)]

    assert all(n.startswith("LC") and n.endswith("CN") and len(n) == 13 for n in numbers)
    assert all(is_valid_s10(n) for n in numbers)
    assert len(set(numbers)) >= 495  # 500 draws from 10**8: a repeat is very unlikely


def test_random_serial_range():
    serials = [random_serial() for _ in range(1000)]
    assert all(0 <= s <= 99_999_999 for s in serials)


def test_caller_can_retry_after_a_collision():
    """The caller retries on a unique violation; each call draws a new serial."""
    serials = iter([47312482, 47312482, 12345678])
    carrier = LocalCarrier(serial_source=lambda: next(serials))
    taken = {carrier.create_label(request()).tracking_number}

    second = carrier.create_label(request()).tracking_number
    assert second in taken  # the collision the caller sees as IntegrityError
    third = carrier.create_label(request()).tracking_number
    assert third == "LC123456785CN"


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"service_code": ""}, "service code"), ({"weight_g": -1}, "negative")]
)
def test_create_label_refuses_bad_requests(kwargs, message):
    with pytest.raises(CarrierError, match=message):
        LocalCarrier().create_label(request(**kwargs))


# --------------------------------------------------------------------------- rates


def test_rates_are_base_plus_started_kilograms_cheapest_first():
    rates = get_adapter("local").rates(ShipmentInfo(weight_g=1500, services=SERVICES))

    assert rates == [
        Rate("eco", Decimal("10.40"), "CNY", 6),  # 8.00 + 2 x 1.20
        Rate("std", Decimal("15.00"), "CNY", 3),  # 10.00 + 2 x 2.50
        Rate("exp", Decimal("30.00"), "CNY", 1),  # 18.00 + 2 x 6.00
    ]


@pytest.mark.parametrize(
    ("weight_g", "amount"),
    [(0, Decimal("10.00")), (1, Decimal("12.50")), (1000, Decimal("12.50")), (1001, Decimal("15.00"))],
)
def test_rate_weight_steps(weight_g, amount):
    (rate,) = LocalCarrier().rates(ShipmentInfo(weight_g=weight_g, services=SERVICES[1:2]))
    assert rate.amount == amount


def test_rates_skip_services_that_cannot_take_the_weight():
    rates = LocalCarrier().rates(ShipmentInfo(weight_g=2001, services=SERVICES, currency="USD"))

    assert [(r.service_code, r.currency) for r in rates] == [("std", "USD"), ("exp", "USD")]


def test_rates_round_half_up_to_cents():
    service = ServiceRate("odd", Decimal("1.00"), Decimal("0.125"), 2)
    (rate,) = LocalCarrier().rates(ShipmentInfo(weight_g=800, services=[service]))
    assert rate.amount == Decimal("1.13")  # 1.00 + 1 x 0.125 = 1.125, half up (banker's rounding would give 1.12)


def test_rates_without_services_or_with_negative_weight():
    assert LocalCarrier().rates(ShipmentInfo(weight_g=500)) == []
    with pytest.raises(CarrierError):
        LocalCarrier().rates(ShipmentInfo(weight_g=-5, services=SERVICES))


def test_service_rate_of_a_service_level_like_object():
    level = SimpleNamespace(
        code="std", base_rate="10.00", per_kg_rate=Decimal("2.50"), transit_days=3, max_weight_g=None
    )
    assert ServiceRate.of(level) == ServiceRate("std", Decimal("10.00"), Decimal("2.50"), 3, None)


# --------------------------------------------------------------------------- void and track


def test_void_accepts_own_numbers_only():
    carrier = LocalCarrier()
    carrier.void("LC473124829CN")
    carrier.void("lc 473 124 829 cn")
    for foreign in ("RR473124829GB", "LC473124828CN", "LC473124829US", "9400110898825022579493"):
        with pytest.raises(CarrierError, match="not a local carrier tracking number"):
            carrier.void(foreign)


def test_track_returns_nothing():
    assert LocalCarrier().track("LC473124829CN") == []
