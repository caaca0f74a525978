"""Signed public tracking links: /track/<token>/ opens one order without a login.

The one implementation: labels (logistics.documents via logistics.tracking_links, which re-exports
these) and customer e-mails (orders.notifications) carry the same link. The page itself is
logistics' (URL name ``public:track_order``); this module only names it.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "oms.tracking-link"


def tracking_token(order_number: str) -> str:
    return signing.dumps({"o": order_number}, salt=SALT, compress=True)


def order_number_from_token(token: str) -> str | None:
    max_age = settings.TRACKING_LINK_MAX_AGE_DAYS * 86400
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return data.get("o") if isinstance(data, dict) else None


def tracking_url_for_order(order_number: str) -> str:
    return settings.SITE_URL + reverse("public:track_order", args=[tracking_token(order_number)])
