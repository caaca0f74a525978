"""manage.py import_rate_cards FILE... [--dry-run]: carrier rate cards from CSV (see logistics.rating)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from logistics.rate_cards import RATE_CARD_COLUMNS, rate_card_import


class Command(BaseCommand):
    help = "Import carrier rate cards from CSV with columns: " + ",".join(RATE_CARD_COLUMNS)

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--dry-run", action="store_true", help="check the rows, write nothing")

    def handle(self, *args, files, dry_run, **options):
        failed = False
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file")
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030", errors="replace")
            result = rate_card_import(text, dry_run=dry_run)
            summary = {
                "file": name,
                "rows": result.rows,
                "created": result.created,
                "updated": result.updated,
                "errors": result.errors,
                "dry_run": dry_run,
            }
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            failed = failed or bool(result.errors)
        if failed:
            raise CommandError("some rows have errors; their files were not imported")
