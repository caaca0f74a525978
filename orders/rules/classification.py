"""Classification: ordered rules with conditions and actions, evaluated against one order.

Pure evaluation: ``evaluate(order)`` reads the order, its lines and the active rules and returns what
the matching rules decided. ``orders.services`` applies it (fields, one timeline event per matching rule,
holds through the normal hold path) during intake before confirmation, and again on demand
(``order_reclassify``). Keeping the writes there keeps imports one way (services -> classification).

How rules combine:

- rules run by ``position`` (then id); every filled-in condition must hold, an empty one matches anything;
- tags and required capabilities add up; a later rule's priority or service kind replaces an earlier one's;
- ``has_tag`` sees the tags added by earlier rules in the same run and the tags people added (manual tags);
- people's tag choices survive every run: the tags a person added stay, a rule tag a person removed is not
  added again (``Order.manual_tags`` / ``Order.removed_tags``, orders/models/memo_tags.py);
- ``seller_memo_contains`` / ``buyer_message_contains`` hold when the text contains any of the listed words
  (case-insensitive); ``buyer_message_present`` when the buyer left a message (or, False, left none);
- ``stop_processing`` on a matching rule ends the run;
- a hold action holds the order with the rule's reason and note (several rules: one hold per reason).

Out of the box (``classification_install_defaults``, run by the migration that creates the rules):
fresh goods get the tag ``fresh``, priority 1, a cold-chain service and a cold-chain location; fragile
goods the tag ``fragile`` and a packing note; bulky goods the tag ``bulky``, a freight service and a
bulky-capable location. They mirror the hard constraints routing and rating already apply to handling
classes, so the defaults make them visible (tags, timeline) rather than change where orders go.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_noop

from ..models import ClassificationRule, Order, split_list, split_tags
from ..status import HoldReason
from ..wording import label, msg, msg_list


def _hold_label(reason: str):
    try:
        return label(HoldReason(reason))
    except ValueError:  # a reason the rule kept from before
        return reason


@dataclass
class Facts:
    """What the conditions look at, computed once per order."""

    handling_classes: set[str]
    weight_g: int
    volume_cm3: int
    value: Decimal
    channel_id: int
    country: str
    province: str
    requested_service: str
    promise_date: date | None
    is_business: bool
    buyer_message: str = ""  # lower case
    seller_memo: str = ""  # lower case
    manual_tags: tuple[str, ...] = ()
    removed_tags: frozenset[str] = frozenset()


@dataclass
class Match:
    rule_id: int
    rule: str
    tags: list[str] = field(default_factory=list)
    priority: int | None = None
    service_kind: str = ""
    capabilities: list[str] = field(default_factory=list)
    packing_note: str = ""
    hold: tuple[str, str] | None = None
    stopped: bool = False

    def summary(self) -> str:
        """What the rule did, in English ("tags fresh; priority 1; …"), keeping each part's template so the
        timeline shows it in the reader's language (oms/wording.py)."""
        parts = []
        if self.tags:
            parts.append(msg(gettext_noop("tags %(tags)s"), tags=", ".join(self.tags)))
        if self.priority is not None:
            parts.append(msg(gettext_noop("priority %(priority)s"), priority=self.priority))
        if self.service_kind:
            parts.append(msg(gettext_noop("service %(kind)s"), kind=self.service_kind))
        if self.capabilities:
            parts.append(
                msg(gettext_noop("location needs %(capabilities)s"), capabilities=", ".join(self.capabilities))
            )
        if self.packing_note:
            parts.append(msg(gettext_noop("packing: %(note)s"), note=self.packing_note))
        if self.hold:
            parts.append(msg(gettext_noop("hold %(reason)s"), reason=_hold_label(self.hold[0])))
        if self.stopped:
            parts.append(msg(gettext_noop("stop")))
        if not parts:
            return msg(gettext_noop("no action"))
        return msg("%(parts)s", parts=msg_list(parts, "; "))

    def as_data(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "rule": self.rule,
            "tags": self.tags,
            "priority": self.priority,
            "service_kind": self.service_kind,
            "capabilities": self.capabilities,
            "packing_note": self.packing_note,
            "hold": list(self.hold) if self.hold else None,
            "stop": self.stopped,
        }


@dataclass
class Outcome:
    matches: list[Match]
    tags: list[str]
    priority: int | None
    service_kind: str
    capabilities: list[str]
    holds: list[tuple[str, str]]

    @property
    def packing_notes(self) -> str:
        """The matching rules' packing notes, in rule order, each once, one per line (Order.packing_notes)."""
        notes = [m.packing_note.strip() for m in self.matches if m.packing_note and m.packing_note.strip()]
        return "\n".join(dict.fromkeys(notes))


