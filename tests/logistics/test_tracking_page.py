import pytest
from django.core.cache import cache

from orders.care.tracking_links import tracking_token
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_rate_limit():
    cache.clear()


@pytest.fixture
def shipped(django_capture_on_commit_callbacks):
    journey.world()
    return journey.order_through(django_capture_on_commit_callbacks, "shipped")


def test_lookup_with_phone_last_four_opens_the_signed_page(client, shipped):
    response = client.post("/track/", {"number": shipped.number, "contact": "8000"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "Shipped" in body and "Expected" in body
    assert shipped.shipments.get().parcels.get().tracking_number in body
    # The least personal data: no phone (+86 138 0013 8000, in any grouping), e-mail or street. (Not a bare
    # "138": a random tracking number or token may hold those digits.)
    for shown in ("13800138000", "138 0013", "0013 8000", "138-0013", "0013-8000"):
        assert shown not in body
    assert "li.lei@example.com" not in body and "Century Avenue" not in body


def test_lookup_with_email_works_and_wrong_contact_reveals_nothing(client, shipped):
    assert client.post("/track/", {"number": shipped.number, "contact": "LI.LEI@example.com"}).status_code == 302
    wrong = client.post("/track/", {"number": shipped.number, "contact": "1234"})
    assert wrong.status_code == 404
    assert shipped.number not in wrong.content.decode().replace(f'value="{shipped.number}"', "")
    unknown = client.post("/track/", {"number": "SO999999", "contact": "8000"})
    assert unknown.status_code == 404


def test_lookups_are_rate_limited(client, shipped, settings):
    settings.TRACKING_LOOKUP_RATE = 3
    codes = [client.post("/track/", {"number": "SO1", "contact": "0000"}).status_code for _ in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    assert client.post("/track/", {"number": shipped.number, "contact": "8000"}).status_code == 429


def test_tampered_or_foreign_links_do_not_open(client, shipped):
    token = tracking_token(shipped.number)
    assert client.get(f"/track/{token}/").status_code == 200
    assert client.get(f"/track/{token[:-2]}xx/").status_code == 404


def test_page_speaks_chinese_to_a_chinese_browser(client, shipped):
    token = tracking_token(shipped.number)
    body = client.get(f"/track/{token}/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "已发货" in body and "预计送达" in body
