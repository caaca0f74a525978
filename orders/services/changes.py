"""Changes after intake: the channel's SKU map and its 隐私面单 setting, the order's part of an address change,
the record of a channel update that could not be applied. The cross-app verbs (an address change that routes again or
becomes an intercept, a channel's update) are workflow actions (workflows.changes, workflows.channel)."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from oms import changelog
from oms.errors import DomainError, TransitionNotAllowed

from ..intake.canonical import (
    CanonicalAddress,
    address_problems,
    normalize_country,
    normalize_phone,
)
from ..models import (
    Channel,
    ChannelSku,
    Order,
)
from ..rules import stages as stage_rules
from ..status import ChangeAction, ChangeKind, ChangeReason, EventKind, HoldReason, OrderStatus
from ..wording import msg, msg_list
from .core import ADDRESS_FIELDS, order_event_record, order_hold, order_release

# ---- the channel's settings and SKU map ---------------------------------------------------------


# The channel's settings as its change log names them (oms.changelog): the msgids of the page's labels and, for
# 隐私面单, of the model's field (the API has no form).
CHANNEL_SETTING_NAMES = {
    "name": gettext_noop("Name"),
    "kind": gettext_noop("Kind"),
    "platform": gettext_noop("Platform"),
    "stock_policy": gettext_noop("Stock policy"),
    "default_priority": gettext_noop("Default priority"),
    "active": gettext_noop("Active"),
    "webhook_secret": gettext_noop("Webhook secret"),
}
MASK_NAME = {"mask_recipient": gettext_noop("mask recipient on labels and packing slips")}
changelog.names(
    *CHANNEL_SETTING_NAMES.values(),
    *MASK_NAME.values(),
    choices=("orders.models.ChannelKind", "orders.models.ChannelPlatform", "orders.models.StockPolicy"),
)


def _channel_state(channel: Channel) -> dict:
    """The channel's settings as its change log writes them: choices by their English label, the secret hidden."""
    with translation.override("en"):
        return {
            "name": channel.name,
            "kind": channel.get_kind_display(),
            "platform": channel.get_platform_display(),
            "stock_policy": channel.get_stock_policy_display(),
            "default_priority": channel.default_priority,
            "active": channel.active,
            "webhook_secret": changelog.HIDDEN if channel.webhook_secret else None,
        }


@transaction.atomic
def channel_mask_recipient_set(*, channel: Channel, mask_recipient: bool, user=None) -> Channel:
    """隐私面单: the channel's labels and packing slips print the recipient's name and phone masked (or not, with
    False). The one door of the setting: the channel page and ``PATCH /api/v1/channels/<slug>/privacy/``. A change
    is kept in the channel's change log (who, from what to what, when: ``oms.changelog``)."""
    if not isinstance(mask_recipient, bool):
        raise DomainError(gettext("The privacy waybill setting is on or off."))
    before = Channel.objects.select_for_update().filter(pk=channel.pk).values_list("mask_recipient", flat=True).get()
    if before != mask_recipient:
        Channel.objects.filter(pk=channel.pk).update(mask_recipient=mask_recipient)
        changelog.record_changes(
            obj=channel,
            user=user,
            before={"mask_recipient": before},
            after={"mask_recipient": mask_recipient},
            settings=MASK_NAME,
        )
    channel.mask_recipient = mask_recipient
    return channel


# The channel page's settings a person sets with the form (``channel_settings_set``); the secret and 隐私面单 apart.
CHANNEL_SETTINGS = tuple(name for name in CHANNEL_SETTING_NAMES if name != "webhook_secret")


@transaction.atomic
def channel_settings_set(
    *, channel: Channel, mask_recipient: bool, new_webhook_secret: str = "", user=None, **settings
) -> Channel:
    """The channel page's Settings in one transaction: its intake settings (``CHANNEL_SETTINGS``, checked by the
    form), a new webhook secret (empty: the stored one stays) and 隐私面单 through its own door
    (``channel_mask_recipient_set``). Either all of it is saved or none. What changed goes to the channel's change
    log (the secret as "replaced", never its value)."""
    if unknown := set(settings) - set(CHANNEL_SETTINGS):
        raise TypeError(f"not a channel setting: {', '.join(sorted(unknown))}")
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    before = _channel_state(channel)
    for name, value in settings.items():
        setattr(channel, name, value)
    fields = list(settings)
    if new_webhook_secret:
        channel.webhook_secret = new_webhook_secret
        fields.append("webhook_secret")
    if fields:
        channel.save(update_fields=fields)
    after = _channel_state(channel) | ({"webhook_secret": changelog.REPLACED} if new_webhook_secret else {})
    changelog.record_changes(obj=channel, user=user, before=before, after=after, settings=CHANNEL_SETTING_NAMES)
    return channel_mask_recipient_set(channel=channel, mask_recipient=mask_recipient, user=user)


