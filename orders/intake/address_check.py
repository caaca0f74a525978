"""The address step of the intake check (orders/intake/canonical.py ``check``): what a shipping address
needs before a carrier takes it, and an order to China's province, city and district completed from its
one-line address (orders/intake/address_cn.py, with suggestions when it does not resolve).

The functions take the CanonicalAddress / CanonicalOrder of canonical.py, which imports this module (so
they are not annotated with those names: the import points one way).
"""

import re

from . import address_cn

# ISO 3166-1 alpha-2 codes the OMS accepts (canonical.py COUNTRY_ALIASES: the names channels send instead).
ISO_COUNTRIES = frozenset(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV "
    "BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM "
    "IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD "
    "ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE "
    "PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST "
    "SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS "
    "YE YT ZA ZM ZW".split()
)
POSTCODE_PATTERNS = {
    "CN": r"\d{6}",
    "US": r"\d{5}(-\d{4})?",
    "DE": r"\d{5}",
    "FR": r"\d{5}",
    "JP": r"\d{3}-?\d{4}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d",
    "AU": r"\d{4}",
    "NL": r"\d{4} ?[A-Z]{2}",
    "IT": r"\d{5}",
    "ES": r"\d{5}",
    "KR": r"\d{5}",
    "SG": r"\d{6}",
    "TW": r"\d{3}(\d{2,3})?",
    "IN": r"\d{6}",
}


def fill_cn_address(order) -> str:
    """An order to China: its empty province, city and district filled from the address line (or the
    parts given), recorded in ``order.address_filled``; a given value is never replaced. Returns the
    hold note when the address does not resolve in the division list ("" when it does)."""
    a = order.ship_to
    line = " ".join(v for v in (a.address1, a.address2) if v)
    done = address_cn.complete(province=a.province, city=a.city, district=a.district, line=line)
    for name, value in done.filled.items():
        setattr(a, name, value)
    order.address_filled.update(done.filled)
    return done.hold_note() if done.problems else ""


def address_problems(address) -> list[str]:
    problems = []
    if not address.name:
        problems.append("recipient name missing")
    if not address.address1:
        problems.append("street address missing")
    if not address.city:
        problems.append("city missing")
    if not address.country:
        problems.append("country missing")
    elif address.country not in ISO_COUNTRIES:
        problems.append(f"unknown country '{address.country}'")
    if not address.phone and not address.email:
        problems.append("no phone or e-mail for the carrier")
    pattern = POSTCODE_PATTERNS.get(address.country)
    if pattern and address.postcode and not re.fullmatch(pattern, address.postcode.upper()):
        problems.append(f"postcode '{address.postcode}' is not valid for {address.country}")
    return problems
