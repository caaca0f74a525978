from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment import services as fulfillment_services
from logistics import services as logistics_services
from oms.errors import DomainError
from orders import services
from orders.intake.canonical import CanonicalAddress, address_problems
from orders.models import ClassificationRule, Customer, OrderHold, RiskSettings
from orders.status import EventKind, HoldReason, OrderStatus
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    ProductFactory,
    ServiceLevelFactory,
    canonical,
    make_user,
    stock,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel():
    ProductFactory(sku="SKU-A", price=Decimal("10.00"))
    return ChannelFactory(slug="web", name="Web shop")


def create(channel, external_id="E1", qty=1, price="10.00", **overrides):
    data = canonical(external_id, lines=(("SKU-A", qty),), **overrides)
    for line in data.lines:
        line.unit_price = Decimal(price)
    return services.order_create(channel=channel, data=data, source="test").order


def active(order):
    return sorted((h.reason, h.note) for h in order.holds.filter(released_at__isnull=True))


@pytest.mark.parametrize(
    ("country", "postcode", "valid"),
    [("CA", "K1A 0B1", True), ("CA", "12345", False), ("NL", "1012 AB", True), ("AU", "20000", False),
     ("KR", "04524", True), ("IN", "11001", False)],
)
def test_postcode_format_per_country(country, postcode, valid):
    address = CanonicalAddress(name="A", phone="1", country=country, city="C", address1="1 St", postcode=postcode)
    expected = [] if valid else [f"postcode '{postcode}' is not valid for {country}"]
    assert address_problems(address) == expected


def test_review_on_demand_holds_a_bad_address(channel):
    order = create(channel)
    order.ship_postcode = "12"
    order.save(update_fields=["ship_postcode"])

    findings = services.order_review(order=order)

    order.refresh_from_db()
    assert findings == [(HoldReason.ADDRESS_INVALID, "postcode '12' is not valid for CN")]
    assert active(order) == [(HoldReason.ADDRESS_INVALID, "postcode '12' is not valid for CN")]


def test_credit_limit_of_a_business_customer_holds_and_a_manager_overrides_with_a_reason(channel):
    Customer.objects.create(name="Acme", email="li.lei@example.com", is_business=True, credit_limit=Decimal("100"))
    first = create(channel, "E1", qty=6)  # 60: within the limit
    second = create(channel, "E2", qty=5)  # 60 open + 50 = 110 > 100
    cs, manager = make_user("cs", "customer_service"), make_user("boss", "manager")

    assert (first.status, first.on_hold) == (OrderStatus.CONFIRMED, False)
    note = "Credit limit 100.00 CNY exceeded: open orders 60.00 + this order 50.00 = 110.00."
    assert (second.status, active(second)) == (OrderStatus.RECEIVED, [(HoldReason.CREDIT_REVIEW, note)])

    with pytest.raises(DomainError, match="only a manager may override a credit hold"):
        services.order_release(order=second, reason=HoldReason.CREDIT_REVIEW, note="ok", user=cs)
    with pytest.raises(DomainError, match="needs a reason"):
        services.order_release(order=second, reason=HoldReason.CREDIT_REVIEW, note=" ", user=manager)
    second.refresh_from_db()
    assert second.on_hold is True and second.holds.get().released_at is None

    services.order_release(order=second, reason=HoldReason.CREDIT_REVIEW, note="paid last invoice", user=manager)
    second.refresh_from_db()
    hold = second.holds.get()
    assert (second.status, second.on_hold) == (OrderStatus.CONFIRMED, False)
    assert (hold.released_by, hold.release_note) == (manager, "paid last invoice")


def test_a_consumer_or_no_limit_is_never_credit_held(channel):
    Customer.objects.create(name="Li", email="li.lei@example.com", is_business=False, credit_limit=Decimal("1"))
    assert active(create(channel, qty=5)) == []


