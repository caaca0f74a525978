"""The words of a routing decision: written in English when the decision is made (the record is the same
whoever reads it, and the API gives it as it is), shown in the reader's language by ``in_words``.

Every phrase routing writes (candidates' verdicts and reasons, the decision's reason, the window's
explanations, why an order cannot be rerouted) is one of the templates below, filled with ``%``. The same
template, marked for gettext, turns the stored English back into the reader's language: ``in_words``
matches the text against the templates, translates the template and puts the values back (a value that is
itself a phrase, e.g. the comparison inside a verdict, is translated too). Text that matches no template (a
record written by an older version, a reason cut at 255 characters) is shown part by part, or as it is.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils.translation import gettext, gettext_noop

# candidates.py: the hard constraints a location fails
CANNOT_HANDLE = gettext_noop("cannot handle %(classes)s")
LACKS = gettext_noop("lacks %(capabilities)s (required by classification)")
NOT_TO = gettext_noop("does not ship to %(dest)s (ships within %(origin)s)")
AT_CAPACITY = gettext_noop("at capacity (%(used)s/%(capacity)s today)")
SHORT_OF_SKUS = gettext_noop("short of %(skus)s")
# scoring.py: verdicts
SHORT_OF_UNITS = gettext_noop("short of %(units)s unit(s)")
CHOSEN_PARTIAL = gettext_noop("chosen: ships %(shipped)s of %(total)s unit(s) now, the rest is backordered")
CHOSEN_ONLY_LOCATION = gettext_noop("chosen: the only location that can ship all of it")
CHOSEN_ONLY_SET = gettext_noop("chosen: the only set that can ship all of it")
CHOSEN_LOWEST = gettext_noop("chosen: lowest score %(score)s; %(compare)s than %(other)s")
SCORE_COMPARED = gettext_noop("score %(score)s: %(compare)s")
NOT_CHOSEN = gettext_noop("not chosen")
SAME_SCORE = gettext_noop("same score")
SAME_SCORE_LATER = gettext_noop("same score, later in order")
CHEAPER = gettext_noop("cheaper by %(money)s")
DEARER = gettext_noop("dearer by %(money)s")
NEARER = gettext_noop("nearer by %(km)s")
FARTHER = gettext_noop("farther by %(km)s")
FEWER_SHIPMENTS = gettext_noop("%(shipments)s shipment(s) instead of %(other)s")
SPLITS_INTO = gettext_noop("splits into %(shipments)s shipments")
KEEPS_STOCK = gettext_noop("keeps more stock (takes %(taken)s%% vs %(other)s%% of what is there)")
TAKES_STOCK = gettext_noop("takes more of its stock (%(taken)s%% vs %(other)s%%)")
LESS_BUSY = gettext_noop("less busy (%(load)s%% vs %(other)s%% of today's capacity)")
BUSIER = gettext_noop("busier (%(load)s%% vs %(other)s%% of today's capacity)")
# scoring.py: the decision's reason
NONE_WHOLE = gettext_noop("No location can ship the whole order.")
NONE_ANY = gettext_noop("No location can ship any of the order.")
PARTIAL_REASON = gettext_noop(
    "%(where)s ships %(shipped)s unit(s) now, %(missing)s backordered (%(why)s); score %(score)s (%(terms)s), "
    "policy %(policy)s."
)
WHY_FORCE = gettext_noop("channel trusts its stock (force)")
WHY_POLICY = gettext_noop("policy ships what is available")
SPLIT_REASON = gettext_noop("split over %(where)s: lowest score %(score)s (%(terms)s), policy %(policy)s.")
SINGLE_REASON = gettext_noop("%(where)s: lowest score %(score)s (%(terms)s), policy %(policy)s.")
# explain.py: the window's joint choice
WINDOW_LOWER = gettext_noop("score %(score)s, lower, but %(reasons)s")
WINDOW_STOCK = gettext_noop("stock of %(sku)s at %(location)s went to orders %(orders)s")
WINDOW_CAPACITY = gettext_noop("capacity left today at %(location)s went to orders %(orders)s")
WINDOW_JOINT = gettext_noop("the window's joint choice served more orders with it")
WINDOW_CHOSEN = gettext_noop(
    "chosen in a window of %(size)s orders: score %(score)s, the lowest left for this order (%(codes)s: %(reason)s)"
)
WINDOW_REASON = gettext_noop("%(reason)s; %(codes)s not used: %(why)s.")
# decide.py and reroute.py
STOCK_TAKEN = gettext_noop("Stock was taken by other orders while routing; try again.")
NO_ACTIVE_LOCATION = gettext_noop("no active location")
NO_OPEN_SHIPMENT = gettext_noop("no open shipment")
BEING_PICKED = gettext_noop("already being picked")
# the decision's kind (RoutingDecision.kind, a code shown beside the policy)
KIND_REROUTE = gettext_noop("reroute")
KIND_SPLIT = gettext_noop("split")
KIND_BACKORDER = gettext_noop("backorder")
# policies.py: the policy used when no routing policy is set up
BUILTIN_POLICY = gettext_noop("Built-in defaults")
# solver.py: the window's note
NO_CONTENTION = gettext_noop("no contention")
TIME_LIMIT = gettext_noop("time limit")

# The score's terms, as the reason lists them ("distance 0.3, cost 0.2, ...").
TERM_NAMES = {
    "distance": gettext_noop("distance"),
    "cost": gettext_noop("cost"),
    "split": gettext_noop("split"),
    "load": gettext_noop("load"),
    "balance": gettext_noop("balance"),
}

PHRASES = [value for name, value in list(globals().items()) if name.isupper() and isinstance(value, str)]
# The longest templates first: a specific phrase wins over a general one ("score …, lower, but …" over "score …: …").
PHRASES.sort(key=lambda p: -len(re.sub(r"%\(\w+\)s", "", p)))
LISTS = {"reasons", "reason"}
# The built-in policy's code ("builtin") as a decision and a reason name it ("policy builtin"): shown as the
# policy's name (``policy_label``: 内置默认, as the routing policies page names it), not a phrase of its own.
BUILTIN_CODE = "builtin"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TERM = re.compile(r"\b(" + "|".join(TERM_NAMES) + r")\b")


@cache
def _pattern(phrase: str) -> re.Pattern:
    parts, at = [], 0
    for m in PLACEHOLDER.finditer(phrase):
        parts.append(re.escape(phrase[at : m.start()].replace("%%", "%")))
        name = m.group(1)
        # Only a list of reasons holds "; " (the separator of phrases): other values stop before it.
        parts.append(f"(?P<{name}>.+?)" if name in LISTS else f"(?P<{name}>(?:(?!; ).)+?)")
        at = m.end()
    parts.append(re.escape(phrase[at:].replace("%%", "%")))
    return re.compile("^" + "".join(parts) + "$", re.S)


def _phrase(text: str) -> str | None:
    for phrase in PHRASES:
        m = _pattern(phrase).match(text)
        if m:
            values = {}
            for name, value in m.groupdict().items():
                if name == "policy":
                    values[name] = policy_label(value)
                elif name == "terms":
                    values[name] = TERM.sub(lambda t: gettext(TERM_NAMES[t.group(1)]), value)
                elif name == "reason" and not value.endswith("."):  # a decision's reason without its full stop
                    sentence = _phrase(value + ".")
                    values[name] = sentence.rstrip("。.") if sentence is not None else in_words(value)
                else:
                    values[name] = in_words(value)
            return gettext(phrase) % values if values else gettext(phrase)
    return None


def policy_label(code) -> str:
    """A routing policy's code as a decision names it: the built-in policy's code ("builtin") as its name in the
    reader's language (Built-in defaults, 内置默认); a routing policy's own code (set by a person) as it is."""
    code = "" if code is None else str(code)
    return gettext(BUILTIN_POLICY) if code == BUILTIN_CODE else code


def in_words(text) -> str:
    """A routing text (a verdict, a reason, a note) in the active language; what is not recognised stays."""
    if not text:
        return text
    text = str(text)
    translated = _phrase(text)
    if translated is not None:
        return translated
    if "; " in text:
        parts = [_phrase(part) for part in text.split("; ")]
        if any(p is not None for p in parts):
            separator = gettext("; ")
            return separator.join(p if p is not None else part for p, part in zip(parts, text.split("; "), strict=True))
    return text


def routing_reason(text):
    """A routing text as a parameter of a timeline phrase (oms/wording.py): stored as written, shown through
    ``in_words``."""
    from orders.wording import via

    return via(text, "fulfillment.routing.words.in_words")


LOCATION_REASONS = gettext_noop("%(location)s: %(reasons)s")  # decide.py ``short_note``: one location's reasons


def short_note_words(text) -> str:
    """A stock-short hold's note kept as plain text ("sha: short of SKU-A | bj: short of SKU-A; at capacity (…)",
    decide.py ``short_note``) in the reader's language; a part that is not "<location>: <reasons>" stays as it is."""
    if not text:
        return text or ""
    shown = []
    for part in str(text).split(" | "):
        location, sep, reasons = part.partition(": ")
        if not sep or not location or " " in location:
            shown.append(in_words(part))
            continue
        shown.append(gettext(LOCATION_REASONS) % {"location": location, "reasons": in_words(reasons)})
    return " | ".join(shown)
