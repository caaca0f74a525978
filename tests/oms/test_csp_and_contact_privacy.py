"""A Content-Security-Policy on every response, no inline script in any template, and the warehouse does not
see customers' phone and e-mail in order lists or their exports (issue 13, item 9)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from orders.care.tracking_links import tracking_token
from tests import journey

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    journey.world()
    return journey.order_through(django_capture_on_commit_callbacks, "shipped")


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_staff_pages_carry_the_policy(client, shipped):
    client.force_login(journey.users()["customer_service"])
    for url in ("/orders/", f"/orders/{shipped.number}/", "/login/"):
        policy = _policy(client.get(url))
        assert policy["default-src"] == "default-src 'self'", url
        assert policy["script-src"].startswith("script-src 'self'") and "unsafe" not in policy["script-src"]
        assert policy["object-src"] == "object-src 'none'"
        assert policy["frame-ancestors"] == "frame-ancestors 'self'"


def test_public_pages_carry_a_stricter_policy(client, shipped):
    for url in ("/track/", f"/track/{tracking_token(shipped.number)}/"):
        response = client.get(url)
        assert response.status_code == 200
        policy = _policy(response)
        assert policy["default-src"] == "default-src 'self'"
        assert policy["style-src"] == "style-src 'self'"  # not even style attributes
        assert "unsafe" not in response["Content-Security-Policy"]
        assert " style=" not in response.content.decode()
    # Answers that are not pages carry it too.
    assert (
        "default-src 'self'"
        in client.post("/webhooks/tracking/easypost/", b"{}", "application/json")["Content-Security-Policy"]
    )


def _served_templates():
    for path in ROOT.glob("**/templates/**/*.html"):
        parts = set(path.parts)
        if ".venv" in parts or "pdf" in parts or "email" in parts:  # PDFs and e-mails are not served as pages
            continue
        yield path


def test_no_template_has_inline_script_or_event_handlers():
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I)
    found = []
    for path in _served_templates():
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in inline.finditer(text)]
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in handler.finditer(text)]
    assert found == []


def test_warehouse_order_list_has_no_phone_or_email_but_customer_service_has(client, shipped):
    users = journey.users()
    client.force_login(users["customer_service"])
    body = client.get("/orders/").content.decode()
    assert "+8613800138000" in body and "li.lei@example.com" in body
    csv = client.get("/orders/", {"_export": "csv"}).content.decode()
    assert "+8613800138000" in csv and "li.lei@example.com" in csv

    client.force_login(users["warehouse"])
    for url in ("/orders/", "/orders/holds/"):
        body = client.get(url).content.decode()
        assert "13800138000" not in body and "li.lei@example.com" not in body and "sort=ship_phone" not in body, url
    assert shipped.number in client.get("/orders/").content.decode()
    for fmt in ("csv", "xlsx"):
        export = client.get("/orders/", {"_export": fmt})
        assert export.status_code == 200
        data = export.content.decode("utf-8", errors="replace") if fmt == "csv" else export.content.decode("latin-1")
        assert "13800138000" not in data and "li.lei@example.com" not in data, fmt
    csv = client.get("/orders/", {"_export": "csv"}).content.decode()
    assert shipped.number in csv and "Phone" not in csv.splitlines()[0]
    # The search box is no oracle for contact details either; the number still finds the order.
    assert f"/orders/{shipped.number}/" not in client.get("/orders/", {"q": "8000"}).content.decode()
    assert f"/orders/{shipped.number}/" not in client.get("/orders/", {"q": "li.lei@example.com"}).content.decode()
    assert f"/orders/{shipped.number}/" in client.get("/orders/", {"q": shipped.number}).content.decode()
    # Nor on the order page.
    page = client.get(f"/orders/{shipped.number}/").content.decode()
    assert "13800138000" not in page and "li.lei@example.com" not in page
