"""Import order files: store each file, parse it streaming, create orders in batches (see
bulk.py) so a bad order never holds the good ones hostage, and report per file, row and field."""

import gc
import hashlib
import logging
import shutil
import threading
import zipfile
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .. import services
from ..models import Channel, InboundMessage, InboundStatus
from ..selectors import products_for_channel
from . import amazon_tsv, bulk, oms_csv, oms_xlsx, shopify_csv, shopify_json, woocommerce_json
from .canonical import OrderRejected, check
from .files import FileUnusable, open_text
from .read_ahead import read_ahead

# --format name -> reader(handle) yielding (row, CanonicalOrder | OrderRejected)
FORMATS = {
    "oms-csv": oms_csv.read_orders,
    "oms-xlsx": oms_xlsx.read_orders,
    "shopify-csv": shopify_csv.read_orders,
    "amazon-tsv": amazon_tsv.read_orders,
    "shopify-json": shopify_json.read_orders,
    "woocommerce-json": woocommerce_json.read_orders,
}
BINARY_FORMATS = {"oms-xlsx"}
logger = logging.getLogger(__name__)


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

    def add(self, other: "ImportReport") -> None:
        for name in ("created", "duplicates", "held", "rejected", "unusable_files"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)


def keep_copy(path: Path) -> tuple[str, dict]:
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


# While a file is imported, the cyclic garbage collector runs after this many new objects instead of
# Python's 700: an import makes and drops hundreds of thousands of small objects (cells, rows, tuples)
# that reference counting frees, and each early collection walks every object the process holds.
GC_THRESHOLD = 50_000
_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections():
    """Raise the collector's first threshold while the block runs (imports in several threads: the
    first one in raises it, the last one out puts back what it was)."""
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(max(GC_THRESHOLD, _gc_saved[0]), *_gc_saved[1:])
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)


def default_format(channel: Channel, path: Path) -> str:
    """The format a channel's files are in: by platform, else by the file's suffix."""
    suffix = path.suffix.lower()
    if channel.platform == "shopify":
        return "shopify-json" if suffix == ".json" else "shopify-csv"
    if channel.platform == "woocommerce":
        return "woocommerce-json"
    if channel.platform == "amazon":
        return "amazon-tsv"
    return {".xlsx": "oms-xlsx"}.get(suffix, "oms-csv")


def import_file(
    *,
    path: Path,
    fmt: str,
    channel: Channel,
    report: ImportReport,
    dry_run: bool = False,
    user=None,
    message: InboundMessage | None = None,
) -> InboundMessage | None:
    """Import one file. Unless dry_run, the file is copied and stored as an inbound message first
    (or ``message``, a stored one, is re-run) and the outcome is recorded on it."""
    reader = FORMATS[fmt]
    if not dry_run and message is None:
        stored, headers = path, {}
        if path.exists():
            stored_path, headers = keep_copy(path)
            stored = Path(stored_path)
        message = services.inbound_store(
            source=f"file:{fmt}", channel=channel, filename=str(stored), headers=headers, body=""
        )
    file_report = ImportReport()
    source = f"file:{fmt}"
    with fewer_collections():
        _import_rows(path, fmt, reader, channel, file_report, dry_run=dry_run, user=user, source=source)
    report.add(file_report)
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
            result=file_report.as_dict() | {"errors": file_report.errors[:500], "format": fmt},
        )
    return message


