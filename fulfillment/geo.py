"""Place a destination without any outside service: a city table shipped with the project.

``data/places.csv`` holds every prefecture-level city of mainland China (scripts/cn_places.py says
where the rows come from) and a few cities abroad. A Chinese name that is not a row's (延边州, a
district such as 岳麓区 or 义乌市) is resolved through China's division list (``oms.cn_divisions``)
to its city.
"""

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from oms.cn_divisions import CITY, DISTRICT, divisions

PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.csv"


@dataclass(frozen=True)
class Place:
    country: str
    province: str
    city: str
    city_zh: str
    latitude: float
    longitude: float
    postcode_prefix: str


def _key(text: str) -> str:
    text = (text or "").strip().lower()
    for suffix in ("市", "省", " city", "自治区", "特别行政区"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return text.replace("'", "").replace(" ", "")


@cache
def _places() -> tuple[list[Place], dict[tuple[str, str], Place], dict[tuple[str, str], Place]]:
    places = []
    with PLACES_FILE.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            places.append(
                Place(
                    row["country"],
                    row["province"],
                    row["city"],
                    row["city_zh"],
                    float(row["latitude"]),
                    float(row["longitude"]),
                    row["postcode_prefix"],
                )
            )
    by_name: dict[tuple[str, str], Place] = {}
    by_province: dict[tuple[str, str], Place] = {}
    for p in places:
        for name in (p.city, p.city_zh):
            by_name.setdefault((p.country, _key(name)), p)
        by_province.setdefault((p.country, _key(p.province)), p)
    return places, by_name, by_province


def locate(*, country: str, province: str = "", city: str = "", postcode: str = "", district: str = "") -> Place | None:
    """The best-known place for an address: the city (by its English or Chinese name, or the city of a
    Chinese district), else the postcode prefix, else the province."""
    places, by_name, by_province = _places()
    country = (country or "").upper()
    place = by_name.get((country, _key(city)))
    if place:
        return place
    if country == "CN":
        place = _cn_city(by_name, province, city, district)
        if place:
            return place
    if postcode:
        best = None
        for p in places:
            if p.country == country and p.postcode_prefix and postcode.startswith(p.postcode_prefix):
                if best is None or len(p.postcode_prefix) > len(best.postcode_prefix):
                    best = p
        if best:
            return best
    return by_province.get((country, _key(province))) or by_name.get((country, _key(province)))


def _cn_city(by_name: dict, province: str, city: str, district: str) -> Place | None:
    """The row of the city a Chinese city or district name belongs to, through the division list
    (loaded on first use): 延边州 -> 延边朝鲜族自治州, 岳麓区 -> 长沙, 义乌市 -> 金华 when no row of its own."""
    names = [n.strip() for n in (city, district) if n and n.strip() and not n.isascii()]
    if not names:
        return None
    index = divisions()
    for name in names:
        found = index.named(name)
        if province and not province.isascii():
            found = tuple(d for d in found if _key(d.province) == _key(province)) or found
        cities = {d.name if d.level == CITY else d.city for d in found if d.level in (CITY, DISTRICT)}
        if len(cities) == 1:
            place = by_name.get(("CN", _key(cities.pop())))
            if place:
                return place
    return None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    r = 6371.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))
