"""The distance table (fulfillment/data/places.csv) covers every prefecture-level city of mainland China,
and ``geo.locate`` finds a city by its Chinese or English name and a district by its city."""

import csv

import pytest

from fulfillment import geo
from oms.cn_divisions import CITY, divisions


def cn_rows() -> list[dict]:
    with geo.PLACES_FILE.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["country"] == "CN"]


def test_every_prefecture_level_city_of_the_division_list_has_a_row():
    index = divisions()
    located = {geo.locate(country="CN", city=d.name) for p in index.provinces for d in index.cities_of(p)}
    cities = [d for p in index.provinces for d in index.cities_of(p) if d.level == CITY]
    missing = [d.name for d in cities if geo.locate(country="CN", city=d.name) is None]
    # The six newest cities of the Xinjiang Production and Construction Corps have no coordinates in the source.
    assert sorted(missing) == sorted(["北屯市", "双河市", "可克达拉市", "新星市", "昆玉市", "胡杨河市"])
    assert len(cn_rows()) == 363
    assert len(located - {None}) == 362  # every row but Yiwu (a county-level city) is some division's city


def test_rows_keep_the_file_format_and_lie_inside_china():
    rows = cn_rows()
    assert list(rows[0]) == ["country", "province", "city", "city_zh", "latitude", "longitude", "postcode_prefix"]
    for row in rows:
        assert 15.0 <= float(row["latitude"]) <= 53.6, row  # Sansha's seat is at 16.8
        assert 73.4 <= float(row["longitude"]) <= 135.1, row
        assert row["city"] and row["city_zh"] and row["province"], row


@pytest.mark.parametrize(
    ("kwargs", "city_zh"),
    [
        ({"city": "长沙"}, "长沙"),
        ({"city": "长沙市"}, "长沙"),
        ({"city": "Changsha"}, "长沙"),
        ({"city": "Kashgar"}, "喀什地区"),
        ({"city": "喀什地区"}, "喀什地区"),
        ({"city": "延边州"}, "延边朝鲜族自治州"),
        ({"city": "恩施土家族苗族自治州"}, "恩施土家族苗族自治州"),
        ({"city": "仙桃市"}, "仙桃"),
        ({"city": "岳麓区"}, "长沙"),  # a district given as the city
        ({"city": "", "district": "姑苏区"}, "苏州"),
        ({"city": "", "district": "萧山区", "province": "浙江省"}, "杭州"),
        ({"city": "义乌市"}, "义乌"),  # a row of its own
        ({"city": "长沙县"}, "长沙"),
        ({"city": "Zhangjiajie"}, "张家界"),
        ({"city": "", "province": "Xinjiang"}, "乌鲁木齐"),
    ],
)
def test_locate_by_chinese_or_english_name_or_district(kwargs, city_zh):
    assert geo.locate(country="CN", **kwargs).city_zh == city_zh


def test_a_district_in_several_cities_is_not_guessed():
    # 朝阳区 is in Beijing and in Changchun: without the province it places nothing (then the province).
    assert geo.locate(country="CN", city="朝阳区") is None
    assert geo.locate(country="CN", city="朝阳区", province="吉林省").city_zh == "长春"
