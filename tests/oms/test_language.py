"""The back office's language (issue 17): the header's switch keeps a person's choice on their profile and
in the language cookie; a signed-in person without the cookie gets their profile's language; without a
choice, the browser's Accept-Language decides."""

import pytest

from oms.models import StaffProfile
from tests import journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    journey.world()
    return journey.users()["manager"]


def test_the_switch_keeps_the_choice_on_the_profile_and_the_next_page_is_chinese(client, manager):
    client.force_login(manager)
    response = client.post("/language/", {"language": "zh-hans", "next": "/orders/"})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert StaffProfile.objects.get(user=manager).language == "zh-hans"
    assert response.cookies["django_language"].value == "zh-hans"
    page = client.get("/orders/")
    assert "退出登录" in page.content.decode() and ">订单<" in page.content.decode()


def test_a_new_browser_gets_the_profile_language_and_keeps_it_in_the_cookie(client, manager):
    StaffProfile.objects.create(user=manager, language="zh-hans")
    client.force_login(manager)
    page = client.get("/orders/", HTTP_ACCEPT_LANGUAGE="en")
    assert "退出登录" in page.content.decode()
    assert page.cookies["django_language"].value == "zh-hans"
    StaffProfile.objects.filter(user=manager).delete()  # from now on the cookie carries it
    assert "退出登录" in client.get("/orders/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_without_a_choice_the_browser_decides(client, manager):
    client.force_login(manager)
    assert "退出登录" in client.get("/orders/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert "Log out" in client.get("/orders/", HTTP_ACCEPT_LANGUAGE="en-US").content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client, manager):
    client.force_login(manager)
    response = client.post("/language/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert not StaffProfile.objects.exists() and "django_language" not in response.cookies
    assert client.get("/language/").status_code == 405


def test_switching_back_to_english(client, manager):
    client.force_login(manager)
    client.post("/language/", {"language": "zh-hans"})
    client.post("/language/", {"language": "en"})
    assert StaffProfile.objects.get(user=manager).language == "en"
    assert "Log out" in client.get("/orders/").content.decode()
