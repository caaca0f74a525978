"""自动合单 settings through the API: GET and PATCH /api/v1/merge-settings/ with the page's permission and service
(services.merge_settings_set), the same saved rule as the page, bad input refused with nothing changed."""

import json

import pytest
from django.urls import reverse

from oms.models import ApiToken
from orders.models import MergeSettings
from tests import journey
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/merge-settings/"


@pytest.fixture
def world():
    w = journey.world()
    MergeSettings.objects.create(pk=1, enabled=True, window_minutes=30)
    w["users"] = journey.users()
    w["quiet"] = ChannelFactory(slug="quiet")
    return w


def key(user):
    return ApiToken.issue(user)[1]


def call(client, token, method="get", body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(URL, **kwargs)


def saved():
    s = MergeSettings.objects.get(pk=1)
    return (
        s.enabled,
        s.window_minutes,
        s.wait_minutes,
        s.exclude_tags,
        sorted(c.slug for c in s.disabled_channels.all()),
    )


def test_get_answers_the_rule(client, world):
    answer = call(client, key(world["users"]["manager"]))
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "enabled": True,
        "window_minutes": 30,
        "wait_minutes": 0,
        "exclude_tags": ["no-merge", "presale"],
        "disabled_channels": [],
    }


def test_get_before_anything_was_saved_answers_the_defaults(client, world):
    MergeSettings.objects.all().delete()
    answer = call(client, key(world["users"]["manager"]))
    assert answer.status_code == 200
    assert answer.json()["enabled"] is False and answer.json()["disabled_channels"] == []


def test_patch_turns_it_off_and_keeps_what_it_does_not_name(client, world):
    token = key(world["users"]["manager"])
    answer = call(client, token, "patch", {"enabled": False})
    assert answer.status_code == 200, answer.content
    assert saved() == (False, 30, 0, "no-merge,presale", [])

    answer = call(
        client,
        token,
        "patch",
        {
            "window_minutes": 45,
            "wait_minutes": 5,
            "exclude_tags": [" No-Merge", "vip "],
            "disabled_channels": ["quiet"],
        },
    )
    assert answer.status_code == 200, answer.content
    assert saved() == (False, 45, 5, "no-merge,vip", ["quiet"])
    assert answer.json() == {
        "enabled": False,
        "window_minutes": 45,
        "wait_minutes": 5,
        "exclude_tags": ["no-merge", "vip"],
        "disabled_channels": ["quiet"],
    }


def test_the_pages_permission_refuses(client, world):
    before = saved()
    for role in ("customer_service", "warehouse"):
        token = key(world["users"][role])
        assert call(client, token).status_code == 403
        assert call(client, token, "patch", {"enabled": False}).status_code == 403
    assert call(client, "nope", "patch", {"enabled": False}).status_code == 401
    assert call(client, key(world["users"]["manager"]), "post", {"enabled": False}).status_code == 405
    assert saved() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"enabled": False, "window": 10}, ["window"]),
        ({"enabled": "no"}, ["enabled"]),
        ({"window_minutes": 0}, ["window_minutes"]),
        ({"window_minutes": 1441}, ["window_minutes"]),
        ({"window_minutes": "45"}, ["window_minutes"]),
        ({"window_minutes": True}, ["window_minutes"]),
        ({"window_minutes": 10, "wait_minutes": 20}, ["wait_minutes"]),
        ({"wait_minutes": 31}, ["wait_minutes"]),
        ({"exclude_tags": "vip"}, ["exclude_tags"]),
        ({"exclude_tags": ["a,b"]}, ["exclude_tags"]),
        ({"exclude_tags": ["x" * 256]}, ["exclude_tags"]),
        ({"disabled_channels": ["nowhere"]}, ["disabled_channels"]),
        ({"disabled_channels": [1]}, ["disabled_channels"]),
        ({"enabled": 1, "window_minutes": -1}, ["enabled", "window_minutes"]),
        ("[]", ["body"]),
        ("{", ["body"]),
    ],
)
def test_bad_input_is_400_naming_the_field_and_changes_nothing(client, world, body, fields):
    before = saved()
    answer = call(client, key(world["users"]["manager"]), "patch", body)
    assert answer.status_code == 400, answer.content
    assert [e["field"] for e in answer.json()["errors"]] == fields
    assert saved() == before


def test_page_and_api_save_the_same_rule(client, world):
    manager = world["users"]["manager"]
    client.force_login(manager)
    page = client.post(
        reverse("orders:merge_settings"),
        {
            "window_minutes": "45",
            "wait_minutes": "5",
            "exclude_tags": " No-Merge, vip",
            "disabled_channels": [world["quiet"].pk],
        },
    )
    assert page.status_code == 302
    by_page = saved()
    by_page_json = call(client, key(manager)).json()

    MergeSettings.objects.filter(pk=1).update(enabled=True, window_minutes=30, wait_minutes=0, exclude_tags="")
    MergeSettings.objects.get(pk=1).disabled_channels.clear()
    body = {"enabled": False, "window_minutes": 45, "wait_minutes": 5, "exclude_tags": ["No-Merge", "vip"]}
    answer = call(client, key(manager), "patch", {**body, "disabled_channels": ["quiet"]})

    assert answer.status_code == 200
    assert saved() == by_page == (False, 45, 5, "no-merge,vip", ["quiet"])
    assert answer.json() == by_page_json