def order_facts(order: Order, lines: list[tuple] | None = None) -> Facts:
    """``lines``: (product or None, quantity) pairs when the caller has them (bulk intake, before
    the rows are written); else the order's lines are read."""
    if lines is None:
        lines = [(line.product, line.quantity) for line in order.lines.select_related("product")]
    classes, weight, volume_mm3 = set(), 0, 0
    for product, quantity in lines:
        if product is None:
            continue
        classes.add(product.handling_class)
        weight += product.weight_g * quantity
        volume_mm3 += product.length_mm * product.width_mm * product.height_mm * quantity
    customer = order.customer
    return Facts(
        handling_classes=classes,
        weight_g=weight,
        volume_cm3=volume_mm3 // 1000,
        value=order.total,
        channel_id=order.channel_id,
        country=(order.ship_country or "").upper(),
        province=(order.ship_province or "").strip().lower(),
        requested_service=(order.requested_service or "").strip().lower(),
        promise_date=order.promise_date,
        is_business=bool(customer and customer.is_business),
        buyer_message=(getattr(order, "buyer_message", "") or "").lower(),
        seller_memo=(getattr(order, "seller_memo", "") or "").lower(),
        manual_tags=tuple(split_tags(getattr(order, "manual_tags", ""))),
        removed_tags=frozenset(split_tags(getattr(order, "removed_tags", ""))),
    )


def _between(value, low, high) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


class CompiledRule:
    """A rule with its settings parsed once (lists split, case folded, channel ids read): what
    ``evaluate`` runs per order. Built by ``compile_rules`` from the rows."""

    __slots__ = (
        "pk",
        "name",
        "classes",
        "min_weight_g",
        "max_weight_g",
        "min_volume_cm3",
        "max_volume_cm3",
        "min_value",
        "max_value",
        "channel_ids",
        "countries",
        "provinces",
        "requested_service",
        "promise_within_days",
        "customer_is_business",
        "has_tag",
        "seller_memo_words",
        "buyer_message_words",
        "buyer_message_present",
        "add_tags",
        "set_priority",
        "require_service_kind",
        "capabilities",
        "packing_note",
        "hold_reason",
        "hold_note",
        "stop_processing",
    )

    def __init__(self, rule: ClassificationRule):
        self.pk, self.name = rule.pk, rule.name
        self.classes = frozenset(split_list(rule.handling_classes))
        self.min_weight_g, self.max_weight_g = rule.min_weight_g, rule.max_weight_g
        self.min_volume_cm3, self.max_volume_cm3 = rule.min_volume_cm3, rule.max_volume_cm3
        self.min_value, self.max_value = rule.min_value, rule.max_value
        self.channel_ids = frozenset(c.pk for c in rule.channels.all())
        self.countries = frozenset(c.upper() for c in split_list(rule.countries))
        self.provinces = frozenset(p.lower() for p in split_list(rule.provinces))
        # None: no condition. A setting of only spaces is still one, compared as "" (as the row reads).
        self.requested_service = rule.requested_service.strip().lower() if rule.requested_service else None
        self.promise_within_days = rule.promise_within_days
        self.customer_is_business = rule.customer_is_business
        self.has_tag = rule.has_tag.strip().lower() if rule.has_tag else None
        self.seller_memo_words = tuple(w.lower() for w in split_list(rule.seller_memo_contains))
        self.buyer_message_words = tuple(w.lower() for w in split_list(rule.buyer_message_contains))
        self.buyer_message_present = rule.buyer_message_present
        self.add_tags = tuple(tag.lower() for tag in split_list(rule.add_tags))
        self.set_priority = rule.set_priority
        self.require_service_kind = rule.require_service_kind
        self.capabilities = tuple(split_list(rule.require_capabilities))
        self.packing_note = rule.packing_note
        self.hold_reason, self.hold_note = rule.hold_reason, rule.hold_note
        self.stop_processing = rule.stop_processing

    def matches(self, facts: Facts, tags, today: date) -> bool:
        if self.classes and not self.classes & facts.handling_classes:
            return False
        if not _between(facts.weight_g, self.min_weight_g, self.max_weight_g):
            return False
        if not _between(facts.volume_cm3, self.min_volume_cm3, self.max_volume_cm3):
            return False
        if not _between(facts.value, self.min_value, self.max_value):
            return False
        if self.channel_ids and facts.channel_id not in self.channel_ids:
            return False
        if self.countries and facts.country not in self.countries:
            return False
        if self.provinces and facts.province not in self.provinces:
            return False
        if self.requested_service is not None and facts.requested_service != self.requested_service:
            return False
        if self.promise_within_days is not None:
            if facts.promise_date is None or (facts.promise_date - today).days > self.promise_within_days:
                return False
        if self.customer_is_business is not None and facts.is_business != self.customer_is_business:
            return False
        if self.has_tag is not None and self.has_tag not in tags:
            return False
        if self.seller_memo_words and not any(w in facts.seller_memo for w in self.seller_memo_words):
            return False
        if self.buyer_message_words and not any(w in facts.buyer_message for w in self.buyer_message_words):
            return False
        if self.buyer_message_present is not None and bool(facts.buyer_message) != self.buyer_message_present:
            return False
        return True


