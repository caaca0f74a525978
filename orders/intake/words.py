"""Intake's messages in the reader's language: a text marked with ``gettext_lazy`` and its values,
formatted only when shown (``say``). The staff pages show it in the person's language; the JSON API
(``oms.api.api_view`` overrides the language to English) and the stored records (``in_english``) in
English. The values are data (SKUs, amounts, Chinese place names) and are never translated."""

import re

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from oms.wording import NUMBER, known, known_shape


def _format(template, params: dict) -> str:
    text = str(template)
    return text % {k: str(v) if isinstance(v, Promise) else v for k, v in params.items()} if params else text


_lazy_format = lazy(_format, str)


def say(template, **params) -> str:
    """``template`` (a gettext_lazy text with ``%(name)s`` places) formatted with ``params`` when it is
    turned into text, in the language active then: translation first, formatting after."""
    return _lazy_format(template, params)


def in_english(value) -> str:
    """A message as it is stored and sent to machines."""
    with override("en"):
        return str(value)


# ---- the intake checks' messages (orders/intake/canonical.py) -----------------------------------------------
NUL = _("contains a NUL character (\\u0000), which cannot be stored.")
LONE_SURROGATE = _("contains an invalid character (a lone UTF-16 surrogate).")
UNDECODABLE = _("contains bytes that are not valid in the file's encoding (save the file as UTF-8).")
NOT_A_NUMBER = _("'%(value)s' is not a number.")
AT_LEAST_ONE_GOT = _("must be at least 1, got %(value)s.")
NOT_WHOLE = _("'%(value)s' is not a whole number.")
PAST_LARGEST = _("is more than the largest amount stored (%(largest)s).")
BETWEEN_DAYS = _("must be between %(earliest)s and %(latest)s.")
MUST_BE_TEXT = _("must be text.")
MUST_BE_WHOLE = _("must be a whole number.")
PRIORITY_RANGE = _("must be a whole number from 1 to 9.")
NEEDS_A_LINE = _("an order needs at least one line.")
AT_LEAST_ONE = _("must be at least 1.")
NOT_A_DATE_OR_TIME = _("'%(value)s' is not a date (use YYYY-MM-DD or ISO 8601).")
QUOTED_PROBLEM = _("'%(value)s' %(problem)s")
NOT_A_DATE = _("'%(value)s' is not a date (use YYYY-MM-DD).")
GIFT_AT_ZERO = _("a gift line is at zero price, not %(price)s.")
NOT_A_CURRENCY = _("'%(value)s' is not a supported currency.")
NOT_PREPAID_OR_COD = _("'%(value)s' is not prepaid or cod.")
REQUIRED = _("is required.")
MORE_THAN = _("%(value)s is more than %(most)s.")
NOT_AN_AMOUNT = _("'%(value)s' is not an amount of zero or more.")
VALUE_PROBLEM = _("%(value)s %(problem)s")
TOO_LONG = _("is %(length)s characters long; at most %(limit)s fit.")
NO_COUNTRY_NAME = _("is %(length)s characters long; no country name is.")
TOO_MANY_LINES = _("%(count)s lines; an order holds at most %(most)s.")
LINES_ADD_UP = _("the lines add up to %(total)s, %(problem)s")
INVALID_PRICE_MORE = _("invalid price: %(value)s is more than %(most)s.")
INVALID_PRICE = _("invalid price: %(value)s %(problem)s")
MORE_THAN_TOTAL = _("%(amount)s is more than the order's total %(total)s.")
UNKNOWN_FIELD = _("unknown field; known: %(known)s.")


def _msgids() -> list[str]:
    """The English templates of the messages above (their msgids), for the known phrases."""
    from django.utils.translation import override as language

    with language(None):  # no catalogue: a marked text is its msgid
        texts = [str(value) for value in globals().values() if isinstance(value, Promise)]
    # A template that is mostly its values ("%(value)s %(problem)s") would match any text: left out.
    return [t for t in texts if len(re.sub(r"%\(\w+\)s", "", t).strip(" '.:;,")) >= 8]


# An import job stores its rows' errors in English; its page reads them in the reader's language.
known(*_msgids())
# A phrase made mostly of its values takes only what its writer can have written (``oms.wording.known_shape``):
# "%(value)s is more than %(most)s." is a quantity past the largest one (a number, cut at 40 characters), so a
# person's text such as "the box is more than 2 kg." stays as it came.
known_shape("%(value)s is more than %(most)s.", value=r"[+-]?\.?[0-9][0-9_.,eE+-]*…?", most=NUMBER)
