"""Import order files: store each file, parse it streaming, create orders one by one so a bad
order never holds the good ones hostage, and report per file, row and field."""

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from inventory.selectors import products_by_sku

from .. import services
from ..models import Channel, InboundStatus
from . import oms_csv
from .canonical import OrderRejected, check
from .files import FileUnusable, open_text

FORMATS = {"oms-csv": oms_csv.read_orders}


@dataclass
class ImportReport:
    created: int = 0
    duplicates: int = 0
    held: int = 0
    rejected: int = 0
    errors: list[dict] = field(default_factory=list)
    unusable_files: int = 0

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "held": self.held,
            "rejected": self.rejected,
            "errors": self.errors,
        }

    @property
    def exit_code(self) -> int:
        if self.unusable_files:
            return 2
        return 1 if self.rejected else 0


def _keep_copy(path: Path) -> tuple[str, dict]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    target_dir = Path(settings.MEDIA_ROOT) / "inbound" / timezone.now().strftime("%Y%m%d")
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{digest.hexdigest()[:16]}-{path.name}"
    if not target.exists():
        shutil.copyfile(path, target)
    return str(target), {"size": path.stat().st_size, "sha256": digest.hexdigest(), "original": str(path)}


def import_file(
    *, path: Path, fmt: str, channel: Channel, report: ImportReport, dry_run: bool = False, user=None
) -> None:
    reader = FORMATS[fmt]
    message = None
    if not dry_run:
        stored = path
        headers: dict = {}
        if path.exists():
            stored_path, headers = _keep_copy(path)
            stored = Path(stored_path)
        message = services.inbound_store(
            source=f"file:{fmt}", channel=channel, filename=str(stored), headers=headers, body=""
        )
    file_report = ImportReport()
    try:
        handle, encoding = open_text(path)
        with handle:
            for row, parsed in reader(handle):
                _one(
                    parsed, row=row, path=path, channel=channel, report=file_report, dry_run=dry_run, user=user, fmt=fmt
                )
    except FileUnusable as exc:
        file_report.unusable_files += 1
        file_report.errors.append({"file": str(path), "row": None, "field": None, "message": str(exc)})
    except (OSError, UnicodeError, ValueError) as exc:
        file_report.unusable_files += 1
        file_report.errors.append(
            {"file": str(path), "row": None, "field": None, "message": f"the file cannot be read: {exc}"}
        )
    for name in ("created", "duplicates", "held", "rejected", "unusable_files"):
        setattr(report, name, getattr(report, name) + getattr(file_report, name))
    report.errors.extend(file_report.errors)
    if message is not None:
        if file_report.unusable_files:
            status = InboundStatus.FAILED
        elif file_report.rejected:
            status = InboundStatus.PARTIAL
        else:
            status = InboundStatus.PROCESSED
        services.inbound_record_outcome(
            message,
            status=status,
            error="; ".join(e["message"] for e in file_report.errors[:20]),
            result=file_report.as_dict() | {"errors": file_report.errors[:500]},
        )


def _one(parsed, *, row, path, channel, report, dry_run, user, fmt) -> None:
    if isinstance(parsed, OrderRejected):
        _reject(report, parsed, path, row)
        return
    if dry_run:
        try:
            check(parsed)
        except OrderRejected as exc:
            _reject(report, exc, path, row)
            return
        known = products_by_sku({line.sku for line in parsed.lines})
        exists = channel.orders.filter(external_id=parsed.external_id).exists()
        if exists:
            report.duplicates += 1
        else:
            report.created += 1
            if parsed.holds or any(line.sku not in known for line in parsed.lines):
                report.held += 1
        return
    try:
        result = services.order_create(channel=channel, data=parsed, source=f"file:{fmt}", user=user)
    except OrderRejected as exc:
        _reject(report, exc, path, row)
        return
    if not result.created:
        report.duplicates += 1
    else:
        report.created += 1
        if result.order.on_hold:
            report.held += 1


def _reject(report: ImportReport, rejection: OrderRejected, path: Path, row: int) -> None:
    report.rejected += 1
    for error in rejection.errors:
        report.errors.append(
            {"file": str(path), "row": error.row or row, "field": error.field, "message": error.message}
        )
