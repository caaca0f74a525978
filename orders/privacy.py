"""隐私面单: the recipient's name and phone as labels and packing slips print them when the order's channel
says so (``Channel.mask_recipient``); the address stays whole (the courier needs it), and the carrier's
own data (booking, tracking) keeps the full values.

- a Chinese name keeps its first and, from three characters, its last character: 张三 → 张*, 王小五 → 王*五,
  欧阳小明 → 欧**明;
- a Latin name keeps the first letter of the first word and the initial of the last: John Smith → J*** S.,
  Madonna → M***;
- a phone keeps its first three and last four digits (a mainland mobile, with or without +86):
  13600136000 → 136****6000; other numbers keep their last four digits.
"""

import re

_LATIN = re.compile(r"^[\x00-\u024f\s.'-]+$")


def mask_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        return ""
    if _LATIN.match(name):
        words = [w for w in re.split(r"[\s]+", name) if w]
        first = words[0][:1].upper() + "***"
        return f"{first} {words[-1][:1].upper()}." if len(words) > 1 else first
    chars = name.replace(" ", "")
    if len(chars) == 1:
        return chars
    if len(chars) == 2:
        return chars[0] + "*"
    return chars[0] + "*" * (len(chars) - 2) + chars[-1]


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):  # +86 136 0013 6000
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return digits


def recipient_masked(order) -> bool:
    """Whether the order's labels and packing slips mask the recipient (its channel's setting)."""
    channel = getattr(order, "channel", None)
    return bool(channel is not None and channel.mask_recipient)


def printed_recipient(order, *, mask: bool | None = None) -> tuple[str, str]:
    """(name, phone) as a label or packing slip prints them."""
    if mask is None:
        mask = recipient_masked(order)
    if mask:
        return mask_name(order.ship_name), mask_phone(order.ship_phone)
    return order.ship_name, order.ship_phone