def compile_rules(rules) -> tuple[CompiledRule, ...]:
    """Rules (rows, with their channels prefetched, or already compiled) ready for ``evaluate``."""
    return tuple(rule if isinstance(rule, CompiledRule) else CompiledRule(rule) for rule in rules)


def rule_matches(rule: ClassificationRule, facts: Facts, tags: set[str], today: date) -> bool:
    return CompiledRule(rule).matches(facts, tags, today)


def active_rules() -> list[ClassificationRule]:
    return list(ClassificationRule.objects.filter(active=True).prefetch_related("channels").order_by("position", "pk"))


# The active rules, compiled, kept per process: (fingerprint, rules). See ``current_rules``.
_cached: tuple[tuple, tuple[CompiledRule, ...]] | None = None


def rules_fingerprint() -> tuple:
    """The active rules' settings and channels as plain values, one query (no model instances): it
    changes with any change that matters, however it was made (a form, the admin, ``update()``)."""
    fields = [f.attname for f in ClassificationRule._meta.concrete_fields]
    rows = ClassificationRule.objects.filter(active=True).order_by("position", "pk", "channels")
    return tuple(rows.values_list(*fields, "channels"))


def current_rules() -> tuple[CompiledRule, ...]:
    """The active rules, compiled once per process and compiled again when ``rules_fingerprint``
    differs from the one they were compiled for (checked on every call: one query of plain values
    instead of rule instances, their channels and the compiling). Every intake path classifies with
    these."""
    global _cached
    fingerprint = rules_fingerprint()
    cached = _cached
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    compiled = compile_rules(active_rules())
    _cached = (fingerprint, compiled)
    return compiled


def evaluate(
    order: Order,
    *,
    rules=None,
    today: date | None = None,
    lines: list[tuple] | None = None,
) -> Outcome:
    """Run the active rules in order against the order (see the module docstring); writes nothing.
    ``rules``: rows or compiled rules (default: ``current_rules()``). ``lines``: see ``order_facts``."""
    rules = current_rules() if rules is None else compile_rules(rules)
    today = today or timezone.localdate()
    facts = order_facts(order, lines)
    tags: list[str] = list(facts.manual_tags)
    capabilities: list[str] = []
    priority, service_kind = None, ""
    holds: dict[str, list[str]] = {}
    matches = []
    for rule in rules:
        if not rule.matches(facts, tags, today):
            continue
        match = Match(rule_id=rule.pk, rule=rule.name)
        for tag in rule.add_tags:
            if tag in facts.removed_tags:
                continue  # a person removed it from this order
            match.tags.append(tag)
            if tag not in tags:
                tags.append(tag)
        if rule.set_priority is not None:
            match.priority = priority = rule.set_priority
        if rule.require_service_kind:
            match.service_kind = service_kind = rule.require_service_kind
        for capability in rule.capabilities:
            match.capabilities.append(capability)
            if capability not in capabilities:
                capabilities.append(capability)
        match.packing_note = rule.packing_note
        if rule.hold_reason:
            note = rule.hold_note or f"rule {rule.name}"
            match.hold = (rule.hold_reason, note)
            holds.setdefault(rule.hold_reason, []).append(note)
        match.stopped = rule.stop_processing
        matches.append(match)
        if rule.stop_processing:
            break
    return Outcome(
        matches=matches,
        tags=tags,
        priority=priority,
        service_kind=service_kind,
        capabilities=capabilities,
        holds=[(reason, "; ".join(notes)) for reason, notes in holds.items()],
    )


# ---- the defaults ------------------------------------------------------------------------------

DEFAULT_RULES = [
    {
        "name": "Fresh goods: expedited, cold chain",
        "position": 10,
        "handling_classes": "fresh",
        "add_tags": "fresh",
        "set_priority": 1,
        "require_service_kind": "cold_chain",
        "require_capabilities": "cold_chain",
    },
    {
        "name": "Fragile goods: fragile packing",
        "position": 20,
        "handling_classes": "fragile",
        "add_tags": "fragile",
        "packing_note": "Fragile packing: wrap each item, fill voids, FRAGILE label on top.",
    },
    {
        "name": "Bulky goods: freight",
        "position": 30,
        "handling_classes": "bulky",
        "add_tags": "bulky",
        "require_service_kind": "freight",
        "require_capabilities": "bulky",
    },
]


def classification_install_defaults(rule_model=ClassificationRule) -> int:
    """Create the default rules that are missing (by name); returns how many were created.

    Safe to run again; takes the model so a data migration can pass its historical one."""
    created = 0
    for spec in DEFAULT_RULES:
        fields = dict(spec)
        _, was_created = rule_model.objects.get_or_create(name=fields.pop("name"), defaults=fields)
        created += was_created
    return created
