"""Every back-office page renders for the roles that may use it and refuses the others."""

import pytest

from tests import journey

pytestmark = pytest.mark.django_db

PAGES = [
    ("/reports/dashboard/", ("admin", "manager", "customer_service", "warehouse")),
    ("/orders/", ("admin", "manager", "customer_service", "warehouse")),
    ("/orders/new/", ("admin", "manager", "customer_service")),
    ("/orders/holds/", ("admin", "manager", "customer_service", "warehouse")),
    ("/orders/intake/", ("admin", "manager", "customer_service")),
    ("/inventory/stock/", ("admin", "manager", "customer_service", "warehouse")),
    ("/inventory/products/", ("admin", "manager", "customer_service", "warehouse")),
    ("/inventory/locations/", ("admin", "manager", "customer_service", "warehouse")),
    ("/fulfillment/shipments/", ("admin", "manager", "customer_service", "warehouse")),
    ("/fulfillment/picklists/", ("admin", "manager", "customer_service", "warehouse")),
    ("/fulfillment/picklists/new/", ("admin", "manager", "warehouse")),
    ("/logistics/parcels/", ("admin", "manager", "customer_service", "warehouse")),
    ("/logistics/tracking/record/", ("admin", "manager", "customer_service")),
]


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    journey.world()
    return journey.order_through(django_capture_on_commit_callbacks, "shipped")


@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_each_page_checks_its_permission(client, shipped, url, allowed):
    users = journey.users()
    for role, user in users.items():
        client.force_login(user)
        response = client.get(url)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (url, role, response.status_code)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_order_page_shows_lines_shipments_timeline_and_allowed_actions(client, shipped):
    client.force_login(journey.users()["customer_service"])
    response = client.get(f"/orders/{shipped.number}/")
    body = response.content.decode()
    assert response.status_code == 200
    parcel = shipped.shipments.get().parcels.get()
    assert parcel.tracking_number in body
    assert "云南咖啡豆 1kg" in body
    assert "Routed to Shanghai DC" in body
    assert "Why this location?" in body
    # Shipped: neither cancel nor hold is offered.
    assert "Cancel order" not in body and "Put on hold" not in body


def test_order_search_finds_by_number_phone_and_tracking(client, shipped):
    client.force_login(journey.users()["customer_service"])
    tracking = shipped.shipments.get().parcels.get().tracking_number
    for query in (shipped.number, "8000", tracking, "li.lei@example.com"):
        body = client.get("/orders/", {"q": query}).content.decode()
        assert f"/orders/{shipped.number}/" in body, query
    assert f"/orders/{shipped.number}/" not in client.get("/orders/", {"q": "nobody"}).content.decode()


def test_htmx_table_request_gets_only_the_table(client, shipped):
    client.force_login(journey.users()["manager"])
    response = client.get("/orders/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="object-table")
    body = response.content.decode()
    assert "<table" in body and '<nav class="sidenav"' not in body


def test_hold_release_and_cancel_from_the_order_page(client, django_capture_on_commit_callbacks):
    journey.world()
    order = journey.order_through(django_capture_on_commit_callbacks, "allocated")
    client.force_login(journey.users()["customer_service"])
    url = f"/orders/{order.number}/"
    client.post(url + "hold/", {"reason": "manual", "note": "check address"})
    order.refresh_from_db()
    assert order.on_hold
    client.post(url + "release/", {"reason": "", "note": "called customer"})
    order.refresh_from_db()
    assert not order.on_hold
    response = client.post(url + "cancel/", {"reason": ""}, follow=True)
    order.refresh_from_db()
    assert order.status == "allocated"
    assert "reason" in response.content.decode()
    client.post(url + "cancel/", {"reason": "customer asked"})
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_warehouse_may_not_cancel(client, django_capture_on_commit_callbacks):
    journey.world()
    order = journey.order_through(django_capture_on_commit_callbacks, "allocated")
    client.force_login(journey.users()["warehouse"])
    response = client.post(f"/orders/{order.number}/cancel/", {"reason": "x"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "allocated"


def test_new_order_form_creates_an_order_and_shows_errors(client, django_capture_on_commit_callbacks):
    w = journey.world()
    client.force_login(journey.users()["customer_service"])
    data = {
        "channel": w["channel"].pk,
        "external_id": "",
        "ship_name": "王芳",
        "ship_phone": "13900001111",
        "ship_email": "",
        "ship_country": "CN",
        "ship_province": "上海",
        "ship_city": "上海",
        "ship_district": "",
        "ship_address1": "南京西路1号",
        "ship_address2": "",
        "ship_postcode": "200040",
        "requested_service": "",
        "promise_date": "",
        "note": "",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "1",
        "lines-MAX_NUM_FORMS": "100",
        "lines-0-sku": "SKU-A",
        "lines-0-quantity": "2",
        "lines-0-unit_price": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/orders/new/", data)
    assert response.status_code == 302, response.context["form"].errors or response.context["formset"].errors
    from orders.models import Order

    order = Order.objects.get(ship_name="王芳")
    assert order.status == "allocated"
    bad = dict(data, **{"lines-0-quantity": "0"})
    response = client.post("/orders/new/", bad)
    assert response.status_code == 400
    assert Order.objects.count() == 1


def test_pick_list_pdf_and_label_pdf_download(client, shipped):
    client.force_login(journey.users()["warehouse"])
    picklist = shipped.shipments.get().picklist
    response = client.get(f"/fulfillment/picklists/{picklist.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    parcel = shipped.shipments.get().parcels.get()
    response = client.get(f"/logistics/parcels/{parcel.pk}/label/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
