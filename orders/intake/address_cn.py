"""Chinese addresses: one line into province, city, district and the rest, checked against the official
division list (``oms.cn_divisions``, from jionlp). Pure functions, no database.

- ``parse_address(text)``: "湖南长沙岳麓区麓山南路932号" -> 湖南省 长沙市 岳麓区 + 麓山南路932号; a missing
  province or city is inferred from the city or district; names that do not resolve, or that contradict
  each other (a district that is not in the city before it), come back as ``problems`` with
  ``suggestions`` (the closest divisions).
- ``complete(...)``: what intake fills in an order's empty province/city/district from its address
  line, and why it holds one that does not resolve. Explicit parts are checked, never replaced.

Why not ``jionlp.parse_location``: it costs 5-15 ms an address (its own notes name the triple loop),
and it silently moves "江苏省长沙市" to 湖南省 where an order must stop. This matcher reads the same
division list, walks the text once from the left (a dictionary look-up per length) and takes
tens of microseconds. ``docs/decisions/0017-chinese-addresses.md`` says more.
"""

import difflib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache

from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, override

from oms.cn_divisions import CITY, DISTRICT, PROVINCE, Division, divisions

from ..wording import known
from .words import say

# Between the parts: spaces, commas, slashes, dashes (full-width ones are made half-width first).
SEPARATORS = " \t\r\n,;/-|_.、·"
# Written before an address and meaning nothing for it.
COUNTRY_PREFIXES = ("中华人民共和国", "中国大陆", "中国", "CHINA", "China", "PRC", "CN")
# District names used in many cities for different places: never a contradiction on their own.
GENERIC = frozenset({"城区", "郊区", "矿区", "市中区", "市辖区", "新区", "开发区", "高新区"})
# What follows a city in an address without being a district (zones, landmarks): not held.
NOT_DISTRICTS = ("高新", "经开", "开发", "园区", "新区", "保税", "工业", "风景", "科技", "港区", "自贸", "街道")
DISTRICT_LIKE = re.compile(r"([\u4e00-\u9fff]{1,4}?(?:区|县|旗))")
CITY_LIKE = re.compile(r"([\u4e00-\u9fff]{1,6}?(?:市|州|盟|地区))")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Parses kept per process: more than a batch of intake (1,000 orders) holds, so a batch parses each
# distinct address once; no more, so a long import's memory stays that of a batch.
PARSE_CACHE = 1024
# Why an address does not resolve, in the reader's language when shown (words.say); names stay Chinese.
NOT_LISTED = gettext_noop("Address not in China's division list: %(problems)s.")
NOT_LISTED_MEANT = gettext_noop("Address not in China's division list: %(problems)s. Did you mean: %(suggestions)s?")
NOT_A_PROVINCE_OF = _("'%(name)s' is not a province of %(where)s (it is in %(path)s)")
NOT_A_CITY_OF_IN = _("'%(name)s' is not a city of %(where)s (it is in %(path)s)")
NOT_A_DISTRICT_OF_IN = _("'%(name)s' is not a district of %(where)s (it is in %(path)s)")
known(  # the hold note and its parts, shown in the reader's language (oms/wording.py)
    NOT_LISTED_MEANT,
    NOT_LISTED,
    "'%(name)s' is not a province of %(where)s (it is in %(path)s)",
    "'%(name)s' is not a city of %(where)s (it is in %(path)s)",
    "'%(name)s' is not a district of %(where)s (it is in %(path)s)",
    "'%(name)s' is not a city of %(where)s",
    "'%(name)s' is not a district of %(where)s",
    "no city of %(where)s found in '%(text)s'",
    "no province or city of China found in '%(text)s'",
)


@dataclass(frozen=True)
class ParsedAddress:
    province: str = ""
    city: str = ""
    district: str = ""
    detail: str = ""  # the rest: street, number, building, room
    inferred: tuple[str, ...] = ()  # the parts not written in the text: ("province", "city")
    problems: tuple[str, ...] = ()  # why the address does not resolve (empty: it does)
    suggestions: tuple[str, ...] = ()  # the closest divisions, "湖南省 长沙市 岳麓区"

    @property
    def ok(self) -> bool:
        return not self.problems

    def parts(self) -> dict[str, str]:
        return {"province": self.province, "city": self.city, "district": self.district, "detail": self.detail}


