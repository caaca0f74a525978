"""The main journeys in a real browser: log in, find an order, read its timeline, make a pick
list and download its PDF, and look an order up on the public tracking page. Screenshots of
every page at desktop and phone widths go to test-artifacts/browser/."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from fulfillment.models import PickList, Shipment
from fulfillment.selectors import ready_counts_by_location
from fulfillment.status import ShipmentStatus
from logistics.models import TrackingEvent
from orders.models import Order
from orders.status import OrderStatus
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.serial, pytest.mark.django_db(transaction=True)]


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", username)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/reports/dashboard/$"))
    assert username in page.inner_text(".navuser")


def last4(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())[-4:]


@pytest.fixture
def world():
    call_command("seed_demo", "--orders", "20", stdout=StringIO())
    delivered = Order.objects.filter(status=OrderStatus.DELIVERED).order_by("id").first()
    assert delivered is not None and delivered.ship_phone
    return delivered


def test_back_office_and_public_tracking_journey(live_server, browser, watch, artifacts, world):
    from playwright.sync_api import expect

    url = live_server.url
    order = world
    digits = last4(order.ship_phone)

    # -- warehouse: log in through the form, make a pick list, download its PDF --------------------
    warehouse = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-US")
    page = warehouse.new_page()
    watch.attach(page)
    page.goto(f"{url}/login/")
    watch.shot(page, "login")
    log_in(page, url, "warehouse")
    watch.shot(page, "dashboard-warehouse")

    ready = ready_counts_by_location()
    assert ready, "the seed leaves allocated shipments waiting for a pick list"
    location_id = max(ready, key=ready.get)
    waiting = set(Shipment.objects.ready_to_pick().filter(location_id=location_id).values_list("number", flat=True))
    page.goto(f"{url}/fulfillment/picklists/new/")
    page.select_option("#id_location", str(location_id))
    page.fill("#id_limit", "50")
    watch.shot(page, "picklist-new")
    page.click("button:has-text('Create pick list')")
    page.wait_for_url(re.compile(r"/fulfillment/picklists/\d+/$"))
    picklist = PickList.objects.order_by("-id").first()
    expect(page.locator("h1")).to_contain_text(picklist.number)
    on_list = set(picklist.shipments.values_list("number", flat=True))
    assert on_list == waiting
    assert set(picklist.shipments.values_list("status", flat=True)) == {ShipmentStatus.PICKING}
    for number in on_list:
        expect(page.locator("table")).to_contain_text(number)
    watch.shot(page, "picklist-detail")

    with page.expect_download() as info:
        page.click("text=Download PDF")
    pdf_path = artifacts / f"{picklist.number}.pdf"
    info.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf_path).pages)
    for number in on_list:
        assert number in text
    assert picklist.number in text
    warehouse.close()

    # -- customer service: find the order by phone with the search box, then by number -------------
    cs = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = cs.new_page()
    watch.attach(page)
    log_in(page, url, "cs")
    page.goto(f"{url}/orders/")
    page.fill("#id_q", digits)
    page.press("#id_q", "Enter")
    page.wait_for_url(re.compile(rf"/orders/\?.*q={digits}"))
    expect(page.locator("#object-table")).to_contain_text(order.number)
    watch.shot(page, "order-search")
    page.goto(f"{url}/orders/?q={order.number}")
    rows = page.locator("#object-table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.locator(f"a:has-text('{order.number}')").click()
    page.wait_for_url(re.compile(rf"/orders/{order.number}/$"))
    timeline = page.locator("aside.timeline")
    expect(timeline).to_contain_text("Order received from")
    expect(timeline).to_contain_text("Routed to")
    expect(timeline).to_contain_text("Shipped → Delivered")
    assert timeline.locator("li").count() == order.events.count()
    watch.shot(page, "order-detail")

    # The same pages at phone width (logged in on a phone).
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = phone.new_page()
    watch.attach(page)
    page.goto(f"{url}/login/")
    watch.shot(page, "login")
    log_in(page, url, "cs")
    watch.shot(page, "dashboard-cs")
    for path, name in [
        (f"/orders/?q={digits}", "order-search"),
        (f"/orders/{order.number}/", "order-detail"),
        (f"/fulfillment/picklists/{picklist.pk}/", "picklist-detail"),
    ]:
        page.goto(url + path)
        watch.shot(page, name)
    phone.close()
    cs.close()

    # -- the customer: public tracking page, by order number and the phone's last four digits -------
    scan = TrackingEvent.objects.filter(parcel__shipment__order=order, status="delivered").get()
    for viewport, locale in [(PHONE, "en-US"), (DESKTOP, "en-US"), (PHONE, "zh-CN")]:
        public = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, locale=locale)
        page = public.new_page()
        watch.attach(page)
        page.goto(f"{url}/track/")
        suffix = "" if locale == "en-US" else "-zh"
        watch.shot(page, f"track-lookup{suffix}")
        page.fill("#id_number", order.number)
        page.fill("#id_contact", digits)
        page.click("form.lookup button[type=submit]")
        page.wait_for_url(re.compile(r"/track/[^/]+/$"))
        expect(page.locator("h1")).to_contain_text("已签收" if locale == "zh-CN" else "Delivered")
        expect(page.locator("ol.steps li.done")).to_have_count(8)
        expect(page.locator("ul.scans")).to_contain_text(scan.location)
        assert order.ship_phone not in page.content() and order.ship_email not in page.content()
        watch.shot(page, f"track-order{suffix}")
        public.close()

    (artifacts / "page-report.json").write_text(
        json.dumps({"errors": watch.errors, "overflow_px": watch.overflow}, indent=2, ensure_ascii=False)
    )
    assert watch.errors == []
    # The public pages are mobile first: nothing may scroll sideways on a phone.
    assert not {k: v for k, v in watch.overflow.items() if k.startswith("track-") and k.endswith("-390")}