def _import_rows(path: Path, fmt: str, reader, channel, file_report: ImportReport, *, dry_run, user, source) -> None:
    """Read the file and create its orders batch by batch; what goes wrong is recorded in file_report."""
    try:
        if not path.exists():
            raise FileUnusable(f"{path}: no such file.")
        if path.stat().st_size == 0:
            raise FileUnusable(f"{path.name}: the file is empty.")
        if fmt in BINARY_FORMATS:
            handle = path.open("rb")
        else:
            handle, _encoding = open_text(path)
        names: dict[str, str] = {}  # channel order name -> external id, across the file's batches
        with handle, closing(read_ahead(lambda: checked_ahead(reader(handle), check_ahead=not dry_run))) as items:
            batch: list = []
            for row, parsed, refused in items:
                if isinstance(parsed, OrderRejected):
                    _reject(file_report, parsed, path, row)
                elif dry_run:
                    _dry_run_one(parsed, row=row, path=path, channel=channel, report=file_report, names=names)
                else:
                    batch.append((row, refused or parsed))
                    if len(batch) >= bulk.BATCH_SIZE:
                        _flush(
                            batch, channel=channel, source=source, user=user, report=file_report, path=path, names=names
                        )
                        batch = []
            if batch:
                _flush(batch, channel=channel, source=source, user=user, report=file_report, path=path, names=names)
    except FileUnusable as exc:
        file_report.unusable_files += 1
        file_report.errors.append({"file": str(path), "row": None, "field": None, "message": str(exc)})
    except (OSError, UnicodeError, ValueError, zipfile.BadZipFile) as exc:
        file_report.unusable_files += 1
        file_report.errors.append(
            {"file": str(path), "row": None, "field": None, "message": f"the file cannot be read: {exc}"}
        )
    except Exception as exc:  # noqa: BLE001 - the command never crashes: the file is reported, the rest goes on
        logger.exception("import of %s stopped", path)
        file_report.unusable_files += 1
        file_report.errors.append(
            {
                "file": str(path),
                "row": None,
                "field": None,
                "message": f"the import of this file stopped ({exc.__class__.__name__}); orders before it are kept.",
            }
        )


def checked_ahead(rows, *, check_ahead: bool):
    """(row, order or the reader's rejection, the checks' rejection or None): with ``check_ahead`` the
    checks (``canonical.check``: pure Python, no database) run here, in the reading process, while the
    database writes the previous batch; ``bulk.create_batch(checked=True)`` then reports an order they
    refused at its place in the batch, as if it had checked it itself."""
    for row, parsed in rows:
        refused = None
        if check_ahead and not isinstance(parsed, OrderRejected):
            try:
                check(parsed)
            except OrderRejected as exc:
                refused = exc
        yield row, parsed, refused


def _flush(batch, *, channel, source, user, report: ImportReport, path: Path, names: dict) -> None:
    outcomes = bulk.create_batch(channel=channel, items=batch, source=source, user=user, names=names, checked=True)
    for outcome in outcomes:
        if outcome.status == "rejected":
            _reject(report, OrderRejected(outcome.errors), path, outcome.row)
        elif outcome.status == "duplicate":
            report.duplicates += 1
            _note(report, outcome.errors, path, outcome.row)
        else:
            report.created += 1
            report.held += int(outcome.held)


def _dry_run_one(parsed, *, row, path, channel, report, names: dict) -> None:
    try:
        check(parsed)
    except OrderRejected as exc:
        _reject(report, exc, path, row)
        return
    known = products_for_channel(channel, {line.sku for line in parsed.lines})
    if channel.orders.filter(external_id=parsed.external_id).exists():
        report.duplicates += 1
        return
    clash = bulk.name_duplicate(parsed, names)
    if clash is not None:
        report.duplicates += 1
        _note(report, [clash], path, row)
        return
    report.created += 1
    if not parsed.cancelled_reason and (parsed.holds or any(line.sku not in known for line in parsed.lines)):
        report.held += 1


def _note(report: ImportReport, errors: list, path: Path, row: int) -> None:
    """Why an order was left out as a duplicate, when it says more than "already imported"."""
    for error in errors:
        report.errors.append(
            {"file": str(path), "row": error.row or row, "field": error.field, "message": error.message}
        )


def _reject(report: ImportReport, rejection: OrderRejected, path: Path, row: int) -> None:
    report.rejected += 1
    for error in rejection.errors:
        report.errors.append(
            {"file": str(path), "row": error.row or row, "field": error.field, "message": error.message}
        )
