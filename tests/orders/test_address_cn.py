"""Chinese one-line addresses (orders/intake/address_cn.py) and pasted "name, phone, address" texts
(orders/intake/paste_cn.py), against the division list jionlp ships: exact parts for real-shaped input."""

import pytest

from orders.intake import address_cn
from orders.intake.address_cn import complete, parse_address
from orders.intake.paste_cn import find_phone, split_contact

# text -> (province, city, district, detail, inferred)
ADDRESSES = [
    ("湖南长沙岳麓区麓山南路932号", ("湖南省", "长沙市", "岳麓区", "麓山南路932号", ())),
    ("江苏省苏州市姑苏区人民路100号", ("江苏省", "苏州市", "姑苏区", "人民路100号", ())),
    ("上海市浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号", ("city",))),
    ("上海市上海市黄浦区南京东路299号", ("上海市", "上海市", "黄浦区", "南京东路299号", ())),
    ("上海市南京东路100号", ("上海市", "上海市", "", "南京东路100号", ("city",))),
    (
        "北京朝阳区建国路88号SOHO现代城1号楼2单元1302室",
        ("北京市", "北京市", "朝阳区", "建国路88号SOHO现代城1号楼2单元1302室", ("city",)),
    ),
    ("重庆渝中区解放碑步行街8号", ("重庆市", "重庆市", "渝中区", "解放碑步行街8号", ("city",))),
    ("天津市滨海新区第二大街22号", ("天津市", "天津市", "滨海新区", "第二大街22号", ("city",))),
    ("仙桃市沙嘴街道仙桃大道1号", ("湖北省", "仙桃市", "", "沙嘴街道仙桃大道1号", ("province",))),
    ("湖北省仙桃市干河街道", ("湖北省", "仙桃市", "", "干河街道", ())),
    ("河南省济源市沁园路1号", ("河南省", "济源市", "", "沁园路1号", ())),
    ("广西南宁青秀区民族大道136号", ("广西壮族自治区", "南宁市", "青秀区", "民族大道136号", ())),
    ("新疆乌鲁木齐天山区解放北路1号", ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "解放北路1号", ())),
    ("乌鲁木齐市沙依巴克区友好北路", ("新疆维吾尔自治区", "乌鲁木齐市", "沙依巴克区", "友好北路", ("province",))),
    ("内蒙古呼和浩特新城区新华大街", ("内蒙古自治区", "呼和浩特市", "新城区", "新华大街", ())),
    ("西藏拉萨城关区北京中路1号", ("西藏自治区", "拉萨市", "城关区", "北京中路1号", ())),
    ("宁夏银川兴庆区解放西街", ("宁夏回族自治区", "银川市", "兴庆区", "解放西街", ())),
    ("吉林省延边朝鲜族自治州延吉市光明街", ("吉林省", "延边朝鲜族自治州", "延吉市", "光明街", ())),
    ("恩施州恩施市舞阳大街", ("湖北省", "恩施土家族苗族自治州", "恩施市", "舞阳大街", ("province",))),
    ("云南省大理州大理市人民路", ("云南省", "大理白族自治州", "大理市", "人民路", ())),
    ("吉林省吉林市船营区北京路", ("吉林省", "吉林市", "船营区", "北京路", ())),
    ("长沙市岳麓区", ("湖南省", "长沙市", "岳麓区", "", ("province",))),
    ("长沙县星沙街道", ("湖南省", "长沙市", "长沙县", "星沙街道", ("city", "province"))),
    ("广州天河路208号", ("广东省", "广州市", "", "天河路208号", ("province",))),
    ("东莞市南城街道鸿福路", ("广东省", "东莞市", "", "南城街道鸿福路", ("province",))),
    ("浙江省义乌市稠城街道", ("浙江省", "金华市", "义乌市", "稠城街道", ("city",))),
    ("海南省三亚市吉阳区迎宾路", ("海南省", "三亚市", "吉阳区", "迎宾路", ())),
    ("中国 江苏省 苏州市 姑苏区 人民路100号", ("江苏省", "苏州市", "姑苏区", "人民路100号", ())),
    ("江苏省,苏州市,姑苏区,人民路100号", ("江苏省", "苏州市", "姑苏区", "人民路100号", ())),
    ("江苏省苏州市姑苏区人民路１００号", ("江苏省", "苏州市", "姑苏区", "人民路100号", ())),
    ("成都市高新区天府大道北段1700号", ("四川省", "成都市", "", "高新区天府大道北段1700号", ("province",))),
    (
        "深圳市南山区科技园科苑路15号13600136000号楼",
        ("广东省", "深圳市", "南山区", "科技园科苑路15号13600136000号楼", ("province",)),
    ),
]