def normalize(text: str) -> str:
    """Full-width letters, digits and punctuation made half-width (NFKC), runs of spaces made one."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")
    return " ".join(text.split())


def has_han(text: str) -> bool:
    return bool(HAN.search(text or ""))


# ---- the matcher ----------------------------------------------------------------------------


def _names_at(text: str, pos: int) -> list[tuple[int, Division, bool]]:
    """Every division whose name or alias starts at ``pos``: (length, division, is_full_name), longest first."""
    index = divisions()
    if pos >= len(text):
        return []
    found = []
    for length in index.lengths.get(text[pos], ()):
        name = text[pos : pos + length]
        if len(name) == length:
            for division in index.by_name.get(name, ()):
                found.append((length, division, name in index.full_names))
    return found


def _usable(text: str, pos: int, length: int, full: bool) -> bool:
    """An alias counts only where it stands as a name: at the end, before a separator or before
    another division's name (湖南长沙); 天河路 and 南京东路 are streets, not 天河区 or 南京市."""
    if full:
        return True
    after = pos + length
    if after >= len(text) or text[after] in SEPARATORS:
        return True
    return bool(_names_at(text, after))


def _fits(division: Division, found: dict[int, Division]) -> bool:
    """Whether the division agrees with the parts found before it (its province, its city)."""
    province, city = found.get(PROVINCE), found.get(CITY)
    if province is not None and division.province != province.name:
        return False
    if city is not None and division.level == DISTRICT and division.city != city.name:
        return False
    return True


def _repeats(division: Division, found: dict[int, Division]) -> bool:
    """The same division again (江苏省 江苏省苏州市, from a given part and the line): skipped."""
    return division in found.values()


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in SEPARATORS:
        pos += 1
    return pos


def _strip_country(text: str) -> str:
    for prefix in COUNTRY_PREFIXES:
        if text.startswith(prefix) and (len(prefix) > 2 or not text[len(prefix) : len(prefix) + 1].isalpha()):
            return text[len(prefix) :].lstrip(SEPARATORS)
    return text


@dataclass
class _Walk:
    found: dict[int, Division] = field(default_factory=dict)
    written: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    ambiguous: tuple[Division, ...] = ()


def _walk(text: str, pos: int, walk: _Walk) -> int:
    """Match division names from ``pos`` while they follow each other; returns where the rest starts."""
    while pos < len(text) and DISTRICT not in walk.found:
        pos = _skip(text, pos)
        matches = [m for m in _names_at(text, pos) if _usable(text, pos, m[0], m[2])]
        if not matches:
            break
        longest = matches[0][0]
        fitting = [(n, d) for n, d, _full in matches if _fits(d, walk.found)]
        repeats = [(n, d) for n, d in fitting if _repeats(d, walk.found)]
        new = [(n, d) for n, d in fitting if not _repeats(d, walk.found) and d.level not in walk.found]
        deeper = [(n, d) for n, d in new if d.level > max(walk.found, default=0)]
        if deeper:
            length = max(n for n, _d in deeper)
            level = min(d.level for n, d in deeper if n == length)
            chosen = [d for n, d in deeper if n == length and d.level == level]
            if len(chosen) > 1:
                walk.ambiguous = tuple(chosen)
                return pos + length
            walk.found[level] = chosen[0]
            walk.written.add(level)
            pos += length
            continue
        if repeats:
            pos += max(n for n, _d in repeats)
            continue
        name = text[pos : pos + longest]
        if name in GENERIC or not walk.found:
            break
        # A division that contradicts the ones before it: 江苏省长沙市, 杭州市鼓楼区.
        others = tuple(dict.fromkeys(d for n, d, _full in matches if n == longest))
        where = walk.found[max(walk.found)]
        template = {PROVINCE: NOT_A_PROVINCE_OF, CITY: NOT_A_CITY_OF_IN, DISTRICT: NOT_A_DISTRICT_OF_IN}[
            others[0].level
        ]
        walk.problems.append(say(template, name=name, where=where.name, path=others[0].path))
        walk.suggestions += [d.path for d in others[:3]] + _closest(name, where, others[0].level)
        return pos + longest
    return pos


def _closest(name: str, parent: Division | None, level: int, n: int = 3) -> list[str]:
    """The divisions of ``parent`` at ``level`` (all of them without a parent) whose names are closest."""
    index = divisions()
    if parent is None:
        pool = [d for d in index.by_code.values() if d.level == level]
    elif parent.level == PROVINCE and level == DISTRICT:
        pool = [d for city in index.cities_of(parent) for d in index.districts_of(city)]
    else:
        pool = [d for d in index.children.get(parent, ()) if d.level == level]
    by_name = {d.name: d for d in pool}
    close = difflib.get_close_matches(name, list(by_name), n=n, cutoff=0.5)
    return [by_name[c].path for c in close]


