"""Every string the code marks for translation has Chinese (issue 17), checked from the source and not only from the
catalogues: a string marked since the catalogues were last refreshed is not in any ``django.po`` yet, so
tests/oms/test_translations.py cannot see it; here it must have its Chinese in a catalogue or in a translator's
list (scripts/i18n/zh/*.json, which scripts/i18n/refresh.py fills the catalogues from).

The strings are found as ``makemessages`` finds them: Python with its keywords, templates through Django's own
``templatize``. A gettext function imported under another name (``gettext as _t``) is never extracted, so its
strings would stay English on every page: that is refused too.
"""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

from babel.messages.extract import extract_python
from babel.messages.pofile import read_po
from django.utils.translation.template import templatize

from tests.oms.test_translations import APPS, ROOT, catalogues, templates

# makemessages' keywords for Python (django/core/management/commands/makemessages.py, xgettext's defaults)
KEYWORDS = {
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "_": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
TRANSLATION_FUNCTIONS = {name for name in KEYWORDS if name != "_"} | {"ngettext", "pgettext"}


def python_files() -> list[Path]:
    return sorted(p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _msgid(funcname: str, message) -> str | None:
    if isinstance(message, tuple):
        message = message[1] if funcname.startswith(("pgettext", "npgettext")) else message[0]
    return message or None


def marked_in_python(source: bytes) -> set[str]:
    found = set()
    for _lineno, funcname, message, _comments in extract_python(io.BytesIO(source), KEYWORDS.keys(), [], {}):
        msgid = _msgid(funcname, message)
        if msgid:
            found.add(msgid)
    return found


def marked_in_template(source: str) -> set[str]:
    # templatize writes Python-like lines for xgettext; babel's reader wants no indentation
    code = "\n".join(line.lstrip() for line in templatize(source).splitlines())
    return marked_in_python(code.encode())


def marked_strings() -> dict[str, str]:
    """msgid -> the first file that marks it."""
    found: dict[str, str] = {}
    for path in python_files():
        for msgid in marked_in_python(path.read_bytes()):
            found.setdefault(msgid, str(path.relative_to(ROOT)))
    for path in templates():
        for msgid in marked_in_template(path.read_text(encoding="utf-8")):
            found.setdefault(msgid, str(path.relative_to(ROOT)))
    return found


def chinese_known() -> set[str]:
    known: set[str] = set()
    for po in catalogues():
        with po.open("rb") as handle:
            for message in read_po(handle):
                texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
                if message.id and all(texts) and not message.fuzzy:
                    known.add(message.id if isinstance(message.id, str) else message.id[0])
    for path in sorted((ROOT / "scripts" / "i18n" / "zh").glob("*.json")):
        known.update(json.loads(path.read_text(encoding="utf-8")))
    return known


def hidden_aliases(source: str) -> list[str]:
    """``from django.utils.translation import gettext as _t``: names makemessages does not read."""
    hidden = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in TRANSLATION_FUNCTIONS and alias.asname and alias.asname not in KEYWORDS:
                    hidden.append(f"{alias.name} as {alias.asname}")
    return hidden


def test_every_marked_string_has_chinese_in_a_catalogue_or_a_list():
    known = chinese_known()
    marked = marked_strings()
    assert len(marked) > 1000  # the extraction saw the project
    missing = sorted(f"{where}: {msgid!r}" for msgid, where in marked.items() if msgid not in known)
    assert not missing, "marked for translation, no Chinese anywhere:\n  " + "\n  ".join(missing[:30])


def test_no_gettext_under_a_name_makemessages_does_not_extract():
    found = [
        f"{path.relative_to(ROOT)}: {', '.join(names)}"
        for path in python_files()
        if (names := hidden_aliases(path.read_text(encoding="utf-8")))
    ]
    assert not found, "these strings never reach a catalogue:\n  " + "\n  ".join(found)


def test_the_extraction_finds_what_makemessages_finds():
    python = b'a = _("One")\nb = gettext_lazy("Two")\nc = pgettext("ctx", "Three")\nd = _t("Hidden")\n'
    assert marked_in_python(python) == {"One", "Two", "Three"}
    template = (
        '{% load i18n %}<h1>{% translate "Orders" %}</h1>'
        "{% blocktranslate with n=x %}{{ n }} left{% endblocktranslate %}"
    )
    assert marked_in_template(template) == {"Orders", "%(n)s left"}
    assert hidden_aliases("from django.utils.translation import gettext as _t, gettext_lazy as _") == ["gettext as _t"]
