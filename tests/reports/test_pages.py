"""Report pages: permissions, the KPI page with its drill-down, exports, saved reports,
schedules e-mailed by the periodic task, the forecast, the dashboard."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.models import Shipment
from reports.forecast import weekly_forecast
from reports.kpis import REGISTRY
from reports.models import ReportSchedule, SavedReport
from reports.tasks import send_scheduled_reports
from tests import journey

pytestmark = pytest.mark.django_db

PERIOD_Q = "date_from=2026-03-02&date_to=2026-03-08"


@pytest.fixture
def users():
    return journey.users()


@pytest.fixture
def manager_client(client, users):
    client.force_login(users["manager"])
    return client


PAGES = [
    "/reports/",
    "/reports/kpi/orders-by-day/",
    "/reports/kpi/pick-accuracy/",
    "/reports/saved/",
    "/reports/forecast/",
]


@pytest.mark.parametrize("url", PAGES)
def test_report_pages_need_the_reports_permission(client, users, url):
    for role, user in users.items():
        client.force_login(user)
        expected = 200 if role in ("admin", "manager") else 403
        assert client.get(url).status_code == expected, (url, role)


def test_every_kpi_page_renders(manager_client, world):
    for slug in REGISTRY:
        response = manager_client.get(f"/reports/kpi/{slug}/?{PERIOD_Q}")
        assert response.status_code == 200, slug
        body = response.content.decode()
        assert REGISTRY[slug].formula.split(".")[0][:40] in body


def test_kpi_page_shows_the_figure_chart_formula_and_drilldown(manager_client, world):
    body = manager_client.get(f"/reports/kpi/orders-by-day/?{PERIOD_Q}").content.decode()
    assert '<span class="big">4</span>' in body
    assert "<svg" in body and "Orders per day" in body
    assert "/orders/?created_after=2026-03-02&amp;created_before=2026-03-02" in body
    assert "Numerator" in body and "Order.created_at" in body


def test_waiting_kpi_page_shows_no_number(manager_client, monkeypatch):
    from .test_kpis import _Waiting

    monkeypatch.setitem(REGISTRY, "waiting-example", _Waiting())
    body = manager_client.get("/reports/kpi/waiting-example/").content.decode()
    assert "waiting for data: survey answers" in body
    assert "No data source yet: survey answers" in body
    assert 'class="big"' not in body


def test_bad_filters_fall_back_to_defaults_and_unknown_kpi_is_404(manager_client):
    response = manager_client.get("/reports/kpi/orders-by-day/?date_from=yesterday&channel=999999")
    assert response.status_code == 200
    assert manager_client.get("/reports/kpi/no-such-kpi/").status_code == 404


def test_csv_xlsx_and_pdf_exports(manager_client, world):
    response = manager_client.get(f"/reports/kpi/orders-by-channel/?{PERIOD_Q}&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Web shop", "3", "60.00"] in rows and ["App", "1", "10.00"] in rows

    response = manager_client.get(f"/reports/kpi/orders-by-channel/?{PERIOD_Q}&format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book[book.sheetnames[1]]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == ["Channel", "Orders", "Revenue"]
    assert values[1][:2] == ["Web shop", 3]

    response = manager_client.get(f"/reports/kpi/orders-by-channel/?{PERIOD_Q}&format=pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_csv_export_escapes_formulas(manager_client, world):
    from orders.models import Order

    Order.objects.filter(pk=world.o1.pk).update(ship_province="=HYPERLINK(1)")
    response = manager_client.get(f"/reports/kpi/orders-by-region/?{PERIOD_Q}&format=csv")
    assert "'=HYPERLINK(1)" in response.content.decode("utf-8-sig")


def test_save_a_report_and_schedule_it_weekly(manager_client, users, world):
    response = manager_client.post(
        "/reports/saved/new/",
        {"name": "Weekly sales", "kpis": ["orders-by-day"], "period": "last_7_days", "channel": world.web.pk},
    )
    report = SavedReport.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/saved/{report.pk}/"
    assert report.kpis == ["orders-by-day"] and report.owner == users["manager"]
    assert report.filters["period"] == "last_7_days" and report.filters["channel"] == world.web.pk
    report.kpis = ["orders-by-day", "on-time-shipping"]
    report.save()
    assert manager_client.get(f"/reports/saved/{report.pk}/").status_code == 200
    response = manager_client.post(
        f"/reports/saved/{report.pk}/schedules/new/",
        {"frequency": "weekly", "weekday": "0", "hour": "7", "recipients": "boss@example.com; ops@example.com"},
    )
    schedule = ReportSchedule.objects.get()
    assert schedule.recipient_list == ["boss@example.com", "ops@example.com"]
    bad = manager_client.post(f"/reports/saved/{report.pk}/schedules/new/", {"frequency": "daily", "recipients": "x"})
    assert bad.status_code == 302 and ReportSchedule.objects.count() == 1


def _at(day, hour):
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 30))


def test_scheduled_reports_are_emailed_with_the_pdf_once_on_their_day(world, users, monkeypatch):
    report = SavedReport.objects.create(
        name="Daily ops", kpis=["orders-by-day", "lead-time"], filters={"period": "last_7_days"}, owner=users["manager"]
    )
    daily = ReportSchedule.objects.create(report=report, frequency="daily", hour=7, recipients="a@example.com")
    ReportSchedule.objects.create(report=report, frequency="weekly", weekday=0, hour=7, recipients="b@example.com")
    sunday = date(2026, 3, 8)
    mail.outbox.clear()  # the world's orders sent their customer notifications
    monkeypatch.setattr(timezone, "now", lambda: _at(sunday, 6))
    assert send_scheduled_reports.delay().get() == 0  # before 07:00
    monkeypatch.setattr(timezone, "now", lambda: _at(sunday, 9))
    assert send_scheduled_reports.delay().get() == 1  # the daily one; the weekly one is for Mondays
    assert send_scheduled_reports.delay().get() == 0  # once a day
    message = mail.outbox[0]
    assert message.to == ["a@example.com"] and "Daily ops" in message.subject
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and content.startswith(b"%PDF") and name.endswith("20260308.pdf")
    assert "Orders and revenue by day: 4" in message.body  # last 7 days = 03-02 .. 03-08
    daily.refresh_from_db()
    assert daily.last_sent_on == sunday
    monkeypatch.setattr(timezone, "now", lambda: _at(sunday + timedelta(days=1), 8))
    assert send_scheduled_reports.delay().get() == 2  # Monday: both
    assert {tuple(m.to) for m in mail.outbox[1:]} == {("a@example.com",), ("b@example.com",)}


def test_weekly_forecast_reproduces_an_exact_weekly_pattern():
    pattern = [120, 100, 100, 110, 150, 60, 40]  # Monday .. Sunday
    start = date(2026, 3, 2)  # a Monday
    history = {start - timedelta(days=i): pattern[(start - timedelta(days=i)).weekday()] for i in range(1, 57)}
    forecast = weekly_forecast(history, start)
    assert len(forecast) == 14
    assert [v for _, v in forecast] == pattern * 2
    assert weekly_forecast({}, start)[0][1] == 0


def test_forecast_page_per_location(manager_client, world):
    today = timezone.localdate()
    Shipment.objects.filter(order=world.o1).update(created_at=timezone.now() - timedelta(days=7))
    body = manager_client.get("/reports/forecast/").content.decode()
    assert "sha" in body and "can" in body and "<svg" in body
    assert today.strftime("%Y-%m-%d") in body


def test_dashboard_for_every_role_with_report_links_only_for_managers(client, users, world):
    client.force_login(users["warehouse"])
    body = client.get("/reports/dashboard/").content.decode()
    assert "Orders by status" in body and "KPI catalogue" not in body
    client.force_login(users["manager"])
    body = client.get("/reports/dashboard/").content.decode()
    assert "KPI catalogue" in body
