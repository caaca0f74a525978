"""Changes after intake: the channel's SKU map, address changes, updates sent by a channel."""

from django.db import transaction

from oms.errors import DomainError, TransitionNotAllowed

from .. import stage_rules
from ..intake.canonical import (
    CanonicalAddress,
    CanonicalOrder,
    address_problems,
    check,
    normalize_country,
    normalize_phone,
)
from ..models import (
    Channel,
    ChannelSku,
    Order,
)
from ..status import CANCELLABLE, ChangeAction, ChangeKind, ChangeReason, EventKind, HoldReason, OrderStatus
from .core import ADDRESS_FIELDS, order_cancel, order_event_record, order_hold, order_release, order_row_lock
from .stage_changes import intercept_request, order_cancel_request, reroute

# ---- the channel's SKU map ----------------------------------------------------------------------


def channel_sku_map(*, channel: Channel, external_sku: str, product, user=None) -> tuple[ChannelSku, list[str]]:
    """Map a channel's SKU to a product, then release every order held only for unknown SKUs
    that are now all known. Returns the mapping and the numbers of the released orders."""
    external_sku = external_sku.strip()
    if not external_sku:
        raise DomainError("The channel's SKU is required.")
    with transaction.atomic():
        mapping, created = ChannelSku.objects.select_for_update().get_or_create(
            channel=channel, external_sku=external_sku, defaults={"product": product}
        )
        if not created and mapping.product_id != product.pk:
            mapping.product = product
            mapping.save(update_fields=["product"])
    held = (
        Order.objects.filter(
            channel=channel,
            holds__reason=HoldReason.UNKNOWN_SKU,
            holds__released_at__isnull=True,
            lines__sku=external_sku,
            lines__product__isnull=True,
        )
        .distinct()
        .order_by("pk")
    )
    released = []
    for order in held:
        try:
            order_release(
                order=order, reason=HoldReason.UNKNOWN_SKU, note=f"{external_sku} mapped to {product.sku}", user=user
            )
        except DomainError:
            continue  # another SKU of the order is still unknown; it waits for that one
        released.append(order.number)
    return mapping, released


# ---- changes from a person or from the channel ----------------------------------------------------


@transaction.atomic
def order_change_address(
    *,
    order: Order,
    address: CanonicalAddress,
    user=None,
    source: str = "back office",
    reason: str = "",
    reason_code: str = "",
) -> dict:
    """Change the ship-to address as the stage rule table allows (orders/stage_rules.py). Returns
    {field: [old, new]} (empty: no change).

    Records who, when and what changed; re-checks the address (an incomplete one holds the
    order, a corrected one releases the address hold). Before picking the order is re-routed; after
    shipping a person (not a customer or channel) can turn it into an intercept request.
    """
    order = order_row_lock(order)
    address.country = normalize_country(address.country)
    address.phone = normalize_phone(address.phone)
    changes = {}
    for name in ADDRESS_FIELDS:
        new = (getattr(address, name) or "").strip()
        old = getattr(order, f"ship_{name}")
        if new != old:
            changes[name] = [old, new]
    if not changes:
        return {}
    reason_code = reason_code or (
        ChangeReason.CUSTOMER_REQUEST
        if source.startswith("customer")
        else ChangeReason.ADDRESS_CORRECTION
        if source == "back office" or source.startswith("case")
        else ChangeReason.CHANNEL_UPDATE
    )
    try:
        action = stage_rules.decide(order, ChangeKind.ADDRESS, user)
    except stage_rules.ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None
    if action == ChangeAction.INTERCEPT:
        if user is None or not getattr(user, "is_authenticated", False):
            raise TransitionNotAllowed(
                f"Order {order.number} is {order.get_status_display()}: the address can no longer be changed."
            )
        new_address = {name: new for name, (_old, new) in changes.items()}
        intercept_request(
            order,
            change=ChangeKind.ADDRESS,
            reason_code=reason_code,
            note=reason,
            user=user,
            data={"address": new_address},
        )
        return {}
    for name, (_old, new) in changes.items():
        setattr(order, f"ship_{name}", new)
    order.save(update_fields=[f"ship_{name}" for name in changes] + ["updated_at"])
    message = f"Address changed ({source}): " + ", ".join(sorted(changes))
    if reason:
        message += f". {reason}"
    if action == ChangeAction.REROUTE:
        message += ". Re-routed."
    elif order.status == OrderStatus.PICKING:
        message += ". Already on a pick list: routing was not re-run."
    order_event_record(
        order=order,
        kind=EventKind.ADDRESS_CHANGED,
        user=user,
        message=message,
        data={"changes": changes, "source": source, "reason": reason, "reason_code": reason_code, "action": action},
    )
    problems = address_problems(address)
    held = order.holds.filter(reason=HoldReason.ADDRESS_INVALID, released_at__isnull=True).exists()
    if problems and not held:
        order_hold(order=order, reason=HoldReason.ADDRESS_INVALID, note="; ".join(problems), user=user)
    elif not problems and held:
        order_release(order=order, reason=HoldReason.ADDRESS_INVALID, note="address corrected", user=user)
    if action == ChangeAction.REROUTE:
        order.refresh_from_db()
        reroute(order, user=user, reason=f"address changed ({reason_code})")
    return changes