def _unknown_part(rest: str, walk: _Walk) -> None:
    """A city or district the text names that is not on the list ("杭州市火星区"): a problem."""
    province, city = walk.found.get(PROVINCE), walk.found.get(CITY)
    if city is None and province is not None:
        match = CITY_LIKE.match(rest)
        if match and not any(w in match.group(1) for w in NOT_DISTRICTS):
            name = match.group(1)
            walk.problems.append(say(_("'%(name)s' is not a city of %(where)s"), name=name, where=province.name))
            walk.suggestions += _closest(name, province, CITY) + _named_later(rest[match.end() :], province)
            return
    if city is not None and DISTRICT not in walk.found and divisions().districts_of(city):
        match = DISTRICT_LIKE.match(rest)
        if match and match.group(1) not in GENERIC and not any(w in match.group(1) for w in NOT_DISTRICTS):
            name = match.group(1)
            walk.problems.append(say(_("'%(name)s' is not a district of %(where)s"), name=name, where=city.name))
            walk.suggestions += _closest(name, city, DISTRICT)


def _named_later(rest: str, province: Division) -> list[str]:
    """Districts or cities of the province named a little further on (苏洲市姑苏区: 姑苏区 is in 苏州市)."""
    found = []
    for pos in range(min(len(rest), 12)):
        for _n, division, _full in _names_at(rest, pos):
            if division.province == province.name and division.level > PROVINCE and division.path not in found:
                found.append(division.path)
        if found:
            break
    return found


def _infer(walk: _Walk) -> list[str]:
    """Fill the levels above the lowest one found; returns the names of the parts inferred."""
    index = divisions()
    found, inferred = walk.found, []
    lowest = found.get(DISTRICT) or found.get(CITY)
    if lowest is not None and CITY not in found and lowest.level == DISTRICT:
        city = next(d for d in index.named(lowest.city, CITY) if d.province == lowest.province)
        found[CITY] = city
        inferred.append("city")
    if lowest is not None and PROVINCE not in found:
        found[PROVINCE] = index.named(lowest.province, PROVINCE)[0]
        inferred.append("province")
    province = found.get(PROVINCE)
    if province is not None and CITY not in found:
        cities = index.cities_of(province)
        if len(cities) == 1 and cities[0].name == province.name:  # a 直辖市: the city is the province
            found[CITY] = cities[0]
            inferred.append("city")
    return inferred


def parse_address(text: str) -> ParsedAddress:
    """One line of a Chinese address into its parts (cached: a batch parses each distinct text once, and
    each distinct shape: the same text with other digits, below)."""
    text = normalize(text)
    shape = text.translate(DIGITS_MASKED)
    if shape != text:
        parsed, start = _parse_shape(shape)
        if parsed.ok:
            return replace(parsed, detail=_strip_country(text)[start:].strip())
    return _parse_cached(text)


# A line's shape: its digits all made "0". No division's name holds a digit, so the matcher takes the
# same steps over the line and its shape (a digit is no separator and starts no name, as "0" is) and
# finds the same parts at the same places: what addresses that differ only in their numbers (house,
# building, room, the phone in the line) share is parsed once. Only a line that resolves is taken
# from its shape; one with problems is parsed as written (its problems quote the text).
DIGITS_MASKED = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=PARSE_CACHE)
def _parse_shape(shape: str) -> tuple[ParsedAddress, int]:
    return _parse(shape, with_start=True)


@lru_cache(maxsize=PARSE_CACHE)
def _parse_cached(text: str) -> ParsedAddress:
    return _parse(text)


