"""Carrier choice and rate shopping (logistics.rating): zones, rate cards, surcharges, each constraint,
the promise date and cut-offs, the requested service, overrides, and the rate card CSV import."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from fulfillment import services as fulfillment_services
from inventory.models import HandlingClass
from logistics import rating, services
from logistics.models import Parcel, RateCardRow, ServiceOverride
from oms.errors import DomainError
from orders import services as order_services
from orders.intake.canonical import CanonicalLine
from orders.models import OrderEvent
from tests.factories import (
    CarrierFactory,
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    stock,
)

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 16, 9, 0, tzinfo=SH)

PLACES = {
    "shanghai": {"province": "Shanghai", "city": "Shanghai", "postcode": "200120"},
    "hangzhou": {"province": "Zhejiang", "city": "Hangzhou", "postcode": "310000"},
    "wuhan": {"province": "Hubei", "city": "Wuhan", "postcode": "430000"},
    "beijing": {"province": "Beijing", "city": "Beijing", "postcode": "100000"},
    "urumqi": {"province": "Xinjiang", "city": "Urumqi", "postcode": "830000"},
    "lhasa": {"province": "西藏", "city": "拉萨", "postcode": "850000"},
}


@pytest.fixture
def location():
    return LocationFactory(code="sha", cold_chain=True, handles_bulky=True)


def make_shipment(capture, *, to="shanghai", sku="SKU-A", qty=1, price="10.00", external_id="R1", **order):
    product = ProductFactory(sku=sku)
    stock(LocationFactory(code="sha"), product, 50)
    data = canonical(external_id=external_id, ship_to=PLACES[to], **order)
    data.lines = [CanonicalLine(sku=sku, quantity=qty, unit_price=Decimal(price))]
    with capture(execute=True):
        result = order_services.order_create(channel=ChannelFactory(slug="web"), data=data, source="t")
    return result.order.shipments.get()


@pytest.mark.parametrize(
    ("to", "zone", "remote"),
    [
        ("shanghai", "Z0", False),
        ("hangzhou", "Z1", False),  # the zone table: Shanghai-Zhejiang
        ("wuhan", "Z2", False),  # 690 km
        ("beijing", "Z3", False),  # 1,070 km
        ("urumqi", "Z4", True),
        ("lhasa", "Z4", True),  # Chinese names
    ],
)
def test_zone_from_the_table_or_distance_bands_and_remote_provinces(
    location, django_capture_on_commit_callbacks, to, zone, remote
):
    shipment = make_shipment(django_capture_on_commit_callbacks, to=to)
    assert rating.zone_for(shipment.location, shipment.order) == zone
    assert rating.is_remote(shipment.order.ship_province) is remote


def test_another_country_is_the_international_zone(location, django_capture_on_commit_callbacks):
    shipment = make_shipment(django_capture_on_commit_callbacks)
    shipment.order.ship_country = "US"
    assert rating.zone_for(shipment.location, shipment.order) == "INTL"


def test_rate_card_band_extra_kilos_fuel_and_remote_surcharge(location, django_capture_on_commit_callbacks):
    std = ServiceLevelFactory(code="std", fuel_surcharge_pct=Decimal("10.00"), remote_surcharge=Decimal("8.00"))
    for zone, band, price, extra, days in [
        ("Z3", 1000, "12.00", "0", 4),
        ("Z3", 3000, "16.00", "4.00", 4),
        ("Z4", 1000, "15.00", "0", 5),
        ("Z4", 3000, "20.00", "6.00", 5),
    ]:
        RateCardRow.objects.create(
            service=std, zone=zone, max_weight_g=band, price=price, extra_per_kg=extra, transit_days=days
        )
    beijing = make_shipment(django_capture_on_commit_callbacks, to="beijing", external_id="B")
    beijing.weight_g = 4200  # 1.2 kg over the 3 kg band: 2 started kilograms at 4.00
    urumqi = make_shipment(django_capture_on_commit_callbacks, to="urumqi", external_id="U", qty=2)

    quote = rating.choose_service(beijing, now=MONDAY_9).chosen
    assert (quote.zone, quote.amount, quote.transit_days) == ("Z3", Decimal("26.40"), 4)
    assert quote.breakdown == {"freight": Decimal("24.00"), "fuel": Decimal("2.40"), "remote": Decimal("0.00")}
    assert quote.delivery_date == date(2026, 11, 20)

    quote = rating.choose_service(urumqi, now=MONDAY_9).chosen  # 2 x 500 g = 1000 g: the first band
    assert (quote.zone, quote.amount) == ("Z4", Decimal("24.50"))
    assert quote.breakdown == {"freight": Decimal("15.00"), "fuel": Decimal("1.50"), "remote": Decimal("8.00")}


def test_a_service_with_a_rate_card_but_no_rate_to_the_zone_is_excluded(location, django_capture_on_commit_callbacks):
    card = ServiceLevelFactory(code="card", base_rate="1.00")
    RateCardRow.objects.create(service=card, zone="Z1", max_weight_g=1000, price="3.00", transit_days=1)
    heavy_card = ServiceLevelFactory(code="heavy", base_rate="1.00")
    RateCardRow.objects.create(service=heavy_card, zone="Z0", max_weight_g=400, price="2.00", transit_days=1)
    fallback = ServiceLevelFactory(code="flat", base_rate="9.00", per_kg_rate="1.00")
    shipment = make_shipment(django_capture_on_commit_callbacks)

    result = rating.choose_service(shipment, now=MONDAY_9)

    assert result.chosen.service_id == fallback.pk and result.chosen.amount == Decimal("10.00")
    reasons = {q.service_code: q.reasons for q in result.quotes}
    assert reasons == {"flat": [], "card": ["no rate to zone Z0"], "heavy": ["heavier than the rate card to Z0"]}


def test_cheapest_that_meets_the_promise_wins_and_the_late_one_says_why(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", kind="economy", base_rate="5.00", per_kg_rate="1.00", transit_days=5)
    exp = ServiceLevelFactory(code="exp", kind="express", base_rate="15.00", per_kg_rate="3.00", transit_days=1)
    shipment = make_shipment(django_capture_on_commit_callbacks, promise_date=date(2026, 11, 19))

    result = rating.choose_service(shipment, now=MONDAY_9)

    assert result.chosen.service_id == exp.pk
    assert result.reason == "cheapest service that meets the promise and the shipment's needs"
    assert [(q.service_code, str(q.amount), q.delivery_date, q.eligible, q.reasons) for q in result.quotes] == [
        ("exp", "18.00", date(2026, 11, 17), True, []),
        ("eco", "6.00", date(2026, 11, 23), False, ["late: arrives 2026-11-23, promised 2026-11-19"]),
    ]


def test_when_no_service_meets_the_promise_the_earliest_arrival_wins(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", base_rate="5.00", transit_days=5)
    exp = ServiceLevelFactory(code="exp", base_rate="15.00", transit_days=1)
    shipment = make_shipment(django_capture_on_commit_callbacks, promise_date=date(2026, 11, 16))

    result = rating.choose_service(shipment, now=MONDAY_9)

    assert result.chosen.service_id == exp.pk
    assert result.reason == "no service meets the promise date: the earliest arrival"


@pytest.mark.parametrize(
    ("now", "ship", "arrive"),
    [
        (datetime(2026, 11, 16, 15, 59, tzinfo=SH), date(2026, 11, 16), date(2026, 11, 17)),
        (datetime(2026, 11, 16, 16, 0, tzinfo=SH), date(2026, 11, 17), date(2026, 11, 18)),
        (datetime(2026, 11, 20, 17, 0, tzinfo=SH), date(2026, 11, 23), date(2026, 11, 24)),  # Friday -> Monday
        (datetime(2026, 11, 21, 10, 0, tzinfo=SH), date(2026, 11, 23), date(2026, 11, 24)),  # Saturday
    ],
)
def test_cut_off_moves_the_ship_date_to_the_next_working_day(
    location, django_capture_on_commit_callbacks, now, ship, arrive
):
    carrier = CarrierFactory(code="sf", name="SF Express", pickup_cutoff="16:00")
    ServiceLevelFactory(carrier=carrier, code="exp", transit_days=1)
    shipment = make_shipment(django_capture_on_commit_callbacks)

    quote = rating.choose_service(shipment, now=now).chosen

    assert (quote.ship_date, quote.delivery_date) == (ship, arrive)


def test_service_cut_off_wins_over_the_carriers(location, django_capture_on_commit_callbacks):
    carrier = CarrierFactory(code="sf", name="SF Express", pickup_cutoff="16:00")
    ServiceLevelFactory(carrier=carrier, code="exp", transit_days=1, cutoff_time="08:30")
    shipment = make_shipment(django_capture_on_commit_callbacks)
    assert rating.choose_service(shipment, now=MONDAY_9).chosen.ship_date == date(2026, 11, 17)


CONSTRAINTS = [
    ({"max_weight_g": 400}, {}, {}, "too heavy: 500 g > 400 g"),
    ({"max_length_mm": 300}, {"length_mm": 400, "width_mm": 200, "height_mm": 100}, {}, "too long: 400 mm > 300 mm"),
    ({"max_sum_mm": 500}, {"length_mm": 400, "width_mm": 200, "height_mm": 100}, {}, "too big: L+W+H 700 mm > 500 mm"),
    ({"coverage_countries": "US,CA"}, {}, {}, "does not serve CN"),
    ({"coverage_provinces": "Beijing, Tianjin"}, {}, {}, "does not serve Shanghai"),
    ({}, {"handling_class": HandlingClass.FRESH}, {}, "no cold chain for fresh goods"),
    ({}, {"handling_class": HandlingClass.BULKY}, {}, "no freight for bulky goods"),
    ({"signature": False, "insurance": True}, {}, {"price": "2500.00"}, "no signature on delivery (value 2500.00)"),
    ({"signature": True, "insurance": False}, {}, {"price": "1500.00"}, "no insurance (value 1500.00)"),
]


@pytest.mark.parametrize(("cheap_attrs", "product_attrs", "order_attrs", "reason"), CONSTRAINTS)
def test_each_constraint_excludes_the_cheap_service_with_its_reason(
    location, django_capture_on_commit_callbacks, cheap_attrs, product_attrs, order_attrs, reason
):
    ProductFactory(sku="SKU-A", **product_attrs)
    ServiceLevelFactory(code="cheap", base_rate="1.00", per_kg_rate="0", **cheap_attrs)
    able = ServiceLevelFactory(
        code="able", base_rate="50.00", per_kg_rate="0", cold_chain=True, freight=True, signature=True, insurance=True
    )
    shipment = make_shipment(django_capture_on_commit_callbacks, **order_attrs)

    result = rating.choose_service(shipment, now=MONDAY_9)

    assert result.chosen.service_id == able.pk
    cheap = next(q for q in result.quotes if q.service_code == "cheap")
    assert (cheap.eligible, cheap.reasons) == (False, [reason])
    assert cheap.amount == Decimal("1.00")  # still priced, so the page can show what it would have cost


def test_package_type_sets_the_size(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="small", base_rate="1.00", max_length_mm=400)
    big = ServiceLevelFactory(code="big", base_rate="9.00")
    shipment = make_shipment(django_capture_on_commit_callbacks)
    shipment.package_type = "box-l"  # 500 x 400 x 300
    result = rating.choose_service(shipment, now=MONDAY_9)
    assert result.chosen.service_id == big.pk
    assert result.needs["longest_mm"] == 500 and result.needs["sum_mm"] == 1200


def test_requested_service_wins_over_a_cheaper_one(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", kind="economy", base_rate="5.00")
    exp = ServiceLevelFactory(code="exp", kind="express", base_rate="15.00")
    shipment = make_shipment(django_capture_on_commit_callbacks, requested_service="express")

    result = rating.choose_service(shipment, now=MONDAY_9)

    assert result.chosen.service_id == exp.pk
    assert next(q for q in result.quotes if q.service_code == "eco").reasons == ["not the requested service (express)"]


def test_dispatch_stores_the_compared_rates_and_price_on_the_parcel(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", base_rate="5.00", per_kg_rate="1.00", transit_days=5)
    ServiceLevelFactory(code="exp", base_rate="15.00", per_kg_rate="3.00", transit_days=1, max_weight_g=100)
    shipment = make_shipment(django_capture_on_commit_callbacks)
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=1200)

    parcel = services.shipment_dispatch(shipment=shipment)

    assert (parcel.service.code, parcel.price, parcel.zone) == ("eco", Decimal("7.00"), "Z0")
    assert parcel.choice_reason == "cheapest service that meets the shipment's needs"
    assert [(q["service_code"], q["amount"], q["eligible"], q["reasons"], q["chosen"]) for q in parcel.quotes] == [
        ("eco", "7.00", True, [], True),
        ("exp", "21.00", False, ["too heavy: 1200 g > 100 g"], False),
    ]


def test_override_with_a_reason_is_used_at_dispatch_and_on_the_timeline(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", base_rate="5.00")
    exp = ServiceLevelFactory(code="exp", base_rate="15.00", transit_days=1)
    shipment = make_shipment(django_capture_on_commit_callbacks)

    rating.service_override_set(shipment=shipment, service=exp, reason="customer called: needs it tomorrow")
    event = OrderEvent.objects.filter(order=shipment.order, data__override=True).get()
    assert event.message == (
        f"Shipment {shipment.number}: service set by hand to Local Express Standard (17.00 CNY). "
        "Reason: customer called: needs it tomorrow"
    )
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
    parcel = services.shipment_dispatch(shipment=shipment)

    assert parcel.service == exp
    assert parcel.choice_reason == "override by staff: customer called: needs it tomorrow"


def test_override_needs_a_reason_and_a_service_that_fits(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="eco", base_rate="5.00")
    tiny = ServiceLevelFactory(code="tiny", base_rate="1.00", max_weight_g=100)
    shipment = make_shipment(django_capture_on_commit_callbacks)
    events = OrderEvent.objects.count()

    with pytest.raises(DomainError, match="Give a reason"):
        rating.service_override_set(shipment=shipment, service=tiny, reason="  ")
    with pytest.raises(DomainError, match=r"cannot take shipment .*: too heavy: 500 g > 100 g"):
        rating.service_override_set(shipment=shipment, service=tiny, reason="cheaper")

    assert not ServiceOverride.objects.exists()
    assert OrderEvent.objects.count() == events


def test_no_override_after_dispatch(location, django_capture_on_commit_callbacks):
    eco = ServiceLevelFactory(code="eco", base_rate="5.00")
    shipment = make_shipment(django_capture_on_commit_callbacks)
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
    services.shipment_dispatch(shipment=shipment)
    with pytest.raises(DomainError, match="has been dispatched"):
        rating.service_override_set(shipment=shipment, service=eco, reason="late change")
    assert not ServiceOverride.objects.exists()


def test_no_fitting_service_is_a_domain_error_naming_the_reasons(location, django_capture_on_commit_callbacks):
    ServiceLevelFactory(code="tiny", max_weight_g=100)
    shipment = make_shipment(django_capture_on_commit_callbacks)
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
    with pytest.raises(DomainError, match=r"No active carrier service .* local/tiny: too heavy: 500 g > 100 g"):
        services.shipment_dispatch(shipment=shipment)
    assert not Parcel.objects.exists()


def test_wave_planner_names_carrier_service_and_cut_off(location, django_capture_on_commit_callbacks):
    carrier = CarrierFactory(code="sf", name="SF Express", pickup_cutoff="17:30")
    ServiceLevelFactory(carrier=carrier, code="std", base_rate="5.00")
    shipment = make_shipment(django_capture_on_commit_callbacks)
    planned, cutoff = rating.plan_for_wave(shipment)
    assert (planned, cutoff.strftime("%H:%M")) == ("sf/std", "17:30")


# ---- rate card CSV import ---------------------------------------------------------------------


def test_rate_card_csv_import_replaces_the_services_rows():
    std = ServiceLevelFactory(code="std")
    RateCardRow.objects.create(service=std, zone="Z9", max_weight_g=1000, price="1.00", transit_days=1)
    csv_text = (
        "\ufeffcarrier,service,zone,max_weight_kg,price,extra_per_kg,transit_days\n"
        "local,std,z1,1,8.00,0,2\n"
        "local,std,Z1,3,10.00,2.00,2\n"
        "local,std,Z2,0.5,9.50,,3\n"
    )

    result = rating.rate_card_import(csv_text.encode("utf-8"))

    assert (result.rows, result.created, result.updated, result.errors) == (3, 3, 0, [])
    assert list(RateCardRow.objects.values_list("zone", "max_weight_g", "price", "extra_per_kg", "transit_days")) == [
        ("Z1", 1000, Decimal("8.00"), Decimal("0.00"), 2),
        ("Z1", 3000, Decimal("10.00"), Decimal("2.00"), 2),
        ("Z2", 500, Decimal("9.50"), Decimal("0.00"), 3),
    ]


def test_rate_card_csv_with_a_bad_row_writes_nothing():
    std = ServiceLevelFactory(code="std")
    RateCardRow.objects.create(service=std, zone="Z1", max_weight_g=1000, price="1.00", transit_days=1)
    csv_text = (
        "carrier,service,zone,max_weight_kg,price,extra_per_kg,transit_days\n"
        "local,std,Z1,1,8.00,0,2\n"
        "local,nope,Z1,3,10.00,2.00,2\n"
        "local,std,Z2,1,-1,0,3\n"
        "dhl,std,Z2,1,1,0,x\n"
    )

    result = rating.rate_card_import(csv_text)

    assert result.errors == [
        {"row": 3, "message": "unknown service 'nope' of local"},
        {"row": 4, "message": "price cannot be negative"},
        {"row": 5, "message": "unknown carrier 'dhl'"},
    ]
    assert list(RateCardRow.objects.values_list("zone", "price")) == [("Z1", Decimal("1.00"))]


def test_rate_card_csv_missing_columns():
    result = rating.rate_card_import("carrier,service,zone\n")
    assert result.errors == [{"row": 1, "message": "missing columns: max_weight_kg, price, extra_per_kg, transit_days"}]
