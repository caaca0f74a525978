"""The branch's Chinese (scripts/i18n/zh/china-rest.json) as a catalogue for tests, before the lead
fills the .po files from it at merge: ``with branch_chinese(tmp_path): ...`` puts a compiled copy first
in LOCALE_PATHS (Django's setting_changed signal drops the cached translations on entry and exit)."""

import json
from contextlib import contextmanager
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from django.conf import settings
from django.test import override_settings

LISTS = Path(__file__).resolve().parents[2] / "scripts" / "i18n" / "zh"
LIST = LISTS / "china-rest.json"


@contextmanager
def branch_chinese(directory: Path, name: str = "china-rest.json", contexts: tuple[str, ...] = ()):
    """``name``: the branch's list under scripts/i18n/zh/; ``contexts``: pgettext contexts its entries are for too
    (the list names no context: scripts/i18n/refresh.py fills a context's entry by its msgid)."""
    catalog = Catalog(locale="zh_Hans")
    for msgid, msgstr in json.loads((LISTS / name).read_text(encoding="utf-8")).items():
        if isinstance(msgstr, str):  # a plural entry (a list) needs its plural msgid: the .po has it, not the list
            catalog.add(msgid, msgstr)
            for context in contexts:
                catalog.add(msgid, msgstr, context=context)
    target = directory / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / "django.mo", "wb") as handle:
        write_mo(handle, catalog)
    with override_settings(LOCALE_PATHS=[str(directory), *settings.LOCALE_PATHS]):
        yield
