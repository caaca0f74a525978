"""Stored text in the reader's language: the mechanism lives in ``oms/wording.py`` (every app's stored text, the
base package's import errors and background work included); this module keeps the phrases orders/ writes and
the names orders/ and the apps above it import from here."""

from django.utils.translation import gettext, gettext_noop, pgettext

from oms.wording import (  # noqa: F401 (the names the apps import from here)
    KNOWN,
    KNOWN_CHOICES,
    Label,
    Msg,
    MsgList,
    Via,
    event_text,
    event_words,
    in_words,
    known,
    known_choices,
    known_param,
    known_shape,
    label,
    msg,
    msg_list,
    render,
    via,
)

# The phrases orders/ writes most, as older rows hold them.
LEGACY = [
    gettext_noop("Order received from %(channel)s (%(source)s), %(lines)s line(s)."),
    gettext_noop("Status %(from)s → %(to)s"),
    gettext_noop("Status %(from)s → %(to)s: %(note)s"),
    gettext_noop("On hold: %(reason)s. %(note)s"),
    gettext_noop("On hold: %(reason)s."),
    gettext_noop("Released: %(reason)s. %(note)s"),
    gettext_noop("Released: %(reason)s."),
    gettext_noop("Cancelled: %(reason)s"),
    gettext_noop("Unknown SKU: %(skus)s"),
    gettext_noop("validated"),
    gettext_noop("released"),
    gettext_noop("order cancelled"),
    gettext_noop("arrived %(reason)s"),
    gettext_noop("Gift %(sku)s × %(quantity)s (rule %(rule)s) is out of stock."),
    gettext_noop("a line has no product"),
]
known(*LEGACY)
# "arrived %(reason)s" (a status note of an order that arrived cancelled): the reason is what an importer writes for
# a platform's cancelled, refunded or deleted order (orders/intake/*: ``cancelled_reason``), so a person's note
# ("arrived damaged") stays as it came.
ARRIVED_REASON = r"(?:cancelled on Amazon|cancelled|refunded|voided|failed \(payment\)|deleted|已取消(?: .+)?|已退款)"
known_shape("arrived %(reason)s", reason=ARRIVED_REASON)


# Its reason in the reader's language: the importers' words (the context keeps them apart from other "cancelled"s;
# the Chinese phrase says 到达时已…, so each word goes without its own 已).
def arrived_reason_words(value) -> str:
    """An order's arrived-cancelled reason ("refunded", 抖店's "已取消 …") for "arrived %(reason)s"."""
    value = str(value or "")
    words = {
        "cancelled": pgettext("arrived", "cancelled"),
        "refunded": pgettext("arrived", "refunded"),
        "voided": pgettext("arrived", "voided"),
        "failed (payment)": pgettext("arrived", "failed (payment)"),
        "deleted": pgettext("arrived", "deleted"),
        "cancelled on Amazon": pgettext("arrived", "cancelled on Amazon"),
    }
    if value in words:
        return words[value]
    if value.startswith("已") and gettext("arrived %(reason)s").startswith("到达时已"):
        return value[1:]  # 抖店 writes 已取消/已退款: the phrase has its 已 already
    return value


known_param("arrived %(reason)s", "reason", "orders.wording.arrived_reason_words")


def source_label(code) -> str:
    """Where an order came from (``Order received from … (form)``: the intake's source code) in the reader's
    language: api, form, file:<format>, webhook:<platform>, pull:<platform>, exchange; any other code as it is."""
    code = str(code or "")
    kind = code.split(":", 1)[0]
    labels = {
        "api": "API",
        "form": gettext("form"),
        "file": gettext("import"),
        "import": gettext("import"),
        "webhook": "Webhook",
        "pull": gettext("pulled"),
        "exchange": gettext("exchange"),
    }
    return labels.get(kind, code)


SOURCE_LABEL = "orders.wording.source_label"
known_param(LEGACY[0], "source", SOURCE_LABEL)
# A HELD event keeps the hold's note as a parameter; a system note written as plain text (the address check's
# "recipient name missing; city missing") is shown through the known phrases, as the hold itself is.
known_param("On hold: %(reason)s. %(note)s", "note", "oms.wording.in_words")


def hold_text(hold) -> str:
    """A hold's note in the reader's language: its stored template (a system note written with ``msg``), else the
    known phrases (older notes, notes whose writer passed plain text); a person's note as it was written."""
    stored = getattr(hold, "words", None)
    if isinstance(stored, dict) and stored.get("m"):
        return render(stored)
    return in_words(getattr(hold, "note", "") or "")


# A classification's summary (orders/rules/classification.py ``Match.summary``): a row written before the summary
# kept its template holds it as plain text, read by its exact forms (orders/rules/summary_words.py); the codes in a
# part kept with its template (tags, service kind, capabilities, a hold reason) are shown as words too.
CLASSIFIED = gettext_noop("Classified: rule %(rule)s → %(summary)s")
known(CLASSIFIED)
known_param(CLASSIFIED, "summary", "orders.rules.summary_words.summary_in_words")
known_param("tags %(tags)s", "tags", "orders.tag_names.tag_names")
known_param("service %(kind)s", "kind", "orders.tag_names.service_kind_label")
known_param("location needs %(capabilities)s", "capabilities", "orders.tag_names.capability_labels")
known_param("hold %(reason)s", "reason", "orders.rules.summary_words.hold_reason_label")
# People's tag changes on the timeline (orders/services/memo_tags.py): the tags as their names.
known_param("added %(tags)s", "tags", "orders.tag_names.tag_names")
known_param("removed %(tags)s", "tags", "orders.tag_names.tag_names")
