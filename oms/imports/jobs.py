"""An import job's life (the importers and file readers are in oms/imports/): the size caps, the preview
(read in the upload request only for a small file, else by the worker, and always from a bounded sample),
the one door for its status (``import_jobs_move``), queueing and running it, and the sweep that ends a job
whose worker died. Tasks are queued by name (``oms.background.send``): oms/tasks.py imports this module.

Settings: IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, IMPORT_MAX_CELL_CHARS (enforced by the row readers),
IMPORT_PREVIEW_INLINE_BYTES, IMPORT_STALE_MINUTES (README "Importing orders").
"""

import logging
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..background import Probe, StuckItem, send, stuck_items
from ..background import register_probe as register
from ..errors import TransitionNotAllowed
from ..models import ImportJob, ImportStatus
from ..status import sources_of
from . import FileUnusable, PreviewResult, count_data_rows, file_format, get_importer
from .column_mapping import OPTION_KEY as MAPPING_KEY

logger = logging.getLogger(__name__)
PREVIEW_BYTES = 1024 * 1024  # the part of a text file a preview reads
PROGRESS_ROWS = 100
PROGRESS_SECONDS = 1.0


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
    target = ImportStatus.FAILED if result.file_error else ImportStatus.PREVIEWED
    import_job_move(job, target, preview=result.as_dict(), total=result.total, message=result.file_error or "")
    return result


def start_preview(job) -> bool:
    """Preview now (a small file: True) or leave the job ``uploaded`` and let the worker read it
    (False; the job page waits for it)."""
    importer = get_importer(job.kind)
    if importer is not None and Path(job.file.path).stat().st_size <= inline_bytes():
        preview(importer, job)
        return True
    send("oms.preview_import_job", args=[job.pk])
    return False


def _columns_confirmed(job) -> bool:
    mapping = (job.options or {}).get(MAPPING_KEY)
    return mapping is None or bool(mapping.get("confirmed"))


