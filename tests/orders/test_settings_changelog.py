"""Who changed a setting, from what to what, and when (oms.changelog: the admin's LogEntry, as the customer's credit
terms keep it): 隐私面单 through the channel page and the API, the channel page's other settings (the secret never
written), the automatic merge rule through its page and the API; shown on the channel and merge settings pages, in
the reader's language."""

import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils.translation import gettext

from oms.models import ApiToken
from orders.models import Channel, MergeSettings
from tests.factories import ChannelFactory, make_user

pytestmark = pytest.mark.django_db
LIST = "review-s12.json"
MASK = "mask recipient on labels and packing slips"
PAGE_FIELDS = {"name": "Tmall", "kind": "web", "platform": "oms", "stock_policy": "check", "default_priority": "5"}


@pytest.fixture
def tmall():
    return Channel.objects.create(slug="tmall", name="Tmall")


@pytest.fixture
def boss():
    return make_user("boss", "admin")


def api(client, user, method, url, body):
    token = ApiToken.issue(user)[1]
    send = getattr(client, method)
    return send(url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")


def entries(obj) -> list[tuple[str, str]]:
    rows = LogEntry.objects.filter(object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("pk")
    assert all(row.action_flag == CHANGE and row.action_time for row in rows)
    return [(row.user.username, row.change_message) for row in rows]


def test_the_privacy_waybill_through_the_api_is_kept_with_who_and_what(client, tmall, boss):
    assert api(client, boss, "patch", "/api/v1/channels/tmall/privacy/", {"mask_recipient": True}).status_code == 200
    assert api(client, boss, "patch", "/api/v1/channels/tmall/privacy/", {"mask_recipient": True}).status_code == 200
    assert entries(tmall) == [("boss", f"{MASK}: off → on")]  # the second changed nothing: nothing kept

    client.force_login(boss)
    page = client.get("/orders/channels/tmall/").content.decode()
    assert f"boss: {MASK}: off → on" in page


def test_the_channel_page_keeps_each_change_and_never_the_secret(client, tmall, boss):
    client.force_login(boss)
    fields = PAGE_FIELDS | {"name": "Tmall CN", "active": "on", "mask_recipient": "on", "new_webhook_secret": "s" * 20}
    assert client.post("/orders/channels/tmall/update/", fields).status_code == 302
    (_, settings), (_, mask) = entries(tmall)
    assert settings == "Name: Tmall → Tmall CN; Webhook secret: none → replaced"
    assert mask == f"{MASK}: off → on"
    assert "s" * 20 not in "".join(LogEntry.objects.values_list("change_message", flat=True))

    fields = PAGE_FIELDS | {"name": "Tmall CN", "kind": "marketplace", "default_priority": "2"}  # inactive, unmasked
    client.post("/orders/channels/tmall/update/", fields)
    assert entries(tmall)[2:] == [
        ("boss", "Kind: Web shop → Marketplace; Default priority: 5 → 2; Active: on → off"),
        ("boss", f"{MASK}: on → off"),
    ]


def test_the_merge_rule_through_page_and_api_is_kept(client, boss):
    ChannelFactory(slug="quiet", name="Quiet shop")
    client.force_login(boss)
    form = {"enabled": "on", "window_minutes": "45", "wait_minutes": "0", "exclude_tags": "no-merge,presale"}
    assert client.post("/orders/merge-settings/", form).status_code == 302
    body = {"window_minutes": 60, "disabled_channels": ["quiet"], "exclude_tags": []}
    assert api(client, boss, "patch", "/api/v1/merge-settings/", body).status_code == 200
    assert entries(MergeSettings.objects.get()) == [
        ("boss", "automatic merge on: off → on; merge window (minutes): 30 → 45"),
        (
            "boss",
            "merge window (minutes): 45 → 60; never merge orders tagged: no-merge,presale → none; "
            "channels without automatic merge: none → Quiet shop",
        ),
    ]
    page = client.get("/orders/merge-settings/").content.decode()
    assert "boss: merge window (minutes): 45 → 60" in page


def test_a_refused_change_keeps_nothing(client, boss):
    body = {"window_minutes": 10, "wait_minutes": 20}
    assert api(client, boss, "patch", "/api/v1/merge-settings/", body).status_code == 400
    assert not LogEntry.objects.exists()


def test_the_change_reads_in_chinese(client, tmall, boss, chinese):
    api(client, boss, "patch", "/api/v1/merge-settings/", {"enabled": True, "window_minutes": 45})
    api(client, boss, "patch", "/api/v1/channels/tmall/privacy/", {"mask_recipient": True})
    client.force_login(boss)
    client.cookies["django_language"] = "zh-hans"
    merge = client.get("/orders/merge-settings/").content.decode()
    window, switch = gettext("merge window (minutes)"), gettext("automatic merge on")
    assert f"{switch}：关 → 开{gettext('; ')}{window}：30 → 45" in merge
    assert f"{gettext(MASK)}：关 → 开" in client.get("/orders/channels/tmall/").content.decode()
