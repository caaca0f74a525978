"""Report pages in Chinese (issue 17): the KPI names, units, formulas, facts, table titles and
column headers come from the reports catalogue, and a cached result is kept per language."""

import pytest
from django.core.cache import cache
from django.utils import translation

from reports import cache as report_cache
from reports.kpis import REGISTRY
from reports.models import SavedReport
from tests import journey

pytestmark = pytest.mark.django_db

PERIOD_Q = "date_from=2026-03-02&date_to=2026-03-08"


@pytest.fixture
def manager(client):
    client.force_login(journey.users()["manager"])
    return client


def chinese(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def test_kpi_page_in_chinese_shows_its_name_formula_facts_and_columns(manager):
    body = chinese(manager).get(f"/reports/kpi/pick-accuracy/?{PERIOD_Q}").content.decode()
    for text in ("<h1>拣货准确率</h1>", "已打包发货单", "按发货点", "<th>发货点</th>", "打包扫描无任何差异", "分子"):
        assert text in body, text
    for english in ("Pick accuracy", "Shipments packed", "By location", "Numerator", "Save as a report"):
        assert english not in body, english


def test_catalogue_in_chinese_names_every_kpi_in_chinese(manager):
    body = chinese(manager).get("/reports/").content.decode()
    assert "订单与销售额" in body and "单位：%" in body
    for kpi in REGISTRY.values():
        with translation.override("en"):
            english = str(kpi.title)
        with translation.override("zh-hans"):
            title = str(kpi.title)
        assert title != english and f">{title}</a>" in body and f">{english}</a>" not in body, english


def test_a_cached_result_is_not_served_in_the_other_language(settings):
    """Some texts of a result are put in words when it is computed (a location without a cut-off
    is "not set"): what was cached for an English page is not shown on a Chinese one."""
    settings.REPORTS_CACHE_SECONDS = 60
    cache.clear()
    with translation.override("en"):
        english, _at = report_cache.cached("kpi:test", {}, lambda: translation.gettext("not set"))
    with translation.override("zh-hans"):
        chinese_text, _at = report_cache.cached("kpi:test", {}, lambda: translation.gettext("not set"))
        again, _at = report_cache.cached("kpi:test", {}, lambda: "computed again")
    assert (english, chinese_text, again) == ("not set", "未设置", "未设置")


def test_saved_report_list_and_drilldown_in_chinese(manager):
    SavedReport.objects.create(name="周报", kpis=["orders-by-day"], filters={"period": "last_7_days"})
    body = chinese(manager).get("/reports/saved/").content.decode()
    assert "最近 7 天" in body and "period=last_7_days" not in body
    drill = manager.get(f"/reports/kpi/pick-accuracy/list/packed/?{PERIOD_Q}&mismatch=0").content.decode()
    assert "打包无差异的已打包发货单" in drill and "个发货单" in drill


def test_schedule_error_message_in_chinese(manager):
    report = SavedReport.objects.create(name="r", kpis=["orders-by-day"], filters={})
    response = chinese(manager).post(
        f"/reports/saved/{report.pk}/schedules/new/", {"frequency": "hourly", "recipients": "a@b.cn"}, follow=True
    )
    assert "请选择每天或每周。" in response.content.decode()
    assert not report.schedules.exists()
