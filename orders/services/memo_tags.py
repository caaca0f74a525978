"""买家留言 / 卖家备注 and manual tags: the seller memo a person edits and the tags people add and remove.

Each is one transaction under the order's row lock with one event (``EventKind.MEMO``, ``EventKind.TAGS``).
Tags keep people's choices apart from the rules' (orders/models/memo_tags.py): an added tag goes to
``manual_tags``; a removed tag leaves ``manual_tags`` and, if a rule set it, goes to ``removed_tags`` so
classification does not add it again. ``Order.tags`` is what everything reads.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError

from ..models import Order, join_tags, normal_tag, parse_flag, split_tags, tag_problem
from ..models.memo_tags import MESSAGE_MAX, clean_message
from ..status import EventKind
from ..wording import msg, msg_list
from .core import order_event_record, order_events_record, order_row_lock, orders_lock

TAGS_MAX = Order._meta.get_field("tags").max_length


class TagError(DomainError):
    """Tags that cannot be stored; ``errors`` names each ([{field, message}])."""

    def __init__(self, message: str, errors: list[dict]):
        self.errors = errors
        super().__init__(message)


def _refuse(field: str, message: str):
    raise TagError(f"{field}: {message}", [{"field": field, "message": message}])


def clean_tags(tags, field: str) -> list[str]:
    """Typed tags (a list, or one text with commas) as stored: trimmed, lower case; TagError names bad ones."""
    if isinstance(tags, str):
        tags = tags.replace("，", ",").split(",")
    if not isinstance(tags, list | tuple | set | frozenset) or not all(isinstance(t, str) for t in tags):
        _refuse(field, gettext("must be a list of texts."))
    cleaned, errors = [], []
    for tag in tags:
        tag = normal_tag(tag)
        if not tag:
            continue
        problem = tag_problem(tag)
        if problem:
            errors.append({"field": field, "message": f"'{tag[:40]}': {problem}"})
        elif tag not in cleaned:
            cleaned.append(tag)
    if errors:
        raise TagError("; ".join(e["message"] for e in errors), errors)
    return cleaned


def _apply_tags(order: Order, add: list[str], remove: list[str]) -> dict | None:
    """Change the locked order's tag columns in memory; the event's data, or None when nothing changes."""
    tags, manual, removed = set(order.tag_list), set(order.manual_tag_list), set(order.removed_tag_list)
    rule_tags = tags - manual
    added = [t for t in add if t not in tags or t in removed]
    dropped = [t for t in remove if t in tags and t not in add]
    if not added and not dropped:
        return None
    for tag in dropped:
        manual.discard(tag)
        if tag in rule_tags:
            removed.add(tag)
        tags.discard(tag)
    for tag in added:
        manual.add(tag)
        removed.discard(tag)
        tags.add(tag)
    values = {"tags": join_tags(tags), "manual_tags": join_tags(manual), "removed_tags": join_tags(removed)}
    too_long = [name for name, value in values.items() if len(value) > TAGS_MAX]
    if too_long:
        _refuse("add", gettext("too many tags (at most %(max)d characters together).") % {"max": TAGS_MAX})
    for name, value in values.items():
        setattr(order, name, value)
    return {"added": sorted(added), "removed": sorted(dropped), "tags": split_tags(values["tags"])}


def _tags_message(data: dict) -> str:
    parts = []
    if data["added"]:
        parts.append(msg(gettext_noop("added %(tags)s"), tags=", ".join(data["added"])))
    if data["removed"]:
        parts.append(msg(gettext_noop("removed %(tags)s"), tags=", ".join(data["removed"])))
    return msg(gettext_noop("Tags: %(parts)s"), parts=msg_list(parts, "; "))


@transaction.atomic
def order_tags_change(*, order: Order, add=(), remove=(), user=None) -> Order:
    """Add and remove tags on one order (a tag both added and removed is added); one event when anything
    changed, none when nothing did."""
    add, remove = clean_tags(add, "add"), clean_tags(remove, "remove")
    order = order_row_lock(order)
    data = _apply_tags(order, add, remove)
    if data is not None:
        order.save(update_fields=["tags", "manual_tags", "removed_tags", "updated_at"])
        order_event_record(order=order, kind=EventKind.TAGS, message=_tags_message(data), data=data, user=user)
    return order


@transaction.atomic
def orders_tags_change(*, order_ids, add=(), remove=(), user=None) -> int:
    """The same change on many orders (the order list's bulk action): rows locked by id, one event per
    order that changed, all or nothing. Returns how many orders changed."""
    add, remove = clean_tags(add, "add"), clean_tags(remove, "remove")
    if not add and not remove:
        _refuse("add", gettext("name at least one tag."))
    orders = orders_lock(order_ids)
    changed, events = [], []
    for order in orders.values():
        data = _apply_tags(order, add, remove)
        if data is not None:
            changed.append(order)
            events.append({"order": order, "kind": EventKind.TAGS, "message": _tags_message(data), "data": data})
    if changed:
        now = timezone.now()
        for order in changed:
            order.updated_at = now
        Order.objects.bulk_update(changed, ["tags", "manual_tags", "removed_tags", "updated_at"])
        order_events_record(events, user=user)
    return len(changed)


@transaction.atomic
def order_seller_memo_set(*, order: Order, memo: str, flag=None, user=None) -> Order:
    """Set the seller memo (卖家备注) and, when given, the flag (旗帜); one event with the old and new values.
    ``flag`` None keeps the flag; "" clears it."""
    if not isinstance(memo, str):
        _refuse("seller_memo", gettext("must be text."))
    memo = clean_message(memo)
    if len(memo) > MESSAGE_MAX:
        _refuse(
            "seller_memo",
            gettext("is %(length)d characters long; at most %(max)d.") % {"length": len(memo), "max": MESSAGE_MAX},
        )
    if "\x00" in memo:
        _refuse("seller_memo", gettext("contains a NUL character, which cannot be stored."))
    order = order_row_lock(order)
    new_flag = order.seller_flag if flag is None else parse_flag(flag)
    if new_flag is None:
        _refuse(
            "seller_flag",
            gettext("'%(flag)s' is no flag: red, yellow, green, blue, purple (or 1-5, 0 for none).")
            % {"flag": str(flag)[:20]},
        )
    if memo == order.seller_memo and new_flag == order.seller_flag:
        return order
    data = {"from": order.seller_memo, "to": memo, "flag_from": order.seller_flag, "flag_to": new_flag}
    order.seller_memo, order.seller_flag = memo, new_flag
    order.save(update_fields=["seller_memo", "seller_flag", "updated_at"])
    text = " ".join(memo.split())
    memo_text = (
        msg(gettext_noop("Seller memo: %(memo)s"), memo=text) if text else msg(gettext_noop("Seller memo cleared"))
    )
    message = memo_text
    if data["flag_from"] != new_flag:
        flag = new_flag or msg(gettext_noop("none"))
        message = msg(gettext_noop("%(memo)s (flag %(flag)s)"), memo=memo_text, flag=flag)
    order_event_record(order=order, kind=EventKind.MEMO, message=message, data=data, user=user)
    return order


@transaction.atomic
def order_memo_from_channel(*, order: Order, buyer_message: str, seller_memo: str, seller_flag: str, source: str):
    """A channel's update of an order we have (workflows.channel): the buyer message follows the channel
    (a full order resource: no message now means none); the seller memo and flag follow it only when the
    update carries them (a memo typed here is not cleared by a channel that has none). One event when
    anything changed; returns the names of the fields that changed."""
    order = order_row_lock(order)
    values = {"buyer_message": buyer_message}
    if seller_memo:
        values["seller_memo"] = seller_memo
    if seller_flag:
        values["seller_flag"] = seller_flag
    changed = {name: value for name, value in values.items() if getattr(order, name) != value}
    if not changed:
        return []
    data = {name: {"from": getattr(order, name), "to": value} for name, value in changed.items()}
    for name, value in changed.items():
        setattr(order, name, value)
    order.save(update_fields=[*changed, "updated_at"])
    parts = []
    if "buyer_message" in changed:
        text = " ".join(buyer_message.split())
        parts.append(
            msg(gettext_noop("buyer message: %(text)s"), text=text)
            if text
            else msg(gettext_noop("buyer message removed"))
        )
    if "seller_memo" in changed:
        parts.append(msg(gettext_noop("seller memo: %(text)s"), text=" ".join(seller_memo.split())))
    if "seller_flag" in changed:
        parts.append(msg(gettext_noop("flag %(flag)s"), flag=seller_flag))
    order_event_record(
        order=order,
        kind=EventKind.MEMO,
        message=msg(
            gettext_noop("Update from %(channel)s (%(source)s): %(parts)s"),
            channel=order.channel.name,
            source=source,
            parts=msg_list(parts, "; "),
        ),
        data={**data, "source": source},
    )
    return sorted(changed)
