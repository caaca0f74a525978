"""One order's whole journey through the pages, the API and the webhook (PostgreSQL under
`make test`, SQLite in the fast lane)."""

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from logistics.providers.easypost import compute_signature
from oms.models import ApiToken
from tests import journey

pytestmark = pytest.mark.django_db
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "easypost" / "tracker_updated_delivered.json"


def test_one_order_from_api_to_delivered(client, settings, django_capture_on_commit_callbacks):
    settings.EASYPOST_WEBHOOK_SECRET = "whsec"
    w = journey.world()
    users = journey.users()
    _, key = ApiToken.issue(users["customer_service"])
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    # 1. The order enters by the API and is validated, routed and reserved.
    body = {
        "channel": "web",
        "external_id": "JOURNEY-1",
        "ship_to": {
            "name": "陈静",
            "phone": "+86 139 1234 5678",
            "email": "chen@example.com",
            "country": "CN",
            "province": "上海",
            "city": "上海",
            "district": "徐汇区",
            "address1": "漕溪北路 18 号",
            "postcode": "200030",
        },
        "lines": [{"sku": "SKU-A", "quantity": 3, "unit_price": "88.00"}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/orders/", json.dumps(body), content_type="application/json", **auth)
    assert created.status_code == 202  # accepted into the inbox; applied in a batch after commit
    number = client.get(created.json()["status_url"], **auth).json()["order"]
    assert client.get(f"/api/v1/orders/{number}/", **auth).json()["status"] == "allocated"

    # 2. The warehouse prints a pick list at the location, sorted by bin.
    client.force_login(users["warehouse"])
    response = client.post("/fulfillment/picklists/new/", {"location": w["location"].pk, "limit": 50})
    assert response.status_code == 302
    pdf = client.get(response["Location"] + "pdf/").content
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "A-01-01" in text and "SKU-A" in text

    # 3. Packing is confirmed; the label is created and the shipment leaves.
    detail = client.get(f"/api/v1/orders/{number}/", **auth).json()
    shipment = detail["shipments"][0]["number"]
    client.post(f"/fulfillment/shipments/{shipment}/pack/", {"weight_kg": "3.2"})
    client.post(f"/logistics/shipments/{shipment}/dispatch/")
    detail = client.get(f"/api/v1/orders/{number}/", **auth).json()
    assert detail["status"] == "shipped"
    tracking = detail["shipments"][0]["tracking_number"]
    assert tracking.startswith("LC")
    stock = client.get("/api/v1/stock/?sku=SKU-A", **auth).json()["results"][0]
    assert (stock["on_hand"], stock["reserved"]) == (17, 0)

    # 4. The carrier pushes tracking events; the order is delivered.
    push = json.loads(FIXTURE.read_text())
    push["result"]["tracking_code"] = tracking
    raw = json.dumps(push).encode()
    with django_capture_on_commit_callbacks(execute=True):
        hook = client.post(
            "/webhooks/tracking/easypost/",
            raw,
            content_type="application/json",
            HTTP_X_HMAC_SIGNATURE=compute_signature(raw, "whsec"),
        )
    assert hook.status_code == 200
    assert client.get(f"/api/v1/orders/{number}/", **auth).json()["status"] == "delivered"

    # 5. The customer looks it up by number and the phone's last four digits.
    client.logout()
    found = client.post("/track/", {"number": number, "contact": "5678"})
    page = client.get(found["Location"]).content.decode()
    assert "Delivered" in page and tracking in page

    # 6. Staff see the whole timeline on the order page.
    client.force_login(users["customer_service"])
    timeline = client.get(f"/orders/{number}/").content.decode()
    for step in ("Order received", "Routed to", "pick list", "Packed", "Shipped", "Delivered"):
        assert step in timeline, step
