"""A classification summary in the reader's language ("Classified: rule Fresh goods → tags fresh; priority 1"),
for the timeline rows written before the summary kept its template (issue 17).

Chosen over a data migration: the rows keep their English as written (``OrderEvent.message`` is what search,
logs and the API give), nothing is rewritten or lost, and a row of any age reads the same. The old summary is
read part by part against the exact forms ``Match.summary`` wrote ("tags …", "priority N", "service <kind>",
"location needs <capabilities>", "packing: …", "hold <reason>", "stop", "no action"); a summary with a part it
does not know is shown as it was stored. The codes inside are shown as words: tags as their names, the service
kind, capabilities and hold reason as their labels.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

from ..status import HoldReason
from ..tag_names import capability_labels, service_kind_label, tag_names

CODE = r"[a-z][a-z0-9_]*"
TAGS = gettext_noop("tags %(tags)s")
PRIORITY = gettext_noop("priority %(priority)s")
SERVICE = gettext_noop("service %(kind)s")
CAPABILITIES = gettext_noop("location needs %(capabilities)s")
PACKING = gettext_noop("packing: %(note)s")
HOLD = gettext_noop("hold %(reason)s")
STOP = gettext_noop("stop")
NO_ACTION = gettext_noop("no action")

# (the part's exact form, its template, how each value is shown)
PARTS = [
    (re.compile(r"tags (?P<tags>\S.*)"), TAGS, {"tags": tag_names}),
    (re.compile(r"priority (?P<priority>-?\d+)"), PRIORITY, {}),
    (re.compile(rf"service (?P<kind>{CODE})"), SERVICE, {"kind": service_kind_label}),
    (
        re.compile(rf"location needs (?P<capabilities>{CODE}(?:, {CODE})*)"),
        CAPABILITIES,
        {"capabilities": capability_labels},
    ),
    (re.compile(r"packing: (?P<note>.*)", re.S), PACKING, {}),
    (re.compile(rf"hold (?P<reason>{CODE})"), HOLD, {"reason": lambda v: hold_reason_label(v)}),
    (re.compile(r"stop"), STOP, {}),
    (re.compile(r"no action"), NO_ACTION, {}),
]


def hold_reason_label(code) -> str:
    """A hold reason's code ("manual", "address_invalid") or English label as its label; else as it is."""
    text = "" if code is None else str(code)
    try:
        return str(HoldReason(text).label)
    except ValueError:
        return text


def _part(text: str) -> tuple[str, dict] | None:
    for pattern, template, shown in PARTS:
        m = pattern.fullmatch(text)
        if m:
            values = {name: shown.get(name, str)(value) for name, value in m.groupdict().items()}
            return template, values
    return None


def summary_in_words(text) -> str:
    """An old classification summary in the active language; as it was stored when a part is not one of its forms.
    A packing note may itself hold "; ": what follows "packing: …" and is no form of its own belongs to the note."""
    text = "" if text is None else str(text)
    if not text:
        return text
    read: list[tuple[str, dict]] = []
    for piece in text.split("; "):
        found = _part(piece)
        if found is None:
            if read and read[-1][0] == PACKING:
                template, values = read[-1]
                read[-1] = (template, {"note": f"{values['note']}; {piece}"})
                continue
            return text
        read.append(found)
    return gettext("; ").join(gettext(template) % values if values else gettext(template) for template, values in read)