def test_high_value_from_a_new_customer_is_held_for_fraud_review(channel):
    order = create(channel, qty=2, price="10000.00")  # 20000.00, the default threshold
    assert active(order) == [
        (HoldReason.FRAUD_REVIEW, "Risk: high value 20000.00 CNY from a new customer (threshold 20000.00).")
    ]


def test_high_value_from_a_customer_with_a_delivered_order_is_not_held(channel, django_capture_on_commit_callbacks):
    location = LocationFactory(code="sha")
    stock(location, ProductFactory(sku="SKU-A"), 10)
    ServiceLevelFactory(code="std")
    with django_capture_on_commit_callbacks(execute=True):
        earlier = create(channel, "E0")
    shipment = earlier.shipments.get()
    fulfillment_services.picklist_create(location=location)
    fulfillment_services.shipment_pack(shipment=shipment, weight_g=500)
    logistics_services.shipment_dispatch(shipment=shipment)
    fulfillment_services.shipment_advance(shipment=shipment, target="delivered")
    earlier.refresh_from_db()
    assert earlier.status == OrderStatus.DELIVERED

    assert active(create(channel, "E1", qty=2, price="10000.00")) == []


def test_billing_and_shipping_countries_differ(channel):
    order = create(channel, billing_country="United States")
    assert order.billing_country == "US"
    assert active(order) == [(HoldReason.FRAUD_REVIEW, "Risk: billing country US differs from shipping country CN.")]


def test_both_risks_make_one_fraud_hold_with_both_notes(channel):
    order = create(channel, qty=2, price="10000.00", billing_country="US")
    assert active(order) == [
        (
            HoldReason.FRAUD_REVIEW,
            "Risk: high value 20000.00 CNY from a new customer (threshold 20000.00); "
            "billing country US differs from shipping country CN.",
        )
    ]


def test_cash_on_delivery_over_the_limit_is_a_payment_hold(channel):
    over = create(channel, "E1", qty=1, price="3000.01", payment_method="cod")
    at_limit = create(channel, "E2", qty=1, price="3000.00", payment_method="COD")
    prepaid = create(channel, "E3", qty=1, price="5000.00")

    assert active(over) == [(HoldReason.PAYMENT, "Cash on delivery 3000.01 CNY is over the limit 3000.00.")]
    assert (at_limit.payment_method, active(at_limit)) == ("cod", [])
    assert active(prepaid) == []


def test_risk_checks_switched_off(channel):
    RiskSettings.objects.create(pk=1, high_value_new_customer=None, check_country_mismatch=False, cod_limit=None)
    order = create(channel, qty=2, price="10000.00", billing_country="US", payment_method="cod")
    assert (order.status, active(order)) == (OrderStatus.CONFIRMED, [])


# ---- the hold queue: a tab per reason, bulk release ------------------------------------------------


@pytest.fixture
def queue(channel):
    a = create(channel, "A", billing_country="US")  # fraud
    b = create(channel, "B", billing_country="US", qty=1, price="4000.00", payment_method="cod")  # fraud + payment
    c = services.order_create(channel=channel, data=canonical("C", lines=(("NOPE", 1),)), source="test").order
    return {"a": a, "b": b, "c": c}


def test_queue_has_a_tab_per_reason_with_counts(client, queue):
    client.force_login(make_user("cs", "customer_service"))
    page = client.get(reverse("orders:hold_queue"), {"hold_reason": HoldReason.FRAUD_REVIEW})
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["total_on_hold"] == 4
    counts = {t["reason"]: t["count"] for t in page.context["tabs"]}
    assert (counts["fraud_review"], counts["payment"], counts["unknown_sku"], counts["manual"]) == (2, 1, 1, 0)
    assert [row.record.number for row in page.context["table"].rows] == [queue["b"].number, queue["a"].number]
    assert 'name="orders"' in html and "Release selected" in html