def order_apply_channel_update(*, order: Order, data: CanonicalOrder, source: str) -> dict:
    """Apply what a channel says changed (cancelled, address) through the same services a
    person uses, within the rules of the order's stage. Replaying the same update changes nothing.

    Returns {"changed": [...], "attention": "..."}; ``attention`` says what a person must do
    when the channel's change can no longer be applied here (e.g. cancelled after shipping).
    """
    check(data)
    outcome: dict = {"changed": [], "attention": ""}
    order.refresh_from_db()
    if order.status == OrderStatus.CANCELLED:
        return outcome
    if data.cancelled_reason:
        if order.status in CANCELLABLE:
            order_cancel(order=order, reason=f"{data.cancelled_reason} at {order.channel.name} ({source})")
            outcome["changed"].append("cancelled")
            return outcome
        # Past the point of a plain cancellation: the stage rules decide, as for a person's cancellation
        # (an intercept request after shipping, a return request after delivery), once per order.
        already = order.events.filter(kind=EventKind.INTERCEPT).exists() or order.returns.exists()
        what = f"{order.channel.name} says the order is {data.cancelled_reason}"
        if already:  # a retry of the same news: asked for once already, nothing more to do
            outcome["attention"] = f"{what}: an intercept or return was already requested."
            return outcome
        try:
            kind, _result = order_cancel_request(
                order=order, reason_code=ChangeReason.CHANNEL_UPDATE, note=what, source=source
            )
        except (TransitionNotAllowed, DomainError):
            pass
        else:
            outcome["changed"].append(
                {"intercept": "intercept requested", "return": "return requested"}.get(kind, kind)
            )
            outcome["attention"] = _refuse(
                order,
                f"{what} after it left: {kind} requested here; follow it up with the carrier or the customer.",
                source,
            )
            return outcome
        outcome["attention"] = _refuse(
            order,
            f"{what}, but it is already {order.get_status_display()}: not cancelled here. "
            "Handle it as a return or refund.",
            source,
        )
        return outcome
    paid = not any(reason == HoldReason.PAYMENT for reason, _note in data.holds)
    if paid and order.holds.filter(reason=HoldReason.PAYMENT, released_at__isnull=True).exists():
        order_release(order=order, reason=HoldReason.PAYMENT, note=f"paid at {order.channel.name}")
        outcome["changed"].append("paid")
    try:
        changes = order_change_address(
            order=order, address=data.ship_to, source=source, reason="update from the channel"
        )
    except TransitionNotAllowed:
        outcome["attention"] = _refuse(
            order,
            f"{order.channel.name} changed the ship-to address, but the order is already "
            f"{order.get_status_display()}: not changed here. Contact the carrier or the customer.",
            source,
        )
        return outcome
    if changes:
        outcome["changed"].append("address")
    return outcome


def _refuse(order: Order, message: str, source: str) -> str:
    """Record (once) that a channel's change could not be applied."""
    if not order.events.filter(kind=EventKind.CHANNEL_UPDATE, message=message[:500]).exists():
        order_event_record(order=order, kind=EventKind.CHANNEL_UPDATE, message=message, data={"source": source})
    return message
