"""Who changed a setting, from what to what, and when: the row Django's admin keeps for a change (``LogEntry``:
user, time, object, message), as the customer's credit terms and the peak events API write it. A page shows an
object's rows (``history``), and so does the admin's History of a registered model.

A settings change is stored in English, one phrase per changed setting, joined by "; "
(``"merge window (minutes): 30 → 45; automatic merge on: off → on"``), and read in the reader's language as a known
phrase (``oms.wording``): the setting's name is the msgid its model or form already has, the values stay as they are
except the words this module writes itself (on, off, none, hidden) and the labels of the choices a writer names.
"""

import re
from functools import cache

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

from .wording import known, known_param, known_shape

CHANGED = gettext_noop("%(setting)s: %(old)s → %(new)s")
# The values this module writes for what has no text of its own: a switch, nothing set, a secret.
WORDS = {True: gettext_noop("on"), False: gettext_noop("off"), None: gettext_noop("none")}
HIDDEN = gettext_noop("hidden")
REPLACED = gettext_noop("replaced")
LENGTH = 2000  # what the admin's change message holds here (it is a TextField; kept short for the pages)

# The English names of the settings writers record (``names``): a stored phrase is ours only with one of them.
SETTING_NAMES: set[str] = set()
# Choices classes (dotted paths) whose English labels, stored as a value, are shown translated.
CHOICES: set[str] = set()


def names(*english: str, choices: tuple[str, ...] = ()) -> None:
    """Register the English names of a writer's settings (msgids: its model's verbose names, its form's labels)
    and the dotted paths of the choices classes whose labels its values may be."""
    SETTING_NAMES.update(english)
    CHOICES.update(choices)
    _labels.cache_clear()
    known_shape(CHANGED, setting=_setting_shape)  # the phrase's pattern is made again with these names


def shown(value) -> str:
    """A setting's value as the change stores it: on/off, none, a list joined by ", ", else its text."""
    if isinstance(value, bool) or value is None or value == "":
        return WORDS[value if value != "" else None]
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value) if value else WORDS[None]
    return str(value)


def changes(before: dict, after: dict, settings: dict[str, str]) -> list[str]:
    """One phrase for each of ``settings`` ({key: English name}) whose shown value differs, in their order."""
    out = []
    for key, name in settings.items():
        old, new = shown(before.get(key)), shown(after.get(key))
        if old != new:
            out.append(CHANGED % {"setting": name, "old": old, "new": new})
    return out


def record(*, obj, user, message: str) -> LogEntry | None:
    """Keep ``message`` as ``user``'s change of ``obj`` (now). Nothing without a message or a person to name."""
    if not message or user is None or not getattr(user, "pk", None):
        return None
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type_id=ContentType.objects.get_for_model(type(obj)).pk,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=CHANGE,
        change_message=message[:LENGTH],
    )


def record_changes(*, obj, user, before: dict, after: dict, settings: dict[str, str]) -> LogEntry | None:
    """``record`` the phrases of what changed between ``before`` and ``after`` (see ``changes``)."""
    return record(obj=obj, user=user, message="; ".join(changes(before, after, settings)))


def history(obj, limit: int = 20) -> list[LogEntry]:
    """The newest changes of ``obj``, with their person."""
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk))
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )


# ---- reading: a stored phrase in the reader's language -------------------------------------------------------


@cache
def _labels() -> dict[str, object]:
    labels = {}
    with translation.override("en"):
        for path in CHOICES:
            for member in import_string(path):
                labels[str(member.label)] = member.label
    return labels


def setting_words(value) -> str:
    """A setting's name (its English msgid) in the reader's language."""
    return gettext(str(value))


def value_words(value) -> str:
    """A value in the reader's language when this module or a named choices class wrote it; else as it is."""
    value = str(value)
    if value in (*WORDS.values(), HIDDEN, REPLACED):
        return gettext(value)
    label = _labels().get(value)
    return str(label) if label is not None else value


def _setting_shape() -> str:
    return "(?:" + "|".join(re.escape(n) for n in sorted(SETTING_NAMES, key=len, reverse=True)) + ")"


known(CHANGED)
known_shape(CHANGED, setting=_setting_shape)
known_param(CHANGED, "setting", "oms.changelog.setting_words")
known_param(CHANGED, "old", "oms.changelog.value_words")
known_param(CHANGED, "new", "oms.changelog.value_words")
