"""Self-service on the public tracking page, per stage: allowed and refused (nothing changed)."""

import pytest
from django.core.cache import cache

from orders.care.tracking_links import tracking_token
from orders.models import DeliveryRating, Order, OrderEvent, ReturnRequest
from tests import journey
from tests.orders import care

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "province": "Zhejiang",
    "city": "Hangzhou",
    "district": "Xihu",
    "address1": "18 Wensan Road",
    "postcode": "310012",
}


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()


def page(client, order, lang="en"):
    response = client.get(f"/track/{tracking_token(order.number)}/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def post(client, order, action, data, lang="en"):
    return client.post(f"/track/{tracking_token(order.number)}/{action}/", data, HTTP_ACCEPT_LANGUAGE=lang, follow=True)


def snapshot(order):
    order = Order.objects.get(pk=order.pk)
    return (
        order.status,
        order.ship_city,
        order.ship_address1,
        order.events.count(),
        ReturnRequest.objects.filter(order=order).count(),
        DeliveryRating.objects.filter(order=order).count(),
    )


@pytest.fixture
def allocated(django_capture_on_commit_callbacks):
    journey.world()
    return journey.order_through(django_capture_on_commit_callbacks, "allocated")


def test_before_packing_the_customer_may_correct_the_address_and_it_is_recorded(client, allocated):
    body = page(client, allocated)
    assert 'id="address"' in body and 'id="cancel"' in body
    assert 'id="return"' not in body and 'id="rate"' not in body
    assert "Century Avenue" not in body  # the current street is not shown

    response = post(client, allocated, "address", NEW_ADDRESS)
    assert "we will deliver to the new address" in response.content.decode()
    order = Order.objects.get(pk=allocated.pk)
    assert (order.ship_province, order.ship_city, order.ship_address1, order.ship_name) == (
        "Zhejiang",
        "Hangzhou",
        "18 Wensan Road",
        "Li Lei",
    )
    event = order.events.get(kind="address_changed")
    assert event.user is None
    assert event.data["source"] == "customer via tracking page"
    assert event.data["changes"]["city"] == ["Shanghai", "Hangzhou"]


def test_the_customer_may_cancel_before_shipping(client, allocated):
    response = post(client, allocated, "cancel", {"reason": "changed_mind", "confirm": "yes"})
    assert "Your order is cancelled." in response.content.decode()
    order = Order.objects.get(pk=allocated.pk)
    assert order.status == "cancelled"
    assert order.events.get(kind="cancelled").message == "Cancelled: customer via tracking page: no longer wanted"
    assert order.shipments.get().status == "cancelled"


def test_cancel_without_the_confirmation_changes_nothing(client, allocated):
    before = snapshot(allocated)
    post(client, allocated, "cancel", {"reason": "changed_mind"})
    assert snapshot(allocated) == before


def test_after_packing_the_address_is_refused_and_nothing_changes(client, django_capture_on_commit_callbacks):
    journey.world()
    packed = journey.order_through(django_capture_on_commit_callbacks, "packed")
    assert 'id="address"' not in page(client, packed)
    before = snapshot(packed)
    response = post(client, packed, "address", NEW_ADDRESS)
    assert "the address can no longer be changed" in response.content.decode()
    assert snapshot(packed) == before


def test_once_shipped_cancel_return_and_rating_are_refused(client, django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    body = page(client, order)
    assert not any(f'id="{x}"' in body for x in ("address", "cancel", "return", "rate"))
    line = order.lines.get()
    before = snapshot(order)
    assert (
        "cannot be cancelled" in post(client, order, "cancel", {"reason": "other", "confirm": "yes"}).content.decode()
    )
    assert (
        "once it is delivered"
        in post(client, order, "return", {f"qty-{line.pk}": 1, "reason": "damaged"}).content.decode()
    )
    assert "once it is delivered" in post(client, order, "rate", {"score": 5}).content.decode()
    assert snapshot(order) == before


def test_after_delivery_the_customer_rates_once_and_starts_a_return(client, django_capture_on_commit_callbacks):
    order = care.delivered(django_capture_on_commit_callbacks)
    body = page(client, order)
    assert 'id="return"' in body and 'id="rate"' in body
    assert 'id="address"' not in body and 'id="cancel"' not in body

    assert "Thank you for your rating!" in post(client, order, "rate", {"score": 4, "comment": "Fast"}).content.decode()
    rating = DeliveryRating.objects.get(order=order)
    assert (rating.score, rating.comment, rating.source) == (4, "Fast", "tracking page")
    assert "rated already" in post(client, order, "rate", {"score": 1}).content.decode()
    assert DeliveryRating.objects.get(order=order).score == 4

    line = order.lines.get()
    response = post(client, order, "return", {f"qty-{line.pk}": 1, "reason": "damaged", "resolution": "refund"})
    assert "Your return is registered." in response.content.decode()
    ret = ReturnRequest.objects.get(order=order)
    assert (ret.status, ret.reason, ret.source, ret.created_by) == (
        "requested",
        "damaged",
        "customer via tracking page",
        None,
    )
    assert list(ret.lines.values_list("order_line_id", "quantity")) == [(line.pk, 1)]
    label = client.get(f"/track/{tracking_token(order.number)}/returns/{ret.number}/label.pdf")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")

    # Asking for more than is left to return changes nothing.
    before = snapshot(order)
    response = post(client, order, "return", {f"qty-{line.pk}": 1, "reason": "damaged"})
    assert "at most 0 can be returned" in response.content.decode()
    assert snapshot(order) == before


def test_the_page_speaks_chinese_for_self_service(client, django_capture_on_commit_callbacks):
    order = care.delivered(django_capture_on_commit_callbacks)
    body = page(client, order, lang="zh-CN")
    assert "这次配送怎么样？" in body and "申请退货或换货" in body and "商品损坏" in body
    response = post(client, order, "rate", {"score": 5}, lang="zh-CN")
    assert "感谢您的评价！" in response.content.decode()


def test_forged_tokens_and_other_orders_returns_open_nothing(client, django_capture_on_commit_callbacks):
    order = care.delivered(django_capture_on_commit_callbacks)
    line = order.lines.get()
    before = snapshot(order)
    for action, data in [
        ("cancel", {"confirm": "yes"}),
        ("rate", {"score": 5}),
        ("address", NEW_ADDRESS),
        ("return", {f"qty-{line.pk}": 1, "reason": "damaged"}),
    ]:
        assert client.post(f"/track/not-a-token/{action}/", data).status_code == 404
        assert client.post(f"/track/{tracking_token('SO999999')}/{action}/", data).status_code == 404
    assert snapshot(order) == before

    ret = post(client, order, "return", {f"qty-{line.pk}": 1, "reason": "damaged"}) and ReturnRequest.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        other = journey.order_through(django_capture_on_commit_callbacks, "allocated", external_id="J2")
    assert client.get(f"/track/{tracking_token(other.number)}/returns/{ret.number}/label.pdf").status_code == 404


def test_a_delivery_problem_is_explained_in_plain_words(client, django_capture_on_commit_callbacks):
    order = care.shipped(django_capture_on_commit_callbacks)
    care.record(django_capture_on_commit_callbacks, order.shipments.get().parcels.get(), "failed_attempt", 30)
    body = page(client, order)
    assert "The courier tried to deliver but could not. They usually try again on the next working day." in body
    assert "通常会在下一个工作日再次派送" in page(client, order, lang="zh-CN")


def test_actions_are_rate_limited(client, allocated, settings):
    settings.TRACKING_LOOKUP_RATE = 2
    before = snapshot(allocated)
    for _ in range(2):
        post(client, allocated, "cancel", {"reason": "other"})  # refused: no confirmation
    response = post(client, allocated, "cancel", {"reason": "other", "confirm": "yes"})
    assert "Too many tries" in response.content.decode()
    assert snapshot(allocated) == before
    assert OrderEvent.objects.filter(order=allocated, kind="cancelled").count() == 0
