"""Staff pages of the customer promise: customer page, outbox with preview, returns."""

import pytest
from django.core.cache import cache

from inventory.models import StockMovement
from orders.care import ratings, returns
from orders.models import Notification, ReturnRequest
from tests import journey
from tests.orders import care

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear():
    cache.clear()


@pytest.fixture
def staff(client):
    users = journey.users()
    client.force_login(users["customer_service"])
    return users


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    return care.delivered(django_capture_on_commit_callbacks)


def test_customer_page_shows_orders_returns_messages_and_ratings(
    client, staff, delivered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ret = returns.return_create(order=delivered, lines={delivered.lines.get().pk: 1}, reason="size")
    ratings.delivery_rate(order=delivered, score=2, comment="Box was dented")
    response = client.get(f"/orders/customers/{delivered.customer_id}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert delivered.number in body and ret.number in body and "Wrong size or fit" in body
    assert "2/5" in body and "Box was dented" in body
    assert f"订单 {delivered.number} 已签收 — 配送体验如何？" in body  # the delivered e-mail
    assert "No cases." in body
    listing = client.get("/orders/customers/?q=8000").content.decode()
    assert "Li Lei" in listing


def test_outbox_lists_messages_and_previews_one(client, staff, delivered):
    listing = client.get("/orders/messages/?kind=shipped")
    assert listing.status_code == 200
    notice = Notification.objects.get(order=delivered, kind="shipped")
    assert notice.subject in listing.content.decode()
    detail = client.get(f"/orders/messages/{notice.pk}/").content.decode()
    assert "srcdoc=" in detail and notice.dedupe_key in detail and "Sent" in detail
    # A sent message cannot be resent; the refusal is a message, not a 500.
    response = client.post(f"/orders/messages/{notice.pk}/resend/", follow=True)
    assert "Only a failed message can be sent again" in response.content.decode()
    assert Notification.objects.get(pk=notice.pk).attempts == 1


def test_staff_returns_receive_and_refund_through_pages(client, staff, delivered):
    line = delivered.lines.get()
    response = client.post(f"/orders/{delivered.number}/return/", {f"qty-{line.pk}": "1", "reason": "damaged"})
    ret = ReturnRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/returns/{ret.number}/"
    assert ret.source == "back office" and ret.created_by == staff["customer_service"]
    page = client.get(f"/orders/returns/{ret.number}/").content.decode()
    assert "Receive at sha" in page
    rl = ret.lines.get()
    client.post(f"/orders/returns/{ret.number}/receive/", {f"sellable-{rl.pk}": "1", f"damaged-{rl.pk}": "0"})
    assert list(StockMovement.objects.filter(reference=ret.number).values_list("kind", flat=True)) == ["return_restock"]
    bad = client.post(f"/orders/returns/{ret.number}/refund/", {"amount": "abc"}, follow=True)
    assert "Enter the refund amount" in bad.content.decode()
    client.post(f"/orders/returns/{ret.number}/refund/", {"amount": "10.00"})
    assert ReturnRequest.objects.get(pk=ret.pk).status == "refunded"
    label = client.get(f"/logistics/returns/{ret.number}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    order_page = client.get(f"/orders/{delivered.number}/").content.decode()
    assert ret.number in order_page and "Customer page of" in order_page


def test_warehouse_cannot_see_customers_or_messages(client, delivered):
    users = journey.users()
    client.force_login(users["warehouse"])
    assert client.get(f"/orders/customers/{delivered.customer_id}/").status_code == 403
    assert client.get("/orders/messages/").status_code == 403


def test_unsubscribe_page_speaks_the_browser_language(client):
    from orders.care.notifications import unsubscribe_token

    body = client.get(
        f"/notifications/unsubscribe/{unsubscribe_token('li.lei@example.com')}/", HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    assert "退订邮件" in body and "li…@example.com" in body


def test_a_manager_sets_credit_terms_with_a_reason_and_new_orders_are_reviewed_against_them(client, delivered):
    from decimal import Decimal

    from orders.rules.review import credit_findings

    users = journey.users()
    customer = delivered.customer
    url = f"/orders/customers/{customer.pk}/credit/"

    client.force_login(users["customer_service"])  # may look, may not change terms
    assert client.post(url, {"is_business": "on", "credit_limit": "100", "reason": "x"}).status_code == 403
    assert "Save credit terms" not in client.get(f"/orders/customers/{customer.pk}/").content.decode()

    client.force_login(users["manager"])
    response = client.post(url, {"is_business": "on", "credit_limit": "-5", "reason": "x"}, follow=True)
    assert "Credit terms not changed" in response.content.decode()
    response = client.post(url, {"is_business": "on", "credit_limit": "100.00", "reason": ""}, follow=True)
    assert "Credit terms not changed" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.is_business, customer.credit_limit) == (False, None)

    response = client.post(url, {"is_business": "on", "credit_limit": "100.00", "reason": "signed B2B contract"},
                           follow=True)
    body = response.content.decode()
    customer.refresh_from_db()
    assert (customer.is_business, customer.credit_limit) == (True, Decimal("100.00"))
    assert "Credit terms saved." in body and "signed B2B contract" in body and "manager" in body
    delivered.total = Decimal("150.00")
    assert credit_findings(delivered)  # the new limit is what review reads

    response = client.post(url, {"credit_limit": "50", "reason": "x"}, follow=True)  # a limit needs business
    assert "Only business customers" in response.content.decode()