def test_bulk_release_records_who_and_why_and_keeps_other_reasons(client, queue):
    user = make_user("cs", "customer_service")
    client.force_login(user)
    a, b = queue["a"], queue["b"]

    response = client.post(
        reverse("orders:hold_bulk_release"),
        {"reason": HoldReason.FRAUD_REVIEW, "note": "called, genuine", "orders": [a.pk, b.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("orders:hold_queue") + "?hold_reason=fraud_review"
    for order in (a, b):
        hold = order.holds.get(reason=HoldReason.FRAUD_REVIEW)
        assert (hold.released_by, hold.release_note) == (user, "called, genuine")
        event = order.events.filter(kind=EventKind.RELEASED).get()
        assert (event.user, event.message) == (user, "Released: Fraud review. called, genuine")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.on_hold, a.status) == (False, OrderStatus.CONFIRMED)
    assert (b.on_hold, active(b)) == (
        True, [(HoldReason.PAYMENT, "Cash on delivery 4000.00 CNY is over the limit 3000.00.")]
    )


def test_bulk_release_failure_is_a_message_and_changes_nothing(client, queue):
    client.force_login(make_user("cs", "customer_service"))
    c, a = queue["c"], queue["a"]

    response = client.post(
        reverse("orders:hold_bulk_release"),
        {"reason": HoldReason.UNKNOWN_SKU, "note": "mapped", "orders": [c.pk, a.pk]},
        follow=True,
    )

    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert texts == [
        f"{a.number}: Order {a.number} has no such hold to release.",
        f"{c.number}: Map these SKUs to products first: NOPE",
    ]
    assert OrderHold.objects.filter(released_at__isnull=False).count() == 0


def test_bulk_release_needs_a_note_and_the_permission(client, queue):
    client.force_login(make_user("wh", "warehouse"))
    url = reverse("orders:hold_bulk_release")
    assert client.post(url, {"reason": "fraud_review", "note": "x", "orders": [queue["a"].pk]}).status_code == 403
    client.force_login(make_user("cs", "customer_service"))
    client.post(url, {"reason": "fraud_review", "note": "", "orders": [queue["a"].pk]})
    assert OrderHold.objects.filter(released_at__isnull=False).count() == 0


# ---- the classification rules pages -------------------------------------------------------------


def test_manager_lists_creates_moves_and_deletes_rules(client):
    client.force_login(make_user("boss", "manager"))
    defaults = list(ClassificationRule.objects.values_list("pk", flat=True))
    assert len(defaults) == 3
    page = client.get(reverse("orders:rule_list"))
    assert page.status_code == 200 and "Fresh goods: expedited, cold chain" in page.content.decode()

    response = client.post(reverse("orders:rule_create"), {
        "name": "Gifts", "active": "on", "add_tags": "Gift", "set_priority": "3", "handling_classes": ["fragile"],
        "require_capabilities": ["cold_chain"], "customer_is_business": "",
    })
    assert response.status_code == 302
    gift = ClassificationRule.objects.get(name="Gifts")
    assert (gift.add_tags, gift.handling_classes, gift.require_capabilities, gift.position) == (
        "gift", "fragile", "cold_chain", 40
    )

    client.post(reverse("orders:rule_move", args=[gift.pk, "up"]))
    assert list(ClassificationRule.objects.values_list("name", "position")) == [
        ("Fresh goods: expedited, cold chain", 10), ("Fragile goods: fragile packing", 20), ("Gifts", 30),
        ("Bulky goods: freight", 40),
    ]
    bad = client.post(reverse("orders:rule_edit", args=[gift.pk]), {"name": "Gifts", "set_priority": "12",
                                                                     "min_weight_g": "9", "max_weight_g": "1"})
    assert bad.status_code == 200 and set(bad.context["form"].errors) == {"set_priority", "max_weight_g"}
    client.post(reverse("orders:rule_delete", args=[gift.pk]))
    assert ClassificationRule.objects.count() == 3


def test_customer_service_cannot_edit_rules(client):
    client.force_login(make_user("cs", "customer_service"))
    assert client.get(reverse("orders:rule_list")).status_code == 403
    assert client.post(reverse("orders:rule_delete", args=[ClassificationRule.objects.first().pk])).status_code == 403
    assert ClassificationRule.objects.count() == 3
