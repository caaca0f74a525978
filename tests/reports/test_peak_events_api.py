"""The forecast's peak calendar through the API: GET /api/v1/peak-events/ (the built-in 618, 双11, 双12 and Spring
Festival shutdown and the shop's own events), POST (add), DELETE /api/v1/peak-events/<id>/ (remove; a built-in is
409), with the admin page's permissions and services (reports.services.peak_event_save / peak_event_remove); the
forecast reads what was added; page and API alike."""

import json
from datetime import date

import pytest
from django.contrib.admin.models import ADDITION, DELETION, LogEntry

from oms.models import ApiToken
from reports import peaks
from reports.models import PeakEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/peak-events/"
SHOP_DAY = {"name": "店庆", "start": "2027-09-09", "end": "2027-09-10", "uplift": 2.2}


@pytest.fixture
def admin_key():
    return ApiToken.issue(make_user("boss", "admin"))[1]


def call(client, token, method="get", url=URL, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Token {token}"}
    if body is not None:
        kwargs["data"] = body if isinstance(body, str) else json.dumps(body)
        kwargs["content_type"] = "application/json"
    return getattr(client, method)(url, **kwargs)


def rows():
    return list(PeakEvent.objects.order_by("pk").values())


def test_the_calendar_lists_the_built_in_peaks_of_the_year_and_the_shops_own(client, admin_key):
    PeakEvent.objects.create(name="old", start=date(2024, 9, 1), end=date(2024, 9, 2), yearly=False, active=False)
    answer = call(client, admin_key, url=f"{URL}?year=2027")
    assert answer.status_code == 200, answer.content
    events = answer.json()["events"]
    assert [(e["key"], e["start"], e["end"], e["built_in"]) for e in events[:4]] == [
        ("spring_festival", "2027-02-01", "2027-02-12", True),
        ("618", "2027-06-18", "2027-06-20", True),
        ("double11", "2027-11-11", "2027-11-13", True),
        ("double12", "2027-12-12", "2027-12-13", True),
    ]
    assert [(e["name"], e["active"], e["yearly"]) for e in events[4:]] == [("old", False, False)]
    for year in ("soon", "²", "1999", "99999999999999999999"):
        assert call(client, admin_key, url=f"{URL}?year={year}").status_code == 400, year


def test_add_then_remove_an_event_the_forecast_reads(client, admin_key):
    answer = call(client, admin_key, "post", body=SHOP_DAY)
    assert answer.status_code == 201, answer.content
    event = PeakEvent.objects.get()
    assert answer.json() == {
        "id": event.pk,
        "key": f"extra:{event.pk}",
        "built_in": False,
        "name": "店庆",
        "start": "2027-09-09",
        "end": "2027-09-10",
        "uplift": "2.20",
        "yearly": True,
        "active": True,
    }
    found = peaks.events_between(date(2028, 9, 1), date(2028, 9, 30))
    assert [(e.name, e.start, e.fixed_uplift) for e in found] == [("店庆", date(2028, 9, 9), 2.2)]
    assert LogEntry.objects.get().action_flag == ADDITION

    assert call(client, admin_key, "delete", f"{URL}{event.pk}/").status_code == 204
    assert rows() == [] and peaks.events_between(date(2028, 9, 1), date(2028, 9, 30)) == []
    assert LogEntry.objects.order_by("pk").last().action_flag == DELETION
    assert call(client, admin_key, "delete", f"{URL}{event.pk}/").status_code == 404


def test_a_built_in_peak_cannot_be_removed(client, admin_key):
    answer = call(client, admin_key, "delete", f"{URL}double11/")
    assert answer.status_code == 409
    assert "built into the calendar" in answer.json()["error"]
    for key in ("nope", "²", "9" * 30):
        assert call(client, admin_key, "delete", f"{URL}{key}/").status_code == 404, key


def test_the_admin_pages_permissions_refuse(client):
    PeakEvent.objects.create(name="old", start=date(2024, 9, 1), end=date(2024, 9, 2))
    before = rows()
    manager = ApiToken.issue(make_user("m", "manager"))[1]
    assert call(client, manager).status_code == 403
    assert call(client, manager, "post", body=SHOP_DAY).status_code == 403
    assert call(client, manager, "delete", f"{URL}{PeakEvent.objects.get().pk}/").status_code == 403
    assert call(client, "nope", "post", body=SHOP_DAY).status_code == 401
    assert rows() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**SHOP_DAY, "uplift_factor": 2}, ["uplift_factor"]),
        ({**SHOP_DAY, "name": ""}, ["name"]),
        ({**SHOP_DAY, "name": "x" * 81}, ["name"]),
        ({**SHOP_DAY, "name": 5}, ["name"]),
        ({**SHOP_DAY, "start": "2027-13-01"}, ["start"]),
        ({**SHOP_DAY, "start": 20270909}, ["start"]),
        ({**SHOP_DAY, "end": "2027-09-08"}, ["end"]),
        ({**SHOP_DAY, "uplift": -1}, ["uplift"]),
        ({**SHOP_DAY, "uplift": 1000}, ["uplift"]),
        ({**SHOP_DAY, "uplift": "lots"}, ["uplift"]),
        ({**SHOP_DAY, "uplift": True}, ["uplift"]),
        ({**SHOP_DAY, "yearly": "yes"}, ["yearly"]),
        ({"name": "x"}, ["start", "end"]),
        ("[]", ["body"]),
    ],
)
def test_bad_input_is_400_naming_the_field_and_adds_nothing(client, admin_key, body, fields):
    answer = call(client, admin_key, "post", body=body)
    assert answer.status_code == 400, answer.content
    assert [e["field"] for e in answer.json()["errors"]] == fields
    assert rows() == [] and not LogEntry.objects.exists()


def test_page_and_api_add_the_same_event(client, admin_key):
    boss = make_user("boss2", "admin")
    boss.is_staff = True  # the admin site's door
    boss.save()
    client.force_login(boss)
    form = {"name": "店庆", "start": "2027-09-09", "end": "2027-09-10", "uplift": "2.2", "yearly": "on", "active": "on"}
    page = client.post("/admin/reports/peakevent/add/", form)
    assert page.status_code == 302 and page["Location"] == "/admin/reports/peakevent/", page.content[:300]
    assert call(client, admin_key, "post", body=SHOP_DAY).status_code == 201

    by_page, by_api = [{k: v for k, v in row.items() if k != "id"} for row in rows()]
    assert by_page == by_api
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 2
