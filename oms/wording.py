"""Stored text in the reader's language (issue 17), for every app (the base package knows no app; each app
registers its phrases with ``known()``): a timeline row, a system hold note, a case's title are
written once, in English, and read by Chinese and English staff alike.

The writer builds the text with ``msg(gettext_noop("Order received from %(channel)s (%(source)s)…"),
channel=..., ...)``: a ``Msg`` is a ``str`` (the English rendering: what is stored in ``message``, searched,
logged and given by the API) that remembers its template and parameters. ``order_event_record`` stores
them with the row (``OrderEvent.words = {"m": template, "p": params}``); a page renders
``gettext(template) % params`` with each parameter in the reader's language:

- a plain value (a number, an SKU, a channel's name, a person's note) is shown as it is;
- ``label(SomeChoices.MEMBER)`` stores the choice's value and its class, and is shown as its translated label;
- a ``Msg`` inside a ``Msg`` (a reason that is itself a phrase) is translated the same way;
- ``via(text, "app.module.function")`` is shown through that function (routing's ``in_words``);
- ``msg_list([...], ", ")`` joins values (each of the kinds above).

A row without a template (written before this, or by code that passes a plain string) is shown through the
known phrases (``KNOWN``: the templates of this module and those registered with ``known()``), matched like
``fulfillment/routing/words.py`` matches routing text; what matches nothing is shown as it was stored.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Msg(str):
    """English text that remembers how it was made: ``template % params`` (see the module's doc)."""

    template: str
    params: dict

    def __new__(cls, template: str, params: dict):
        english = _english(template, params)
        text = super().__new__(cls, english)
        text.template, text.params = template, params
        return text

    def stored(self) -> dict:
        """The JSON kept with the row: ``{"m": template, "p": {name: param}}``."""
        out = {"m": self.template}
        if self.params:
            out["p"] = {name: _store(value) for name, value in self.params.items()}
        return out


class Label:
    """A choice (status, hold reason, event kind…) shown through its translated label. Made through ``label()``,
    which keeps one per member and process: its English label is read once, here."""

    def __init__(self, member):
        self.cls = f"{type(member).__module__}.{type(member).__qualname__}"
        self.value = member.value
        with translation.override("en"):
            self.english = str(member.label)

    def __str__(self) -> str:
        return self.english


class Via(str):
    """Text another module knows how to translate (e.g. a routing reason, ``fulfillment.routing.words.in_words``):
    stored with the dotted path of that function, shown through it."""

    path: str

    def __new__(cls, text, path: str):
        value = super().__new__(cls, str(text))
        value.path = path
        return value

    @property
    def text(self) -> str:
        return str.__str__(self)


class MsgList:
    """Values joined by ``sep`` (each a plain value, a ``Label`` or a ``Msg``)."""

    def __init__(self, items, sep: str = ", "):
        self.items, self.sep = list(items), sep

    def __str__(self) -> str:
        return self.sep.join(str(i) for i in self.items)


def msg(template: str, **params) -> Msg:
    """The English text of ``template`` (marked with ``gettext_noop`` where it is written) and its parameters."""
    return Msg(template, params)


def label(member) -> Label:
    """The member's Label: made once per member and process, the only cache of a choice's English label (it is
    read under ``translation.override``, which costs more than the rest of a timeline row, and a routing window
    writes thousands of status rows; a Label is never changed)."""
    key = (type(member), member)  # by class too: a str choice equals its value, and values repeat across classes
    try:
        return _made_labels[key]
    except KeyError:
        made = _made_labels[key] = Label(member)
        return made
    except TypeError:  # not hashable: made each time
        return Label(member)


_made_labels: dict = {}  # (class, member) -> Label


def via(text, path: str) -> Via:
    return Via(text, path)


def msg_list(items, sep: str = ", ") -> MsgList:
    return MsgList(items, sep)


def _english(template: str, params: dict) -> str:
    values = {name: str(value) for name, value in params.items()}
    try:
        return template % values if values or "%%" in template else template
    except (KeyError, ValueError, TypeError):
        return template


def _store(value):
    if isinstance(value, Msg):
        return value.stored()
    if isinstance(value, Label):
        return {"e": value.cls, "v": value.value}
    if isinstance(value, Via):
        return {"x": value.path, "v": value.text}
    if isinstance(value, MsgList):
        return {"l": [_store(i) for i in value.items], "s": value.sep}
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return value
    return str(value)


def event_words(message) -> dict:
    """What ``OrderEvent.words`` keeps of a message: its template and parameters, or {} for plain text
    (``order_event_record`` uses it; so does a set-based writer such as the bulk intake)."""
    if isinstance(message, Msg):
        return message.stored()
    if isinstance(message, Via):  # a text another module translates, as it is
        return {"m": "%(text)s", "p": {"text": _store(message)}}
    return {}


# ---- reading ---------------------------------------------------------------------------------------------


@cache
def _choices(path: str):
    try:
        return import_string(path)
    except ImportError:
        return None


def _param(value) -> str:
    if isinstance(value, dict):
        if "m" in value:
            return render(value)
        if "e" in value:
            cls = _choices(str(value["e"]))
            try:
                return str(cls(value.get("v")).label) if cls is not None else str(value.get("v"))
            except ValueError:  # a value the class no longer has
                return str(value.get("v"))
        if "x" in value:
            translate = _choices(str(value["x"]))
            try:
                return str(translate(value.get("v"))) if translate is not None else str(value.get("v"))
            except Exception:  # noqa: BLE001 (a translator that fails shows the stored text)
                return str(value.get("v"))
        if "l" in value:
            sep = str(value.get("s", ", "))
            return (gettext(sep) if sep.strip() else sep).join(_param(i) for i in value.get("l") or [])
    return "" if value is None else str(value)


def render(stored: dict) -> str:
    """A stored template in the active language: its translation with the parameters put in; the English
    template when the translation does not fit the parameters; the template as it is when even that fails."""
    template = str(stored.get("m") or "")
    raw = stored.get("p") or {}
    params = {name: _param(value) for name, value in raw.items()} if isinstance(raw, dict) else {}
    for name, value in raw.items() if isinstance(raw, dict) else ():
        if not isinstance(value, dict) and (template, name) in KNOWN_PARAMS:  # a code stored as plain text
            params[name] = _shown(KNOWN_PARAMS[(template, name)], params[name])
    for text in (gettext(template), template):
        try:
            return text % params if params or "%%" in text else text
        except (KeyError, ValueError, TypeError):
            continue
    return template


def event_text(event) -> str:
    """An order event's text in the reader's language (its stored template, else the known phrases)."""
    stored = getattr(event, "words", None)
    if isinstance(stored, dict) and stored.get("m"):
        return render(stored)
    return in_words(getattr(event, "message", "") or "")


# ---- text stored without its template: the known phrases -------------------------------------------------

# Phrases written before the template was kept with the row (and system hold notes, which have no room for
# it): matched whole, each value shown as it is (or, when it is itself a known phrase, translated).
KNOWN: list[str] = []


# (template, parameter) -> the dotted path of the function that shows that parameter's stored value (a code
# such as an order's source, "form" → 表单) in the reader's language: for rows whose parameter was stored plain.
KNOWN_PARAMS: dict[tuple[str, str], str] = {}


def known_param(template: str, name: str, path: str) -> None:
    """Show parameter ``name`` of ``template`` through the function at ``path`` (like ``via()``, for values
    already stored as plain text)."""
    KNOWN_PARAMS[(template, name)] = path


# (template, parameter) -> the shape its value must have for a stored text to be that phrase: a regular expression
# (or a function returning one, worked out when first matched: e.g. a choices class's English labels). A phrase
# made mostly of values ("%(tracking)s: %(status)s") would otherwise take texts that are not ours (a person's note
# "Customer: called twice") and re-word them; with shapes it takes only what its writer can have written.
KNOWN_SHAPES: dict[tuple[str, str], object] = {}

# Shapes the writers share.
NUMBER = r"-?\d+(?:\.\d+)?"
DAY = r"\d{4}-\d{2}-\d{2}"
# A carrier's tracking number (or our parcel's): letters, digits and - . / _ with at least one digit, no spaces.
TRACKING_NUMBER = r"(?=[A-Za-z0-9._/-]*\d)[A-Za-z0-9][A-Za-z0-9._/-]*"


def known_shape(template: str, **shapes) -> None:
    """Narrow a known phrase: each named parameter's value must match its shape (a regular expression, or a
    function returning one) whole, or the text is not that phrase (and stays as it came)."""
    for name, shape in shapes.items():
        KNOWN_SHAPES[(template, name)] = shape
    _pattern.cache_clear()


def labels_of(*classes, lower: bool = False):
    """A shape for ``known_shape``: the English label of any member of the choices ``classes`` (``lower``: as the
    writer puts it in a sentence, in lower case)."""

    def shape() -> str:
        with translation.override("en"):
            labels = {str(member.label) for cls in classes for member in cls}
        if lower:
            labels = {label.lower() for label in labels}
        return "(?:" + "|".join(re.escape(t) for t in sorted(labels, key=len, reverse=True)) + ")"

    return shape


def _shape(phrase: str, name: str) -> str:
    shape = KNOWN_SHAPES.get((phrase, name))
    if shape is None:
        return ".+?"
    return shape() if callable(shape) else str(shape)


def _shown(path: str, value) -> str:
    translate = _choices(path)
    try:
        return str(translate(value)) if translate is not None else str(value)
    except Exception:  # noqa: BLE001 (a translator that fails shows the stored text)
        return str(value)


def known(*templates: str) -> None:
    """Register phrases for text stored without its template (legacy rows, hold notes, case titles)."""
    for template in templates:
        if template not in KNOWN:
            KNOWN.append(template)
    KNOWN.sort(key=lambda p: -len(PLACEHOLDER.sub("", p)))
    _pattern.cache_clear()


@cache
def _pattern(phrase: str) -> re.Pattern:
    parts, at = [], 0
    for m in PLACEHOLDER.finditer(phrase):
        parts.append(re.escape(phrase[at : m.start()].replace("%%", "%")))
        parts.append(f"(?P<{m.group(1)}>{_shape(phrase, m.group(1))})")
        at = m.end()
    parts.append(re.escape(phrase[at:].replace("%%", "%")))
    return re.compile("^" + "".join(parts) + "$", re.S)


def in_words(text) -> str:
    """Text stored without its template, in the active language when it is a known phrase; else as it is. A text
    listing phrases ("too heavy: …; no freight for bulky goods") whose every part is a known phrase is shown part
    by part (a short phrase such as "%(tracking)s: %(status)s" would otherwise take the whole list)."""
    if not text:
        return text or ""
    text = str(text)
    if "; " in text:
        parts = [_phrase(part) for part in text.split("; ")]
        if all(part is not None for part in parts):
            return gettext("; ").join(parts)
    whole = _phrase(text)
    if whole is not None:
        return whole
    if "; " in text:  # a note listing several phrases (a hold's note: "recipient name missing; city missing")
        parts = text.split("; ")
        shown = [in_words(part) for part in parts]
        if shown != parts:
            return gettext("; ").join(shown)
    return text


def _phrase(text: str) -> str | None:
    """``text`` in the active language if it is one known phrase (its values put back), else None."""
    for phrase in KNOWN:
        m = _pattern(phrase).match(text)
        if m:
            values = {
                name: _shown(KNOWN_PARAMS[(phrase, name)], value) if (phrase, name) in KNOWN_PARAMS else _value(value)
                for name, value in m.groupdict().items()
            }
            try:
                return gettext(phrase) % values if values else gettext(phrase)
            except (KeyError, ValueError, TypeError):
                return text
    return None


def _value(text: str) -> str:
    """A value cut out of a known phrase: a known phrase itself, a label of a status or reason, or as it is."""
    labels = _labels()
    if text in labels:
        return str(labels[text])
    if "; " in text:  # a list of phrases
        return gettext("; ").join(_value(part) for part in text.split("; "))
    return in_words(text)


# Choices whose English labels a phrase stored without its template may hold as a value (statuses, reasons).
KNOWN_CHOICES: list = []


def known_choices(*classes) -> None:
    """Register choices classes whose labels, found as a value of a known phrase, are shown translated."""
    KNOWN_CHOICES.extend(c for c in classes if c not in KNOWN_CHOICES)
    _labels.cache_clear()


@cache
def _labels() -> dict[str, object]:
    """English label -> its lazy label (translated when shown), over ``KNOWN_CHOICES`` (orders/status.py
    registers its statuses and hold reasons)."""
    found = {}
    with translation.override("en"):
        for cls in KNOWN_CHOICES:
            for member in cls:
                found.setdefault(str(member.label), member.label)
                found.setdefault(str(member.label).lower(), member.label)
    return found
