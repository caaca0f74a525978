"""Signed public tracking links: /track/<token>/ opens one order without a login.

The one module: labels (logistics) and customer e-mails (orders.care.notifications) carry the same link. The
page itself is logistics' (URL name ``public:track_order``); this module only names it.
"""

import functools
import time

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "oms.tracking-link"


def tracking_token(order_number: str) -> str:
    """The link sent by e-mail/SMS (and printed on labels): it opens the order and allows the changes its
    stage allows."""
    return signing.dumps({"o": order_number}, salt=SALT, compress=True)


def tracking_view_token(order_number: str) -> str:
    """The link a lookup by order number plus e-mail or phone digits gives: viewing only. Changes need the
    e-mailed link or a one-time code (logistics/access_codes.py)."""
    return signing.dumps({"o": order_number, "v": 1}, salt=SALT, compress=True)


def token_access(token: str) -> tuple[str | None, bool]:
    """(order number, may change) of a tracking link; (None, False) when it is not valid or has expired."""
    verified = _verified(token, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    if verified is None:
        return None, False
    data, signed_at = verified
    if time.time() - signed_at > settings.TRACKING_LINK_MAX_AGE_DAYS * 86400:  # as signing.loads(max_age=...)
        return None, False
    return data["o"], not data.get("v")


@functools.lru_cache(maxsize=4096)
def _verified(token: str, _key: str, _fallbacks: tuple) -> tuple[dict, int] | None:
    """(data, signed at) of a well-formed token whose signature holds, else None: the signature checked once per
    process and token (a page view checked it each time); its age is checked on every use (`token_access`).
    The keys are arguments so that a change of them is a new entry."""
    try:
        data = signing.loads(token, salt=SALT)  # no max_age: the signature (which covers the time) only
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("o"), str):
        return None
    return data, signing.b62_decode(token.rsplit(":", 2)[1])


def order_number_from_token(token: str) -> str | None:
    """The order a tracking link opens (either kind of link)."""
    return token_access(token)[0]


def tracking_url_for_order(order_number: str) -> str:
    """The link for the customer's own messages (e-mail, SMS): viewing and the changes the stage allows."""
    return settings.SITE_URL + reverse("public:track_order", args=[tracking_token(order_number)])


def tracking_view_url_for_order(order_number: str) -> str:
    """The link printed on a shipping label, which anyone handling the parcel can read: viewing only."""
    return settings.SITE_URL + reverse("public:track_order", args=[tracking_view_token(order_number)])
