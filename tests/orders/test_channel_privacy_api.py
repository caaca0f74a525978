"""隐私面单 per channel through the API: GET and PATCH /api/v1/channels/<slug>/privacy/ with the channel page's
permissions and service (services.channel_mask_recipient_set); page and API save the same; bad input changes
nothing; the labels follow the setting (tests/logistics/test_privacy_waybill.py for the documents)."""

import json

import pytest

from oms.models import ApiToken
from orders.models import Channel
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def tmall():
    return Channel.objects.create(slug="tmall", name="Tmall")


def key(username, role):
    return ApiToken.issue(make_user(username, role))[1]


def call(client, token, method="get", body=None, slug="tmall"):
    kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(f"/api/v1/channels/{slug}/privacy/", **kwargs)


def mask():
    return Channel.objects.get(slug="tmall").mask_recipient


def test_patch_turns_it_on_and_off_and_get_reads_it(client, tmall):
    token = key("boss", "manager")
    assert call(client, token).json() == {"channel": "tmall", "mask_recipient": False}

    answer = call(client, token, "patch", {"mask_recipient": True})
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"channel": "tmall", "mask_recipient": True}
    assert mask() is True
    assert call(client, token).json()["mask_recipient"] is True

    assert call(client, token, "patch", {"mask_recipient": False}).json()["mask_recipient"] is False
    assert mask() is False


def test_an_unknown_channel_is_404(client, tmall):
    token = key("boss", "manager")
    assert call(client, token, slug="nowhere").status_code == 404
    assert call(client, token, "patch", {"mask_recipient": True}, slug="nowhere").status_code == 404


def test_the_pages_permissions_refuse(client, tmall):
    cs = key("cs", "customer_service")
    assert call(client, cs).status_code == 200  # may see the channel, as on its page
    assert call(client, cs, "patch", {"mask_recipient": True}).status_code == 403
    assert call(client, "nope", "patch", {"mask_recipient": True}).status_code == 401
    assert mask() is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mask_recipient": True, "mask": True}, "mask"),
        ({"mask_recipient": "yes"}, "mask_recipient"),
        ({"mask_recipient": 1}, "mask_recipient"),
        ({"mask_recipient": None}, "mask_recipient"),
        ({}, "mask_recipient"),
        ("[true]", "body"),
        ("{", "body"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(client, tmall, body, field):
    answer = call(client, key("boss", "manager"), "patch", body)
    assert answer.status_code == 400, answer.content
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert mask() is False


def test_page_and_api_save_the_same(client, tmall):
    other = Channel.objects.create(slug="jd", name="JD")
    boss = make_user("boss", "admin")
    client.force_login(boss)
    fields = {"name": "JD", "kind": "marketplace", "platform": "oms", "stock_policy": "check"}
    fields.update(default_priority="5", active="on", mask_recipient="on")
    assert client.post("/orders/channels/jd/update/", fields).status_code == 302
    token = ApiToken.issue(boss)[1]
    assert call(client, token, "patch", {"mask_recipient": True}).status_code == 200

    other.refresh_from_db()
    assert mask() is True and other.mask_recipient is True
    assert call(client, token, slug="jd").json() == {"channel": "jd", "mask_recipient": True}

    fields.pop("mask_recipient")
    client.post("/orders/channels/jd/update/", fields)
    call(client, token, "patch", {"mask_recipient": False})
    other.refresh_from_db()
    assert mask() is False and other.mask_recipient is False


def test_the_page_saves_all_or_nothing(client, tmall, monkeypatch):
    """The page's settings and 隐私面单 go in one transaction: when the second step fails, the first is not kept."""
    from orders import services
    from orders.services import changes

    def broken(**kwargs):
        raise RuntimeError("the privacy setting failed")

    for module in (services, changes):  # wherever the page's code looks it up
        monkeypatch.setattr(module, "channel_mask_recipient_set", broken)
    client.force_login(make_user("boss", "admin"))
    fields = {"name": "Tmall renamed", "kind": "marketplace", "platform": "oms", "stock_policy": "check"}
    fields.update(default_priority="3", active="on", mask_recipient="on", new_webhook_secret="s" * 16)
    with pytest.raises(RuntimeError, match="privacy setting failed"):
        client.post("/orders/channels/tmall/update/", fields)
    stored = Channel.objects.get(slug="tmall")
    kept = (stored.name, stored.default_priority, stored.webhook_secret, stored.mask_recipient)
    assert kept == ("Tmall", 5, "", False)
