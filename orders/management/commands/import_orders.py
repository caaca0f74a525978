import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.importers import unused_columns
from orders.intake.importer import FORMATS, ImportReport, import_file
from orders.models import Channel, ChannelKind


class Command(BaseCommand):
    help = (
        "Import order files. Exit 0 when every order was accepted (a duplicate counts as accepted), "
        "1 when some were rejected, 2 when a file cannot be used."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+")
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument("--channel", default="spreadsheet", help="Channel slug (default: spreadsheet).")
        parser.add_argument("--dry-run", action="store_true", help="Parse and check only; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args, files, format, channel, dry_run, **options):  # noqa: A002
        channel_obj = Channel.objects.filter(slug=channel).first()
        if channel_obj is None:
            if channel != "spreadsheet":
                raise CommandError(f"No channel '{channel}'.")
            channel_obj = Channel.objects.create(slug="spreadsheet", name="Spreadsheet", kind=ChannelKind.SPREADSHEET)
        report = ImportReport()
        unused: dict[str, list[str]] = {}
        for name in files:
            import_file(path=Path(name), fmt=format, channel=channel_obj, report=report, dry_run=dry_run)
            columns = unused_columns(Path(name), format)
            if columns:
                unused[name] = columns
        self._print(report, as_json=options["json"], dry_run=dry_run, unused=unused)
        if report.exit_code:
            raise SystemExit(report.exit_code)

    def _print(self, report: ImportReport, *, as_json: bool, dry_run: bool, unused: dict) -> None:
        if as_json:
            summary = report.as_dict() | ({"unused_columns": unused} if unused else {})
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        prefix = "Dry run: would create" if dry_run else "Created"
        self.stdout.write(
            f"{prefix} {report.created} order(s) ({report.held} on hold), {report.duplicates} duplicate(s), "
            f"{report.rejected} rejected."
        )
        for name, columns in unused.items():
            self.stdout.write(f"{name}: {len(columns)} column(s) not used: {', '.join(columns)}")
        for error in report.errors:
            where = f"{error['file']}" + (f" row {error['row']}" if error["row"] else "")
            field = f" {error['field']}:" if error["field"] else ""
            self.stderr.write(f"{where}:{field} {error['message']}")