def channel_sku_map(*, channel: Channel, external_sku: str, product, user=None) -> tuple[ChannelSku, list[str]]:
    """Map a channel's SKU to a product, then release every order held only for unknown SKUs
    that are now all known. Returns the mapping and the numbers of the released orders."""
    external_sku = external_sku.strip()
    if not external_sku:
        raise DomainError(gettext("The channel's SKU is required."))
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


@dataclass
class AddressPlan:
    """A checked address change (``address_change_plan``): what changes and what the stage rule says."""

    changes: dict[str, list[str]]
    action: str
    reason_code: str

    @property
    def new_address(self) -> dict[str, str]:
        return {name: new for name, (_old, new) in self.changes.items()}


def address_change_plan(
    *, order: Order, address: CanonicalAddress, user=None, source: str = "back office", reason_code: str = ""
) -> AddressPlan:
    """Check a change of the ship-to address against the stage rule table (orders/rules/stages.py); changes
    nothing (``address`` is normalized in place). ``changes`` is empty when nothing differs. After shipping
    only a person (not a customer or channel) may turn it into an intercept request. The caller holds the
    order's lock."""
    address.country = normalize_country(address.country)
    address.phone = normalize_phone(address.phone)
    changes = {}
    for name in ADDRESS_FIELDS:
        new = (getattr(address, name) or "").strip()
        old = getattr(order, f"ship_{name}")
        if new != old:
            changes[name] = [old, new]
    reason_code = reason_code or (
        ChangeReason.CUSTOMER_REQUEST
        if source.startswith("customer")
        else ChangeReason.ADDRESS_CORRECTION
        if source == "back office" or source.startswith("case")
        else ChangeReason.CHANNEL_UPDATE
    )
    if not changes:
        return AddressPlan(changes={}, action="", reason_code=reason_code)
    try:
        action = stage_rules.decide(order, ChangeKind.ADDRESS, user)
    except stage_rules.ChangeRefused as exc:
        raise TransitionNotAllowed(str(exc)) from None
    if action == ChangeAction.INTERCEPT and (user is None or not getattr(user, "is_authenticated", False)):
        raise TransitionNotAllowed(
            gettext("Order %(order_number)s is %(order_status)s: the address can no longer be changed.")
            % {"order_number": order.number, "order_status": order.get_status_display()}
        )
    return AddressPlan(changes=changes, action=action, reason_code=reason_code)


# The ship-to fields, as the timeline names a changed one.
ADDRESS_FIELD_NAMES = {
    "name": gettext_noop("name"),
    "phone": gettext_noop("phone"),
    "email": gettext_noop("email"),
    "country": gettext_noop("country"),
    "province": gettext_noop("province"),
    "city": gettext_noop("city"),
    "district": gettext_noop("district"),
    "address1": gettext_noop("address1"),
    "address2": gettext_noop("address2"),
    "postcode": gettext_noop("postcode"),
}


def address_change_apply(
    *, order: Order, address: CanonicalAddress, plan: AddressPlan, user=None, source: str = "back office", reason=""
) -> dict:
    """Write a checked address change on the order (not for an intercept): records who, when and what
    changed; re-checks the address (an incomplete one holds the order, a corrected one releases the
    address hold). Routing again (``plan.action == REROUTE``) is the workflow's. Returns {field: [old, new]}."""
    changes, action, reason_code = plan.changes, plan.action, plan.reason_code
    for name, (_old, new) in changes.items():
        setattr(order, f"ship_{name}", new)
    order.save(update_fields=[f"ship_{name}" for name in changes] + ["updated_at"])
    message = msg(
        gettext_noop("Address changed (%(source)s): %(fields)s"),
        source=source,
        fields=msg_list([msg(ADDRESS_FIELD_NAMES.get(name, name)) for name in sorted(changes)]),
    )
    if reason:
        message = msg(gettext_noop("%(change)s. %(reason)s"), change=message, reason=reason)
    if action == ChangeAction.REROUTE:
        message = msg(gettext_noop("%(change)s. Re-routed."), change=message)
    elif order.status == OrderStatus.PICKING:
        message = msg(gettext_noop("%(change)s. Already on a pick list: routing was not re-run."), change=message)
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
    return changes


def channel_update_refused(order: Order, message: str, source: str) -> str:
    """Record (once) that a channel's change could not be applied. Returns the message."""
    if not order.events.filter(kind=EventKind.CHANNEL_UPDATE, message=message[:500]).exists():
        order_event_record(order=order, kind=EventKind.CHANNEL_UPDATE, message=message, data={"source": source})
    return message
