"""The address step of the intake check (orders/intake/canonical.py ``check``): what a shipping address
needs before a carrier takes it, and an order to China's province, city and district completed from its
one-line address (orders/intake/address_cn.py, with suggestions when it does not resolve).

The functions take the CanonicalAddress / CanonicalOrder of canonical.py, which imports this module (so
they are not annotated with those names: the import points one way).
"""

import re

from django.utils.translation import gettext_noop

from ..wording import known
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


NAME_MISSING = gettext_noop("recipient name missing")
STREET_MISSING = gettext_noop("street address missing")
CITY_MISSING = gettext_noop("city missing")
COUNTRY_MISSING = gettext_noop("country missing")
UNKNOWN_COUNTRY = gettext_noop("unknown country '%(country)s'")
NO_CONTACT = gettext_noop("no phone or e-mail for the carrier")
BAD_POSTCODE = gettext_noop("postcode '%(postcode)s' is not valid for %(country)s")
known(NAME_MISSING, STREET_MISSING, CITY_MISSING, COUNTRY_MISSING, UNKNOWN_COUNTRY, NO_CONTACT, BAD_POSTCODE)


def address_problems(address) -> list[str]:
    """What makes ``address`` unfit for a label, in English (stored in the hold's note; shown in the reader's
    language through the known phrases below)."""
    problems = []
    if not address.name:
        problems.append(NAME_MISSING)
    if not address.address1:
        problems.append(STREET_MISSING)
    if not address.city:
        problems.append(CITY_MISSING)
    if not address.country:
        problems.append(COUNTRY_MISSING)
    elif address.country not in ISO_COUNTRIES:
        problems.append(UNKNOWN_COUNTRY % {"country": address.country})
    if not address.phone and not address.email:
        problems.append(NO_CONTACT)
    pattern = POSTCODE_PATTERNS.get(address.country)
    if pattern and address.postcode and not re.fullmatch(pattern, address.postcode.upper()):
        problems.append(BAD_POSTCODE % {"postcode": address.postcode, "country": address.country})
    return problems
