"""The JSON API answers in English whatever the browser's language (issue 17): api_view wraps every API
view in translation.override("en"), so a message worded through gettext reaches machines in English."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext

from oms.api import BadInput, api_view
from oms.models import ApiToken

pytestmark = pytest.mark.django_db


@api_view(methods={"GET": "orders.view_order", "POST": "orders.add_order"})
def speaking_view(request):
    if request.method == "POST":
        raise BadInput(gettext("Log out"))  # a message the catalogue has in Chinese
    return None


def call(method: str, language: str):
    user = get_user_model().objects.create_user("robot", is_superuser=True)
    _, key = ApiToken.issue(user)
    request = getattr(RequestFactory(), method)(
        "/api/v1/x/", HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE=language
    )
    with translation.override(language):  # what LocaleMiddleware does for a Chinese browser
        response = speaking_view(request)
        after = translation.get_language()
    return response, after


def test_an_api_error_worded_through_gettext_is_english_for_a_chinese_browser():
    with translation.override("zh-hans"):
        assert gettext("Log out") != "Log out"  # the catalogue does speak Chinese
    response, after = call("post", "zh-hans")
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "Log out"
    assert after == "zh-hans"  # the request's own language is back after the API call


def test_the_api_refuses_a_wrong_method_in_english_for_a_chinese_browser():
    response, _ = call("delete", "zh-hans")
    assert response.status_code == 405
    assert json.loads(response.content)["error"] == "Method DELETE not allowed."


def test_a_real_api_call_with_a_chinese_browser_gets_english(client):
    response = client.get("/api/v1/orders/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    assert response.json()["error"] == "Authentication required: send 'Authorization: Token <key>'."