def preview_in_worker(job_id: int) -> None:
    """The worker's half of ``start_preview``: only an ``uploaded`` job is previewed."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.UPLOADED).first()
    if job is None or not _columns_confirmed(job):
        return
    importer = get_importer(job.kind)
    if importer is None:
        message = f"No importer named {job.kind!r} is installed."
        import_job_move(job, ImportStatus.FAILED, only_from=[ImportStatus.UPLOADED], message=message)
        return
    preview(importer, job)


def sweep_stale_jobs(now=None) -> dict:
    """End what a dead worker left (no progress for IMPORT_STALE_MINUTES): an ``uploaded`` job whose
    preview never finished and a ``running`` job end failed with the reason; a ``queued`` job whose
    task was lost is sent again. Returns the counts."""
    now = now or timezone.now()
    before = now - timedelta(minutes=int(getattr(settings, "IMPORT_STALE_MINUTES", 30)))
    stale = ImportJob.objects.filter(updated_at__lt=before)
    # An uploaded job whose columns wait for a person (oms/imports/column_mapping.py) is not stuck.
    awaiting_no_person = ~Q(options__has_key=MAPPING_KEY) | Q(**{f"options__{MAPPING_KEY}__confirmed": True})
    failed = import_jobs_move(
        stale.filter(awaiting_no_person),
        ImportStatus.FAILED,
        only_from=[ImportStatus.UPLOADED],
        message="Reading the file did not finish (the worker stopped); nothing was imported. Upload it again.",
        finished_at=now,
        updated_at=now,
    )
    stopped = 0
    for job in stale.filter(status=ImportStatus.RUNNING):
        stopped += import_jobs_move(
            ImportJob.objects.filter(pk=job.pk, updated_at__lt=before),
            ImportStatus.FAILED,
            only_from=[ImportStatus.RUNNING],
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
        send("oms.run_import_job", args=[pk])
    return {"failed": failed + stopped, "requeued": len(requeued)}


def _stale_cutoff(now=None):
    return (now or timezone.now()) - timedelta(minutes=int(getattr(settings, "IMPORT_STALE_MINUTES", 30)))


def _status_label(status: str) -> str:
    """A job's status as the page's reader says it (the probe's list is built for each request)."""
    try:
        return str(ImportStatus(status).label)
    except ValueError:
        return status


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
        lambda pk, name, status, at: StuckItem(
            f"{name} ({_status_label(status)})", at, reverse("imports:detail", args=[pk])
        ),
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


# ---- the one door for ImportJob.status -----------------------------------------------------------


def import_jobs_move(jobs, target: str, *, only_from=None, **values) -> int:
    """The one door for ``ImportJob.status``, set-based: the jobs of the queryset ``jobs`` that may reach
    ``target`` (``oms.status.IMPORT_TRANSITIONS``, or stay in it; narrowed to ``only_from`` when given) move
    with one guarded ``UPDATE ... WHERE status IN (...)`` that also writes ``values`` and ``updated_at``.
    Returns how many moved; a job in any other status is left exactly as it was (a task delivered twice, a
    job the sweep ended meanwhile). ImportJob has no event table: its row is its history."""
    if target not in ImportStatus.values:
        raise ValueError(f"Unknown import status {target!r}.")
    allowed = sources_of(target) | {target}
    if only_from is not None:
        wrong = set(only_from) - allowed
        if wrong:
            raise TransitionNotAllowed(
                gettext("An import job cannot go from %(sources)s to %(target)s.")
                % {"sources": ", ".join(sorted(wrong)), "target": target}
            )
        allowed = frozenset(only_from)
    values.setdefault("updated_at", timezone.now())
    return jobs.filter(status__in=sorted(allowed)).update(status=target, **values)


def import_job_move(job: ImportJob, target: str, *, only_from=None, **values) -> bool:
    """``import_jobs_move`` for one job; when it moved, the job in hand carries the new status and values."""
    values.setdefault("updated_at", timezone.now())
    moved = bool(import_jobs_move(ImportJob.objects.filter(pk=job.pk), target, only_from=only_from, **values))
    if moved:
        job.status = target
        for key, value in values.items():
            setattr(job, key, value)
    return moved


# ---- running a job ----------------------------------------------------------------------------


class Progress:
    """``progress(processed, counts)``: writes the job row every PROGRESS_ROWS rows or second."""

    def __init__(self, job):
        self.job = job
        self.last_rows = 0
        self.last_time = time.monotonic()

    def __call__(self, processed: int, counts: dict, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and processed - self.last_rows < PROGRESS_ROWS and now - self.last_time < PROGRESS_SECONDS:
            return
        self.last_rows, self.last_time = processed, now
        values = {k: int(counts.get(k, 0)) for k in ImportJob.COUNTS}
        values["processed"] = processed
        if self.job.total and processed > self.job.total:
            values["total"] = processed
            self.job.total = processed
        ImportJob.objects.filter(pk=self.job.pk).update(updated_at=timezone.now(), **values)
        for key, value in values.items():
            setattr(self.job, key, value)


def claim(job_id: int) -> bool:
    """Queued → running, once: a task delivered twice, or for a running or finished job, does nothing."""
    now = timezone.now()
    return bool(
        import_jobs_move(
            ImportJob.objects.filter(pk=job_id),
            ImportStatus.RUNNING,
            only_from=[ImportStatus.QUEUED],
            started_at=now,
            updated_at=now,
        )
    )


# What the end of a run writes with the status (besides the counts).
RUN_FIELDS = ("message", "errors", "processed", "total", "finished_at")


def run_job(job_id: int) -> None:
    """Run a queued job (the task's body): claim it, let its importer write the rows, record the outcome."""
    if not claim(job_id):
        return
    job = ImportJob.objects.get(pk=job_id)
    importer = get_importer(job.kind)
    job.errors = []
    progress = Progress(job)
    try:
        if importer is None:
            raise FileUnusable(f"No importer named {job.kind!r} is installed.")
        job.total = max(job.total, check_caps(Path(job.file.path)))
        counts = importer.run(Path(job.file.path), job, progress) or {}
    except FileUnusable as exc:
        target, job.message = ImportStatus.FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the job for the page; the worker logs it
        # The page says what happened without the database's own text (that goes to the log).
        kind = "a database error" if isinstance(exc, DatabaseError) else f"an error ({exc.__class__.__name__})"
        message = (
            f"The import stopped after {job.processed} rows on {kind}, logged for the administrator; "
            "what was imported before it is kept."
        )
        import_job_move(job, ImportStatus.FAILED, message=message, errors=job.errors, finished_at=timezone.now())
        raise
    else:
        for key in ImportJob.COUNTS:
            setattr(job, key, int(counts.get(key, getattr(job, key))))
        job.processed = int(counts.get("processed", job.processed))
        job.total = max(job.total, job.processed)
        target = ImportStatus.DONE
        parts = [f"{getattr(job, k)} {k}" for k in ImportJob.COUNTS if getattr(job, k)]
        job.message = "Imported: " + (", ".join(parts) or "nothing to do") + "."
    job.finished_at = timezone.now()
    values = {key: getattr(job, key) for key in (*ImportJob.COUNTS, *RUN_FIELDS)}
    import_job_move(job, target, only_from=[ImportStatus.RUNNING], **values)


def enqueue(job) -> None:
    """Previewed → queued; the task (``oms.run_import_job``) starts after commit."""
    if import_job_move(job, ImportStatus.QUEUED, only_from=[ImportStatus.PREVIEWED]):
        send("oms.run_import_job", args=[job.pk])
