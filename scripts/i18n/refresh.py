"""Bring every catalogue up to date with the code and fill it from the translators' lists:

    python scripts/i18n/refresh.py

For each app with a ``locale/`` folder (and the project's ``locale/`` for the shared ``templates/``),
``makemessages -l zh_Hans --no-obsolete`` run from inside that folder (so only its files go into its
catalogue), then every ``scripts/i18n/zh/*.json`` ({msgid: 中文}, kept by whoever added the strings) fills the
empty entries (``fill_po.py``). Prints, per catalogue, the msgids still without Chinese.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def wanted() -> dict:
    merged: dict = {}
    for path in sorted((ROOT / "scripts" / "i18n" / "zh").glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def folders() -> list[Path]:
    return [p.parent for p in sorted(ROOT.glob("*/locale"))]


def makemessages(where: Path, extra: list[str]) -> None:
    env = {**os.environ, "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [PY, str(ROOT / "manage.py"), "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v0", *extra],
        cwd=where,
        env=env,
        check=True,
    )


def fill(po: Path, translations: dict) -> list[str]:
    with po.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        empty = not (message.string if isinstance(message.string, str) else all(message.string))
        if key in translations and (empty or message.fuzzy):
            value = translations[key]
            message.string = tuple(value) if isinstance(message.id, tuple | list) else value
            message.flags.discard("fuzzy")
        elif empty or message.fuzzy:
            missing.append(key)
    for message in catalog:  # Babel flags any "%" text python-format; xgettext's "no-python-format" wins
        if "no-python-format" in message.flags:
            message.flags.discard("python-format")
    with po.open("wb") as handle:
        write_po(handle, catalog, width=0)
    return missing


def main() -> int:
    translations = wanted()
    for app in folders():
        makemessages(app, [])
    # the shared templates/ folder: its catalogue is the project's locale/
    ignored = [p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "templates"]
    makemessages(ROOT, [arg for name in ignored for arg in ("--ignore", name)])
    status = 0
    catalogues = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")) + [
        ROOT / "locale/zh_Hans/LC_MESSAGES/django.po"
    ]
    for po in catalogues:
        missing = fill(po, translations)
        if missing:
            status = 1
            print(f"{po.relative_to(ROOT)}: {len(missing)} without Chinese")
            for key in missing:
                print(f"    {key}")
    return status


if __name__ == "__main__":
    sys.exit(main())