@pytest.mark.parametrize(("text", "expected"), ADDRESSES, ids=[t for t, _ in ADDRESSES])
def test_one_line_address_into_its_parts(text, expected):
    parsed = parse_address(text)
    assert parsed.problems == ()
    assert (parsed.province, parsed.city, parsed.district, parsed.detail, parsed.inferred) == expected


def test_the_table_holds_at_least_thirty_addresses():
    assert len(ADDRESSES) >= 30


# text -> (problem, suggestions)
UNRESOLVED = [
    (
        "江苏省长沙市岳麓区麓山南路932号",
        "'长沙市' is not a city of 江苏省 (it is in 湖南省 长沙市)",
        ("湖南省 长沙市",),
    ),
    (
        "浙江省杭州市鼓楼区中山路1号",
        "'鼓楼区' is not a district of 杭州市 (it is in 江苏省 南京市 鼓楼区)",
        ("江苏省 南京市 鼓楼区", "江苏省 徐州市 鼓楼区", "福建省 福州市 鼓楼区"),
    ),
    (
        "朝阳区建国路88号",
        "'朝阳区' is in more than one place: 北京市 朝阳区, 吉林省 长春市 朝阳区; write the province and city",
        ("北京市 朝阳区", "吉林省 长春市 朝阳区"),
    ),
    ("江苏省苏洲市姑苏区人民路100号", "'苏洲市' is not a city of 江苏省", ("江苏省 苏州市", "江苏省 苏州市 姑苏区")),
    ("杭州市火星区文三路1号", "'火星区' is not a district of 杭州市", ()),
    ("湖南省麓山南路932号", "no city of 湖南省 found in '湖南省麓山南路932号'", ()),
]


@pytest.mark.parametrize(("text", "problem", "suggestions"), UNRESOLVED, ids=[t for t, _p, _s in UNRESOLVED])
def test_an_address_that_does_not_resolve_comes_with_suggestions(text, problem, suggestions):
    parsed = parse_address(text)
    assert parsed.problems == (problem,)
    assert parsed.suggestions == suggestions
    assert not parsed.ok


