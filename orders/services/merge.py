"""自动合单: the orders' side of the automatic merge (orders/rules/merge.py says who may merge).

- ``orders_auto_merge``: at review (intake, right after an order is confirmed; set-based for a batch), the
  new orders and the confirmed, unrouted orders they match form merge groups. Each order keeps its number,
  lines, totals and channel confirmation; routing (fulfillment/routing/group.py) routes a group as one.
  Only what is there at review merges: an order is not held back to wait for a partner, and an order never
  joins a group whose orders routing has begun (a later partner is offered by the shipment merge
  suggestions, fulfillment/merge.py).
- ``merge_group_dissolve``: the group is undone (a person's undo through workflows/merge.py, or routing
  that found the group can no longer ship as one); an event on each order; the orders route on their own.

Locks: the orders' rows, in primary-key order (``orders_lock``), then the group rows. Two review runs that
see the same orders wait on the first's locks and then find them taken (read again under the lock); the
unique "one active membership per order" constraint is the last word.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms import changelog
from oms.errors import DomainError

from ..models import MergeSettings, Order, OrderMergeGroup, OrderMergeMember
from ..rules.merge import clusters, why_not
from ..selectors import in_merge_group
from ..status import EventKind, OrderStatus
from ..wording import msg
from .core import order_announce_ready, order_event_record, order_events_record, orders_lock


def disabled_channel_ids(settings: MergeSettings) -> set[int]:
    if not MergeSettings.objects.filter(pk=settings.pk).exists():
        return set()
    return set(settings.disabled_channels.values_list("pk", flat=True))


def orders_auto_merge(*, order_ids, user=None) -> list[OrderMergeGroup]:
    """Merge the given (newly confirmed) orders with their partners; returns the groups made."""
    settings = MergeSettings.current()
    ids = sorted({int(pk) for pk in order_ids})
    if not settings.enabled or not ids:
        return []
    user = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        disabled = disabled_channel_ids(settings)
        fresh = [
            o
            for o in Order.objects.filter(pk__in=ids, status=OrderStatus.CONFIRMED, on_hold=False)
            .exclude(channel_id__in=disabled)
            .exclude(in_merge_group())
            if not why_not(o, settings)
        ]
        if not fresh:
            return []
        window = timedelta(minutes=settings.window_minutes)
        pool = (
            Order.objects.filter(
                channel_id__in={o.channel_id for o in fresh},
                status=OrderStatus.CONFIRMED,
                on_hold=False,
                created_at__gte=min(o.created_at for o in fresh) - window,
                created_at__lte=max(o.created_at for o in fresh) + window,
            )
            .exclude(in_merge_group())
            .order_by("pk")
        )
        candidates = [o for o in pool if not why_not(o, settings)]
        fresh_ids = {o.pk for o in fresh}
        found = [c for c in clusters(candidates, window.total_seconds()) if fresh_ids & {o.pk for o in c}]
        if not found:
            return []
        locked = orders_lock([o.pk for c in found for o in c])
        # Read again under the locks: another review run (or routing) may have taken some meanwhile.
        taken = set(
            OrderMergeMember.objects.filter(order_id__in=list(locked), active=True).values_list("order_id", flat=True)
        )
        groups_members = []
        for cluster in found:
            members = [
                locked[o.pk]
                for o in cluster
                if o.pk in locked and o.pk not in taken and not why_not(locked[o.pk], settings)
            ]
            if len(members) > 1:
                groups_members.append(members)
        if not groups_members:
            return []
        groups = OrderMergeGroup.objects.bulk_create(
            [OrderMergeGroup(channel_id=members[0].channel_id, created_by=user) for members in groups_members]
        )
        if any(g.pk is None for g in groups):  # a database that returns no ids from a bulk insert
            raise RuntimeError("bulk_create returned no primary keys")
        OrderMergeGroup.objects.filter(pk__in=[g.pk for g in groups]).update(
            number=Concat(Value("MG"), Cast(F("id") + 100000, output_field=CharField()))
        )
        OrderMergeMember.objects.bulk_create(
            [
                OrderMergeMember(group=g, order=o)
                for g, members in zip(groups, groups_members, strict=True)
                for o in members
            ]
        )
        events = []
        for group, members in zip(groups, groups_members, strict=True):
            group.number = f"MG{100000 + group.pk}"
            numbers = [o.number for o in members]
            for order in members:
                others = [n for n in numbers if n != order.number]
                events.append(
                    {
                        "order": order,
                        "kind": EventKind.ORDER_MERGED,
                        "message": msg(
                            gettext_noop(
                                "Merged automatically with %(others)s (group %(group)s): "
                                "same buyer, address and channel; they ship as one parcel."
                            ),
                            others=", ".join(others),
                            group=group.number,
                        ),
                        "data": {"group": group.number, "orders": numbers},
                    }
                )
        order_events_record(events, user=user)
        return groups


def merge_group_dissolve(*, group: OrderMergeGroup, user=None, note: str = "") -> list[Order]:
    """Undo the group (the caller has checked that nothing is picked): every order leaves it, with an event;
    confirmed orders are announced ready so routing takes them one by one. Returns the orders."""
    user = user if getattr(user, "pk", None) else None
    with transaction.atomic():
        order_ids = list(group.members.filter(active=True).values_list("order_id", flat=True))
        locked = orders_lock(order_ids)
        group = OrderMergeGroup.objects.select_for_update().get(pk=group.pk)
        if group.undone_at is not None:
            raise DomainError(
                gettext("Merge group %(group_number)s is already undone.") % {"group_number": group.number}
            )
        OrderMergeMember.objects.filter(group=group, active=True).update(active=False)
        group.undone_at, group.undone_by, group.undo_note = timezone.now(), user, note[:255]
        group.save(update_fields=["undone_at", "undone_by", "undo_note"])
        orders = [locked[pk] for pk in sorted(locked)]
        for order in orders:
            order_event_record(
                order=order,
                kind=EventKind.ORDER_UNMERGED,
                user=user,
                message=(
                    msg(
                        gettext_noop("Merge group %(group)s undone; the order ships on its own. %(note)s"),
                        group=group.number,
                        note=note,
                    )
                    if str(note).strip()
                    else msg(
                        gettext_noop("Merge group %(group)s undone; the order ships on its own."), group=group.number
                    )
                ),
                data={"group": group.number, "orders": [o.number for o in orders]},
            )
            if order.status == OrderStatus.CONFIRMED and not order.on_hold:
                order_announce_ready(order)
        return orders


@transaction.atomic
def merge_settings_set(
    *, enabled: bool, window_minutes: int, exclude_tags: str, disabled_channels, wait_minutes: int = 0, user=None
):
    """Save the automatic merge rule (the settings page); returns the settings."""
    if not 1 <= int(window_minutes) <= 1440:
        raise DomainError(gettext("The merge window must be between 1 and 1440 minutes."))
    if not 0 <= int(wait_minutes) <= int(window_minutes):
        raise DomainError(gettext("The wait for a partner must be between 0 minutes and the merge window."))
    settings, _created = MergeSettings.objects.select_for_update().get_or_create(pk=1)
    before = _merge_state(settings)
    settings.enabled = bool(enabled)
    settings.window_minutes = int(window_minutes)
    settings.wait_minutes = int(wait_minutes)
    settings.exclude_tags = ",".join(t for t in (p.strip().lower() for p in exclude_tags.split(",")) if t)
    settings.save()
    settings.disabled_channels.set(disabled_channels)
    changelog.record_changes(obj=settings, user=user, before=before, after=_merge_state(settings), settings=MERGE_NAMES)
    return settings


# The rule's settings as its change log names them (oms.changelog): the msgids of the model's verbose names.
MERGE_NAMES = {
    "enabled": gettext_noop("automatic merge on"),
    "window_minutes": gettext_noop("merge window (minutes)"),
    "wait_minutes": gettext_noop("wait for a partner (minutes)"),
    "exclude_tags": gettext_noop("never merge orders tagged"),
    "disabled_channels": gettext_noop("channels without automatic merge"),
}
changelog.names(*MERGE_NAMES.values())


def _merge_state(settings: MergeSettings) -> dict:
    state = {name: getattr(settings, name) for name in MERGE_NAMES if name != "disabled_channels"}
    return state | {"disabled_channels": sorted(c.name for c in settings.disabled_channels.all())}
