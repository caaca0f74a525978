"""The administrative divisions of mainland China (province, city, district), from a maintained package.

The names, aliases and codes come from ``jionlp``'s bundled official division list
(``jionlp.china_location_loader``), loaded once per process on first use: the package prints a
banner and takes a second or two to import, so nothing imports it before an address needs it.

Levels: 1 a province (省, 自治区, 直辖市), 2 a prefecture-level city (地级市, 自治州, 地区, 盟; the
直辖市 itself under its province; and a county-level city governed by the province, such as 仙桃市,
which has no districts), 3 a district (区, 县, 县级市, 旗). Hong Kong, Macao and Taiwan are left out:
the OMS gives them their own country codes.

Used by orders (``orders.intake.address_cn``: one-line addresses) and fulfillment (``geo``: a district
to its city); it reads no database.
"""

import contextlib
import gc
import hashlib
import importlib.metadata
import io
import logging
import os
import pickle
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

PROVINCE, CITY, DISTRICT = 1, 2, 3
# Codes of the divisions that are not mainland China (their own ISO countries).
NOT_MAINLAND = ("71", "81", "82")
# jionlp's placeholders for "governed directly by the province/city": their children move up a level.
DIRECT = ("省直辖行政区划", "市直辖行政区划", "自治区直辖县级行政区划", "省直辖县级行政区划")
# Entries of the list that are zones, not divisions: their short aliases (经开区, 高新区) are kept out,
# they would match the same words in any city.
ZONE_WORDS = ("开发区", "管委会", "管理区", "行政委员会", "园区", "示范区", "新区管", "工业区")


@dataclass(frozen=True)
class Division:
    code: str
    name: str  # the full official name: 湖南省, 长沙市, 岳麓区
    level: int
    province: str  # the province's full name (its own for a province)
    city: str = ""  # the city's full name (its own for a city, "" for a province)

    @property
    def path(self) -> str:
        """湖南省 长沙市 岳麓区 (the 直辖市 once): how a suggestion is written."""
        parts = [self.province]
        if self.level >= CITY and self.city != self.province:
            parts.append(self.city)
        if self.level == DISTRICT:
            parts.append(self.name)
        return " ".join(parts)


@dataclass(frozen=True)
class Index:
    by_code: dict[str, Division]
    by_name: dict[str, tuple[Division, ...]]  # full names and aliases -> divisions
    full_names: frozenset[str]  # the keys of by_name that are official names, not aliases
    children: dict[Division, tuple[Division, ...]]  # a division -> its divisions one level down
    provinces: tuple[Division, ...]
    longest: int  # the longest name, in characters
    lengths: dict[str, tuple[int, ...]]  # a first character -> the lengths of the names it starts, longest first

    def named(self, name: str, level: int | None = None) -> tuple[Division, ...]:
        found = self.by_name.get(name, ())
        return found if level is None else tuple(d for d in found if d.level == level)

    def cities_of(self, province: Division) -> tuple[Division, ...]:
        return self.children.get(province, ())

    def districts_of(self, city: Division) -> tuple[Division, ...]:
        return self.children.get(city, ())


def _aliases(raw) -> list[str]:
    if not raw:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def _load_jionlp_list() -> dict:
    with contextlib.redirect_stdout(io.StringIO()):  # its banner
        import jionlp  # noqa: PLC0415 (slow, prints: loaded on first use only)

        return jionlp.china_location_loader(detail=False)


_lock = threading.Lock()


