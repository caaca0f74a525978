"""A logistics refusal reads in the reader's language (issue 17): the shipment page's "ship with a number from
elsewhere" refuses a bad tracking number in Chinese for a Chinese reader; the JSON API answers the same refusal
in English whatever the browser's language; nothing changes either way."""

import json

import pytest

from oms.models import ApiToken
from tests import journey
from tests.logistics.test_ship_external import _state, packed  # noqa: F401 (fixture)
from tests.orders.branch_catalogue import branch_chinese

pytestmark = pytest.mark.django_db


def test_the_shipment_page_refuses_a_short_tracking_number_in_chinese(client, packed, tmp_path):  # noqa: F811
    client.force_login(journey.users()["warehouse"])
    client.cookies["django_language"] = "zh-hans"
    before = _state(packed)
    with branch_chinese(tmp_path, "china-errors.json"):
        response = client.post(
            f"/logistics/shipments/{packed.number}/ship-external/",
            {"carrier": "sf", "tracking_number": "12"},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert "运单号至少 6 个字符。" in html
    assert "at least 6 characters" not in html
    assert _state(packed) == before


def test_the_api_refuses_the_same_number_in_english_for_a_chinese_browser(client, packed, tmp_path):  # noqa: F811
    _, key = ApiToken.issue(journey.users()["warehouse"])
    client.cookies["django_language"] = "zh-hans"
    before = _state(packed)
    with branch_chinese(tmp_path, "china-errors.json"):
        response = client.post(
            f"/api/v1/shipments/{packed.number}/ship-external/",
            json.dumps({"carrier": "sf", "tracking_number": "12"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "tracking_number", "message": "A tracking number has at least 6 characters."}
    ]
    assert _state(packed) == before
