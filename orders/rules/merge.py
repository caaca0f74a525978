"""Who may merge automatically (自动合单): pure reads, no writes (orders/services/merge.py writes).

Two orders merge when they are on the same channel, in the same currency, to the same buyer (normalised
ship-to name and phone: case, width, spaces and punctuation ignored; the phone's last 11 digits, so
"+86 138 0013 8000" is "13800138000") at the same full address (country, province, city, district, both
address lines and postcode, normalised the same way), arrived within ``MergeSettings.window_minutes`` of
the group's first order, and each is confirmed (not yet routed), not on hold, not cancelled and carries
none of the excluded tags (``MergeSettings.exclude_tags``, by default ``no-merge`` and ``presale``).
"""

from __future__ import annotations

import re
import unicodedata

from ..status import OrderStatus

ADDRESS_PARTS = ("country", "province", "city", "district", "address1", "address2", "postcode")
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)


def norm(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def phone_key(text: str) -> str:
    return re.sub(r"\D", "", text or "")[-11:]


def merge_key(order) -> tuple | None:
    """The buyer-and-address key, or None when the order lacks a name, a phone or an address line."""
    name, phone = norm(order.ship_name), phone_key(order.ship_phone)
    address = tuple(norm(getattr(order, f"ship_{part}")) for part in ADDRESS_PARTS)
    if not name or not phone or not address[4]:
        return None
    return (order.channel_id, (order.currency or "").upper(), name, phone, address)


def why_not(order, settings) -> str:
    """Why the order may not merge automatically now ('' when it may)."""
    if not settings.enabled:
        return "automatic merge is off"
    if order.status != OrderStatus.CONFIRMED:
        return f"it is {order.get_status_display()}"
    if order.on_hold:
        return "it is on hold"
    if order.presale_waiting:
        return "it is a presale order still waiting for its ship-from day"
    excluded = sorted(set(order.tag_list) & set(settings.exclude_tag_list))
    if excluded:
        return f"it is tagged {', '.join(excluded)}"
    if merge_key(order) is None:
        return "it has no ship-to name, phone or address"
    return ""


def clusters(orders: list, window_seconds: float) -> list[list]:
    """Orders grouped by ``merge_key``, each key's orders cut into runs of at most the window from the run's
    first order (by arrival): the groups, of two or more orders each."""
    by_key: dict[tuple, list] = {}
    for order in orders:
        by_key.setdefault(merge_key(order), []).append(order)
    found = []
    for key, members in by_key.items():
        if key is None:
            continue
        members.sort(key=lambda o: (o.created_at, o.pk))
        run: list = []
        for order in members:
            if run and (order.created_at - run[0].created_at).total_seconds() > window_seconds:
                if len(run) > 1:
                    found.append(run)
                run = []
            run.append(order)
        if len(run) > 1:
            found.append(run)
    return found