@contextlib.contextmanager
def _no_collections():
    """The cyclic collector off while the index's tens of thousands of objects are made: each early
    collection would walk them all again (a load takes 25 ms instead of 400)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _cache_path() -> Path:
    """Where the built index is kept between processes: named by what it is built from (jionlp's version,
    this module's source, Python's version), so a new package or a change here builds a new one."""
    key = hashlib.sha256()
    key.update(importlib.metadata.version("jionlp").encode())
    key.update(Path(__file__).read_bytes())
    key.update(sys.version.encode())
    return Path(settings.VAR_DIR) / "cache" / f"cn-divisions-{key.hexdigest()[:16]}.pickle"


@cache
def _index() -> Index:
    """The index from the file an earlier process built (a few tens of ms), else built (about half a
    second: jionlp's import and its list) and kept for the next process. The file is this process's
    own output, written whole (a temporary file renamed); one that cannot be read is built again."""
    try:
        path = _cache_path()
    except Exception:  # noqa: BLE001 - no package metadata or settings: build it
        return _build_index()
    try:
        with path.open("rb") as handle, _no_collections():
            index = pickle.load(handle)  # noqa: S301 - our own file (see the docstring)
        if isinstance(index, Index):
            return index
    except FileNotFoundError:
        pass
    except Exception:  # noqa: BLE001 - a damaged file: built again and replaced
        logger.warning("the division index cache %s cannot be read; building it again", path, exc_info=True)
    with _no_collections():
        index = _build_index()
    _keep(index, path)
    return index


def _keep(index: Index, path: Path) -> None:
    """Write the index for the next process; a folder that takes no file only costs that process's build."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
    except Exception:  # noqa: BLE001 - the index is built; keeping it is only a saving
        logger.warning("the division index cannot be kept in %s", path.parent, exc_info=True)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _build_index() -> Index:
    data = _load_jionlp_list()
    by_code: dict[str, Division] = {}
    names: dict[str, list[Division]] = {}
    full: set[str] = set()
    children: dict[Division, list[Division]] = {}

    def add(division: Division, aliases: list[str], parent: Division | None) -> None:
        by_code.setdefault(division.code, division)
        full.add(division.name)
        names.setdefault(division.name, []).append(division)
        zone = any(word in division.name for word in ZONE_WORDS)
        for alias in () if zone else aliases:
            if len(alias) >= 2 and alias != division.name:
                names.setdefault(alias, []).append(division)
        if parent is not None:
            children.setdefault(parent, []).append(division)

    def city_aliases(name: str, raw) -> list[str]:
        aliases = _aliases(raw)
        short = next((a for a in aliases if len(a) >= 2 and not name.startswith(a + "市") and a != name), "")
        if short and name.endswith("自治州") and not short.endswith("州"):
            aliases.append(short + "州")  # 恩施州, 延边州: how addresses write them
        if short and name.endswith("地区"):
            aliases.append(short + "地区")
        return aliases

    provinces = []
    for province_name, province_data in sorted(data.items(), key=lambda kv: kv[1]["_admin_code"]):
        code = province_data["_admin_code"]
        if code[:2] in NOT_MAINLAND:
            continue
        province = Division(code, province_name, PROVINCE, province_name)
        add(province, _aliases(province_data.get("_alias")), None)
        provinces.append(province)
        for city_name, city_data in sorted(province_data.items()):
            if city_name.startswith("_"):
                continue
            counties = [(k, v) for k, v in sorted(city_data.items()) if not k.startswith("_")]
            if city_name in DIRECT:
                # County-level units governed by the province (仙桃市, 济源市): cities with no districts.
                for county_name, county_data in counties:
                    unit = Division(county_data["_admin_code"], county_name, CITY, province_name, county_name)
                    add(unit, city_aliases(county_name, county_data.get("_alias")), province)
                continue
            city = Division(city_data["_admin_code"], city_name, CITY, province_name, city_name)
            add(city, city_aliases(city_name, city_data.get("_alias")), province)
            for county_name, county_data in counties:
                if county_name in DIRECT:
                    continue  # 东莞市's placeholder: the city has no districts
                district = Division(county_data["_admin_code"], county_name, DISTRICT, province_name, city_name)
                add(district, _aliases(county_data.get("_alias")), city)
    lengths: dict[str, set[int]] = {}
    for name in names:
        lengths.setdefault(name[0], set()).add(len(name))
    return Index(
        by_code=by_code,
        by_name={name: tuple(found) for name, found in names.items()},
        full_names=frozenset(full),
        children={code: tuple(found) for code, found in children.items()},
        provinces=tuple(provinces),
        longest=max(len(name) for name in names),
        lengths={first: tuple(sorted(found, reverse=True)) for first, found in lengths.items()},
    )


_loaded: list[Index] = []


def divisions() -> Index:
    """The index, built on first use (about 1-2 s, once per process; thread-safe)."""
    if not _loaded:
        with _lock:
            if not _loaded:
                _loaded.append(_index())
    return _loaded[0]
