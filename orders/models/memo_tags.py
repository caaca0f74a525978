"""买家留言 / 卖家备注 and manual tags: the values and rules the Order's fields hold (orders/models/orders.py).

- ``Order.buyer_message`` (买家留言): what the buyer wrote at checkout, from the channel (Shopify ``note`` and
  ``note_attributes``, WooCommerce ``customer_note``, the OMS template's ``buyer_message`` column). Read-only
  in the back office: it is the buyer's text.
- ``Order.seller_memo`` (卖家备注) and ``Order.seller_flag`` (旗帜): the seller's own memo and flag colour, from
  the channel (Taobao-like platforms send both) or typed on the order page; a change is an event.
- Tags: ``Order.tags`` holds the order's tags as everything reads them (filters, rules, routing). Two more
  columns keep people's choices apart from the rules': ``manual_tags`` (added by a person) and
  ``removed_tags`` (rule tags a person removed). Classification writes ``tags`` as the rules' tags minus
  ``removed_tags`` plus ``manual_tags``, so a re-run keeps both choices (see ``effective_tags``).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

MESSAGE_MAX = 2000
TAG_MAX = 32


class SellerFlag(models.TextChoices):
    """The 旗帜 colours of Taobao/Tmall (seller_flag 1-5; 0 is none)."""

    RED = "red", _("Red flag")
    YELLOW = "yellow", _("Yellow flag")
    GREEN = "green", _("Green flag")
    BLUE = "blue", _("Blue flag")
    PURPLE = "purple", _("Purple flag")


# What a channel may send for a flag: Taobao's numbers, the English names and the Chinese colours.
FLAG_ALIASES = {
    "0": "",
    "": "",
    "1": "red",
    "2": "yellow",
    "3": "green",
    "4": "blue",
    "5": "purple",
    "红": "red",
    "红色": "red",
    "黄": "yellow",
    "黄色": "yellow",
    "绿": "green",
    "绿色": "green",
    "蓝": "blue",
    "蓝色": "blue",
    "紫": "purple",
    "紫色": "purple",
    **{value: value for value in SellerFlag.values},
}


def parse_flag(value) -> str | None:
    """The stored flag ("" for none) or None when the value names no flag."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    return FLAG_ALIASES.get(str(value).strip().lower())


def clean_message(value) -> str:
    """A buyer message or memo as stored: its lines kept, each line's runs of white space made one space,
    blank lines dropped."""
    if value is None:
        return ""
    return "\n".join(" ".join(line.split()) for line in str(value).splitlines() if line.strip())


def tag_problem(tag: str) -> str:
    """Why a tag a person typed cannot be stored ("" when it can)."""
    if not tag:
        return str(_("a tag must not be empty."))
    if "," in tag or "，" in tag:
        return str(_("a tag must not contain a comma."))
    if len(tag) > TAG_MAX:
        return str(_("a tag has at most %(max)d characters.") % {"max": TAG_MAX})
    return ""


def normal_tag(tag: str) -> str:
    return " ".join(str(tag).split()).lower()


def effective_tags(rule_tags, manual, removed) -> list[str]:
    """The order's tags: the rules' tags a person did not remove, then the tags people added."""
    removed = set(removed)
    tags = [t for t in rule_tags if t not in removed]
    return tags + [t for t in manual if t not in tags]
