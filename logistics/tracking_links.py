"""Signed public tracking links: /track/<token>/ opens one order without a login.

The implementation lives in orders.tracking_links (customer e-mails need the same link and
orders cannot import logistics); this module keeps the names logistics code uses.
"""

from orders.tracking_links import (
    SALT,
    order_number_from_token,
    token_access,
    tracking_token,
    tracking_url_for_order,
    tracking_view_token,
    tracking_view_url_for_order,
)

__all__ = [
    "SALT",
    "order_number_from_token",
    "token_access",
    "tracking_token",
    "tracking_url_for_order",
    "tracking_view_token",
    "tracking_view_url_for_order",
]