def _parse(text: str, *, with_start: bool = False):
    """Parse a normalized line (``parse_address`` normalizes and caches); ``with_start``: and where the
    rest (``detail``) starts in the line without its country."""
    text = _strip_country(text)
    walk = _Walk()
    pos = _walk(text, 0, walk)
    start = _skip(text, pos)
    rest = text[start:].strip()
    if walk.ambiguous:
        name = walk.ambiguous[0].name
        paths = [d.path for d in walk.ambiguous]
        problem = say(
            _("'%(name)s' is in more than one place: %(places)s; write the province and city"),
            name=name,
            places=", ".join(paths),
        )
        parsed = ParsedAddress(detail=rest, problems=(problem,), suggestions=tuple(paths[:5]))
        return (parsed, start) if with_start else parsed
    if not walk.problems:
        _unknown_part(rest, walk)
    inferred = _infer(walk) if not walk.problems else []
    if not walk.problems and CITY not in walk.found:
        head = text[:12]
        if PROVINCE in walk.found:
            walk.problems.append(
                say(_("no city of %(where)s found in '%(text)s'"), where=walk.found[PROVINCE].name, text=head)
            )
            walk.suggestions += _named_later(rest, walk.found[PROVINCE])
        else:
            walk.problems.append(say(_("no province or city of China found in '%(text)s'"), text=head))
            walk.suggestions += _closest(head[:4], None, CITY) + _closest(head[:3], None, PROVINCE)
    found = walk.found
    city = found.get(CITY)
    district = found.get(DISTRICT)
    parsed = ParsedAddress(
        province=found[PROVINCE].name if PROVINCE in found else "",
        city=city.name if city else "",
        district=district.name if district else "",
        detail=rest,
        inferred=tuple(inferred),
        problems=tuple(walk.problems),
        suggestions=tuple(dict.fromkeys(walk.suggestions))[:5],
    )
    return (parsed, start) if with_start else parsed


# ---- intake: fill what is empty, hold what does not resolve --------------------------------


@dataclass(frozen=True)
class Completion:
    filled: dict[str, str]  # field -> value, only for fields that were empty
    problems: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()

    def hold_note(self) -> str:
        """The review hold's note: what does not resolve, and the closest divisions."""
        with override("en"):  # stored with the hold: English, like every hold note
            problems = "; ".join(str(p) for p in self.problems)
        if self.suggestions:
            return NOT_LISTED_MEANT % {"problems": problems, "suggestions": " / ".join(self.suggestions)}
        return NOT_LISTED % {"problems": problems}


NOTHING = Completion(filled={})


def complete(*, province: str, city: str, district: str, line: str) -> Completion:
    """What an order to China needs besides what the channel gave: its empty province, city and district
    from the address line (or the parts it gave), never a given value replaced. An address whose
    Chinese names do not resolve, or contradict each other (a district not in the given city), comes
    back with problems and suggestions instead (intake holds it). Nothing in Chinese: nothing to check.
    Cached per distinct address (``PARSE_CACHE``): a batch parses each one once."""
    return _complete(*(normalize(v) for v in (province, city, district, line)))


@lru_cache(maxsize=PARSE_CACHE)
def _complete(province: str, city: str, district: str, line: str) -> Completion:
    given = {"province": province, "city": city, "district": district}
    if not any(has_han(v) for v in (*given.values(), line)):
        return NOTHING
    # The parts the channel gave in Chinese, in their order, then the line: one text to walk.
    text = " ".join([v for v in given.values() if has_han(v)] + [line])
    parsed = parse_address(text)
    if not parsed.ok:
        if any(v and not has_han(v) for v in given.values()):
            # The channel named the place in Latin letters ("Shanghai") and wrote the street in Chinese:
            # the line alone need not name a division, and Latin names are not checked. Nothing to say.
            return NOTHING
        return Completion(filled={}, problems=parsed.problems, suggestions=parsed.suggestions)
    present = {v for v in given.values() if v}
    filled = {
        name: value
        for name, value in (("province", parsed.province), ("city", parsed.city), ("district", parsed.district))
        if not given[name] and value and value not in present
    }
    return Completion(filled=filled)


def cache_clear() -> None:
    _parse_cached.cache_clear()
    _parse_shape.cache_clear()
    _complete.cache_clear()


def filled_message(filled: dict[str, str]) -> str:
    """The timeline's words for what intake filled: "Address completed from the division list: ..."."""
    from ..wording import msg, msg_list

    parts = msg_list([msg("%(name)s %(value)s", name=msg(FILLED_NAMES.get(n, n)), value=v) for n, v in filled.items()])
    return msg(gettext_noop("Address completed from the division list (it was empty): %(parts)s."), parts=parts)


# The address fields intake may fill, as the timeline names them.
FILLED_NAMES = {
    "province": gettext_noop("province"),
    "city": gettext_noop("city"),
    "district": gettext_noop("district"),
    "postcode": gettext_noop("postcode"),
}
