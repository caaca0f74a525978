"""Fill a .po catalogue's empty Chinese strings from a JSON file {msgid: msgstr} (a translator's or a
reviewer's list), keeping every other entry as it is:

    python scripts/i18n/fill_po.py orders/locale/zh_Hans/LC_MESSAGES/django.po translations.json

Prints the msgids still without a translation. Plural entries take a list of strings.
"""

import json
import sys

from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> int:
    with open(json_path, encoding="utf-8") as handle:
        wanted = json.load(handle)
    with open(po_path, "rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in wanted:
            value = wanted[key]
            message.string = tuple(value) if isinstance(message.id, tuple | list) else value
            message.flags.discard("fuzzy")
        elif message.fuzzy or not (message.string if isinstance(message.string, str) else all(message.string)):
            missing.append(key)  # no Chinese yet, or a guess by msgmerge (fuzzy) that a person must check
    for message in catalog:  # Babel flags any "%" text python-format; xgettext's "no-python-format" wins
        if "no-python-format" in message.flags:
            message.flags.discard("python-format")
    with open(po_path, "wb") as handle:
        write_po(handle, catalog, width=0)
    for key in missing:
        print(key)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