# pasted text -> (name, phone, postcode, province, city, district, address1)
PASTED = [
    (
        "王五 13600136000 江苏省苏州市姑苏区人民路100号",
        ("王五", "13600136000", "", "江苏省", "苏州市", "姑苏区", "人民路100号"),
    ),
    (
        "收货人：张三，电话：+86 136-0013-6000，地址：上海市浦东新区世纪大道100号",
        ("张三", "13600136000", "", "上海市", "上海市", "浦东新区", "世纪大道100号"),
    ),
    (
        "收货人:王五\n手机号码:136 0013 6000\n所在地区:江苏省 苏州市 姑苏区\n详细地址:人民路100号\n邮编:215000",
        ("王五", "13600136000", "215000", "江苏省", "苏州市", "姑苏区", "人民路100号"),
    ),
    (
        "江苏省 苏州市 姑苏区 人民路100号 王五 13600136000",
        ("王五", "13600136000", "", "江苏省", "苏州市", "姑苏区", "人民路100号"),
    ),
    (
        "王五，8613600136000，江苏省苏州市姑苏区人民路100号，215000",
        ("王五", "13600136000", "215000", "江苏省", "苏州市", "姑苏区", "人民路100号"),
    ),
    (
        "李四 0731-88886666 湖南长沙岳麓区麓山南路932号",
        ("李四", "0731-88886666", "", "湖南省", "长沙市", "岳麓区", "麓山南路932号"),
    ),
    (
        "赵六 (021)62345678 上海市徐汇区漕溪北路88号",
        ("赵六", "021-62345678", "", "上海市", "上海市", "徐汇区", "漕溪北路88号"),
    ),
    (
        "钱七 136 0013 6000 北京朝阳区建国路88号1号楼2单元1302室",
        ("钱七", "13600136000", "", "北京市", "北京市", "朝阳区", "建国路88号1号楼2单元1302室"),
    ),
    (
        "孙八\n+86 13912345678\n广东省深圳市南山区科技园科苑路15号13600136000号楼",
        ("孙八", "13912345678", "", "广东省", "深圳市", "南山区", "科技园科苑路15号13600136000号楼"),
    ),
    ("周九 15012345678转8 湖北省仙桃市干河街道", ("周九", "15012345678-8", "", "湖北省", "仙桃市", "", "干河街道")),
    (
        "欧阳娜娜，０７５５－８８８８６６６６，广东省深圳市福田区福华一路１号",
        ("欧阳娜娜", "0755-88886666", "", "广东省", "深圳市", "福田区", "福华一路1号"),
    ),
    (
        "张先生；+86-139 1234 5678；重庆渝中区解放碑",
        ("张先生", "13912345678", "", "重庆市", "重庆市", "渝中区", "解放碑"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), PASTED, ids=[t.replace("\n", " ") for t, _ in PASTED])
def test_a_pasted_name_phone_address_fills_every_part(text, expected):
    got = split_contact(text).fields()
    assert tuple(got[k] for k in ("name", "phone", "postcode", "province", "city", "district", "address1")) == expected


def test_house_and_room_numbers_are_never_taken_for_phones():
    assert find_phone("科苑路15号13600136000号楼") == ("", None)
    assert find_phone("幸福小区13栋1302室") == ("", None)
    assert find_phone("人民路100号 13600136000")[0] == "13600136000"


def test_a_paste_whose_address_does_not_resolve_keeps_the_line_as_address1():
    pasted = split_contact("王五 13600136000 火星市某区某路1号")
    assert pasted.address.problems == ("no province or city of China found in '火星市某区某路1号'",)
    assert pasted.fields() == {
        "name": "王五",
        "phone": "13600136000",
        "province": "",
        "city": "",
        "district": "",
        "address1": "火星市某区某路1号",
        "postcode": "",
    }


def test_complete_fills_only_the_empty_parts():
    done = complete(province="", city="", district="", line="湖南长沙岳麓区麓山南路932号")
    assert (done.filled, done.problems) == ({"province": "湖南省", "city": "长沙市", "district": "岳麓区"}, ())
    # A channel's own spelling (湖南, not 湖南省) stays: only the empty city and district are filled.
    done = complete(province="湖南", city="", district="", line="长沙岳麓区麓山南路932号")
    assert (done.filled, done.problems) == ({"city": "长沙市", "district": "岳麓区"}, ())
    # A county-level city given as the city is not repeated as the district.
    done = complete(province="浙江省", city="义乌市", district="", line="稠城街道1号")
    assert (done.filled, done.problems) == ({}, ())


def test_complete_reports_a_contradiction_between_given_parts_and_fills_nothing():
    done = complete(province="浙江省", city="杭州市", district="鼓楼区", line="中山路1号")
    assert done.filled == {}
    assert done.problems == ("'鼓楼区' is not a district of 杭州市 (it is in 江苏省 南京市 鼓楼区)",)
    assert done.hold_note() == (
        "Address not in China's division list: '鼓楼区' is not a district of 杭州市 (it is in 江苏省 南京市 鼓楼区)."
        " Did you mean: 江苏省 南京市 鼓楼区 / 江苏省 徐州市 鼓楼区 / 福建省 福州市 鼓楼区?"
    )


def test_complete_leaves_an_address_without_chinese_alone():
    done = complete(province="Shanghai", city="Shanghai", district="Pudong", line="88 Century Avenue")
    assert (done.filled, done.problems) == ({}, ())


def test_lines_that_differ_only_in_their_numbers_are_matched_once_each_keeping_its_own_detail():
    address_cn.cache_clear()
    first = address_cn.parse_address("湖南长沙岳麓区麓山南路932号 3栋501")
    second = address_cn.parse_address("湖南长沙岳麓区麓山南路17号 12栋2")
    info = address_cn._parse_shape.cache_info()
    assert (info.misses, info.hits) == (2, 0)  # "932" and "17" are shapes of different lengths
    third = address_cn.parse_address("湖南长沙岳麓区麓山南路571号 8栋702")
    assert address_cn._parse_shape.cache_info().hits == 1
    assert (first.province, first.city, first.district) == ("湖南省", "长沙市", "岳麓区")
    assert (second.district, second.detail) == ("岳麓区", "麓山南路17号 12栋2")
    assert (third.district, third.detail) == ("岳麓区", "麓山南路571号 8栋702")
    assert first.detail == "麓山南路932号 3栋501"


def test_a_line_that_does_not_resolve_quotes_its_own_numbers():
    address_cn.cache_clear()
    address_cn.parse_address("火星 1号 2室")  # its shape ("火星 0号 0室") parsed and not resolving
    parsed = address_cn.parse_address("火星 5号 7室")
    assert not parsed.ok
    assert "火星 5号 7室" in parsed.problems[0]
    assert parsed == address_cn._parse("火星 5号 7室")
