"""The parts of an import job (oms/imports.py) that keep big files out of the web request and no
job stuck: the size caps, the preview (read in the upload request only for a small file, else by
the worker, and always from a bounded sample), and the sweep that ends a job whose worker died.

Settings: IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, IMPORT_MAX_CELL_CHARS (enforced by the row readers),
IMPORT_PREVIEW_INLINE_BYTES, IMPORT_STALE_MINUTES (README "Importing orders").
"""

import logging
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .background import Probe, StuckItem, stuck_items
from .background import register_probe as register
from .column_mapping import OPTION_KEY as MAPPING_KEY
from .imports import FileUnusable, PreviewResult, count_data_rows, file_format, get_importer
from .models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)
PREVIEW_BYTES = 1024 * 1024  # the part of a text file a preview reads


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 200 * 1024 * 1024))


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 1_000_000))


def inline_bytes() -> int:
    return int(getattr(settings, "IMPORT_PREVIEW_INLINE_BYTES", PREVIEW_BYTES))


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def size_problem(size: int) -> str:
    if size > max_bytes():
        return (
            f"The file is {megabytes(size)}; an import takes at most {megabytes(max_bytes())}. "
            "Split it into smaller files."
        )
    return ""


def check_caps(path: Path) -> int:
    """The file's data rows (cheap: newlines, or the sheet's declared size); FileUnusable with a clear
    message when the file is beyond the size or row caps."""
    path = Path(path)
    if not path.exists():
        raise FileUnusable("The uploaded file is gone; upload it again.")
    problem = size_problem(path.stat().st_size)
    if problem:
        raise FileUnusable(problem)
    rows = count_data_rows(path)
    if rows > max_rows():
        raise FileUnusable(
            f"The file has {rows} rows; an import takes at most {max_rows()}. Split it into smaller files."
        )
    return rows


@contextmanager
def preview_sample(path: Path):
    """(a bounded part of the file, whether it is only a part). A text file is cut after the last
    whole line within PREVIEW_BYTES; an XLSX is read streaming and the preview stops after its
    first PREVIEW_CHECK units."""
    path = Path(path)
    if file_format(path) == "xlsx" or path.stat().st_size <= PREVIEW_BYTES:
        yield path, False
        return
    with path.open("rb") as handle:
        head = handle.read(PREVIEW_BYTES)
    cut = head.rfind(b"\n")
    if cut > 0:
        head = head[: cut + 1]
    with tempfile.TemporaryDirectory(prefix="oms-preview-") as folder:
        sample = Path(folder) / path.name
        sample.write_bytes(head)
        yield sample, True


def preview(importer, job) -> PreviewResult:
    """Run the importer's dry run on a bounded sample and keep it on the job; an unusable file (or one
    beyond the caps) is a message. Never raises."""
    from .models import ImportStatus

    path = Path(job.file.path)
    try:
        total = check_caps(path)
        with preview_sample(path) as (sample, partial):
            result = importer.preview(sample, job.options)
        if partial:
            result.complete = False
        if not result.file_error:
            result.total = total
    except FileUnusable as exc:
        result = PreviewResult(file_error=str(exc))
    except DatabaseError:
        logger.exception("import %s: preview failed on the database", job.pk)
        result = PreviewResult(file_error="The file could not be checked (a database error, logged); try again.")
    except Exception as exc:  # noqa: BLE001 - whatever a broken file does to a parser is the file's fault
        logger.warning("import %s: preview failed", job.pk, exc_info=True)
        result = PreviewResult(file_error=f"The file cannot be read ({exc.__class__.__name__}: {exc}).")
    job.preview = result.as_dict()
    job.total = result.total
    if result.file_error:
        job.status, job.message = ImportStatus.FAILED, result.file_error
    else:
        job.status, job.message = ImportStatus.PREVIEWED, ""
    job.save(update_fields=["preview", "total", "status", "message", "updated_at"])
    return result


def start_preview(job) -> bool:
    """Preview now (a small file: True) or leave the job ``uploaded`` and let the worker read it
    (False; the job page waits for it)."""
    importer = get_importer(job.kind)
    if importer is not None and Path(job.file.path).stat().st_size <= inline_bytes():
        preview(importer, job)
        return True
    from .tasks import preview_import_job

    transaction.on_commit(lambda: preview_import_job.delay(job.pk))
    return False


def _columns_confirmed(job) -> bool:
    mapping = (job.options or {}).get(MAPPING_KEY)
    return mapping is None or bool(mapping.get("confirmed"))


def preview_in_worker(job_id: int) -> None:
    """The worker's half of ``start_preview``: only an ``uploaded`` job is previewed."""
    from .models import ImportJob, ImportStatus

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.UPLOADED).first()
    if job is None or not _columns_confirmed(job):
        return
    importer = get_importer(job.kind)
    if importer is None:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, message=f"No importer named {job.kind!r} is installed."
        )
        return
    preview(importer, job)


def sweep_stale_jobs(now=None) -> dict:
    """End what a dead worker left (no progress for IMPORT_STALE_MINUTES): an ``uploaded`` job whose
    preview never finished and a ``running`` job end failed with the reason; a ``queued`` job whose
    task was lost is sent again. Returns the counts."""
    from .models import ImportJob, ImportStatus
    from .tasks import run_import_job

    now = now or timezone.now()
    before = now - timedelta(minutes=int(getattr(settings, "IMPORT_STALE_MINUTES", 30)))
    stale = ImportJob.objects.filter(updated_at__lt=before)
    # An uploaded job whose columns wait for a person (oms/column_mapping.py) is not stuck.
    awaiting_no_person = ~Q(options__has_key=MAPPING_KEY) | Q(**{f"options__{MAPPING_KEY}__confirmed": True})
    failed = (
        stale.filter(status=ImportStatus.UPLOADED)
        .filter(awaiting_no_person)
        .update(
            status=ImportStatus.FAILED,
            message="Reading the file did not finish (the worker stopped); nothing was imported. Upload it again.",
            finished_at=now,
            updated_at=now,
        )
    )
    stopped = 0
    for job in stale.filter(status=ImportStatus.RUNNING):
        stopped += ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING, updated_at__lt=before).update(
            status=ImportStatus.FAILED,
            message=(
                f"The import stopped after {job.processed} of {job.total} rows: the worker running it stopped "
                f"(last heard of at {timezone.localtime(job.updated_at):%Y-%m-%d %H:%M}). What was imported is "
                "kept; upload the file again to import the rest (rows already imported are skipped as duplicates)."
            ),
            finished_at=now,
            updated_at=now,
        )
    requeued = []
    for pk in stale.filter(status=ImportStatus.QUEUED).values_list("pk", flat=True):
        if ImportJob.objects.filter(pk=pk, status=ImportStatus.QUEUED).update(updated_at=now):
            requeued.append(pk)
    for pk in requeued:
        transaction.on_commit(lambda pk=pk: run_import_job.delay(pk))
    return {"failed": failed + stopped, "requeued": len(requeued)}


def _stale_cutoff(now=None):
    return (now or timezone.now()) - timedelta(minutes=int(getattr(settings, "IMPORT_STALE_MINUTES", 30)))


def _find_stale(cutoff, limit: int):
    """The Background work page's list (oms/background.py): jobs without progress for IMPORT_STALE_MINUTES."""
    jobs = ImportJob.objects.filter(
        updated_at__lt=min(cutoff, _stale_cutoff()),
        status__in=[ImportStatus.UPLOADED, ImportStatus.RUNNING, ImportStatus.QUEUED],
    ).order_by("updated_at")
    return stuck_items(
        jobs,
        limit,
        ("pk", "original_filename", "status", "updated_at"),
        lambda pk, name, status, at: StuckItem(f"{name} ({status})", at, reverse("imports:detail", args=[pk])),
    )


def register_probe() -> None:
    """Stale import jobs are one kind of unfinished work the background sweep finishes (every minute)."""
    register(
        Probe(
            key="import_jobs",
            label=_("Import jobs without progress"),
            help=_("A job whose worker stopped ends failed with the reason; one whose task was lost is sent again."),
            find=_find_stale,
            resend=lambda cutoff: sum(sweep_stale_jobs().values()),
        )
    )
