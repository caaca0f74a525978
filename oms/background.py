"""Background work that tells the truth (ARCHITECTURE.md, "The spine": tasks and sweeps).

- ``OmsTask`` is every Celery task's base class (oms/celery.py): a typed transient database error
  (oms/transient.py: SQLite "database is locked", PostgreSQL serialization, deadlock, a lost
  connection) is retried with backoff; any other error, or a transient one that outlasts its
  retries, is recorded as a ``TaskFailure`` a person sees on the Background work page, with a retry
  button. A later success of the same task with the same arguments closes the failure.
- Probes, registered by the apps in their ``AppConfig.ready``, find work a lost or failed task left
  (a confirmed order never routed, a message without an outcome, a notice never sent). The sweep
  (``oms.sweep_background_work``, every minute) sends that work again; the page lists it.
"""

import hashlib
import json
import logging
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import Task, current_app
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import TaskFailure
from .transient import is_transient

logger = logging.getLogger(__name__)

MAX_TRANSIENT_RETRIES = 8
EAGER_RETRY_PAUSE_MAX = 0.2  # seconds: an eager task waits in the caller's thread, so briefly
# A sweep leaves alone, for a while, work whose last try failed for good: 2, 4, 8 ... minutes, at most an hour.
FAILED_WORK_PAUSE_MAX = timedelta(hours=1)


def retry_delay(retries: int) -> float:
    """Seconds before the next try after ``retries`` transient failures: 0.5, 1, 2 ... 60, with jitter."""
    return min(60.0, 0.5 * 2**retries) + random.uniform(0, 0.5)  # noqa: S311 (jitter, not a secret)


def send(task_name: str, *, args: list | None = None, kwargs: dict | None = None) -> None:
    """Queue a task by name, after the current transaction commits (at once outside one). Through the
    task object when this process knows it, so eager mode (tests) runs it inline too."""
    args, kwargs = list(args or []), dict(kwargs or {})
    task = current_app.tasks.get(task_name)
    if task is not None:
        transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
    else:
        transaction.on_commit(lambda: current_app.send_task(task_name, args=args, kwargs=kwargs))


NUDGE_WINDOW = 0.2  # seconds: at most one drain task per task name, per process, per window
_nudged: dict[str, float] = {}


def nudge(task_name: str, *, window: float = NUDGE_WINDOW) -> None:
    """Ask for a drain task (one that takes every waiting row, e.g. ``orders.apply_inbox``) after the
    current transaction commits, without publishing one task per row.

    A process sends at most one per ``window``: the task is sent with ``countdown=window`` and a
    nudge that comes before it starts sends nothing, because that task will find this row too (the
    row is committed before the nudge looks). Eager mode (tests) runs the task at once, every time.
    """

    def go() -> None:
        task = current_app.tasks.get(task_name)
        if current_app.conf.task_always_eager and task is not None:
            task.apply()
            return
        now = time.monotonic()
        due = _nudged.get(task_name)
        if due is not None and now < due - 0.02:
            return
        _nudged[task_name] = now + window
        try:
            if task is not None:
                task.apply_async(countdown=window)
            else:
                current_app.send_task(task_name, countdown=window)
        except Exception:  # noqa: BLE001 (the broker is away: the sweep sends the work later)
            _nudged.pop(task_name, None)
            logger.warning("could not send %s; the background sweep will", task_name, exc_info=True)

    transaction.on_commit(go)


def failure_key(task_name: str, args: list) -> str:
    """The task and its arguments, as one short unique key (long argument lists are hashed)."""
    text = json.dumps(args, sort_keys=True, default=str)
    if len(task_name) + len(text) > 200:
        text = "sha1:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    return f"{task_name}:{text}"


def stuck_after() -> timedelta:
    """How old unfinished work must be before a sweep sends it again (``OMS_STUCK_AFTER_SECONDS``)."""
    return timedelta(seconds=settings.OMS_STUCK_AFTER_SECONDS)


class OmsTask(Task):
    """The base of every task: retries typed transient errors, records the rest (see the module doc).

    ``failure_subject`` names what the first argument identifies (``"order"``), so that a page about
    that object can show that its background work failed and why.
    """

    failure_subject = ""

    def __call__(self, *args, **kwargs):
        inline_tries = 0  # eager mode (tests, CELERY_TASK_ALWAYS_EAGER) retries in place
        while True:
            try:
                result = super().__call__(*args, **kwargs)
                break
            except (Retry, Ignore, Reject):
                raise
            except Exception as exc:
                request = self.request
                if request.called_directly:
                    raise  # a plain function call: the caller handles it
                tries = request.retries + inline_tries
                if is_transient(exc) and tries < MAX_TRANSIENT_RETRIES:
                    logger.warning("%s%r: transient error, try %d again later: %s", self.name, args, tries + 1, exc)
                    if request.is_eager:
                        inline_tries += 1
                        time.sleep(min(retry_delay(tries), EAGER_RETRY_PAUSE_MAX))
                        continue
                    raise self.retry(exc=exc, countdown=retry_delay(tries), max_retries=MAX_TRANSIENT_RETRIES) from exc
                failure_record(task_name=self.name, args=_arguments(args, kwargs), subject=self._subject(args), exc=exc)
                raise
        if not self.request.called_directly and _may_have_open_failures(self.name):
            failure_resolve(task_name=self.name, args=_arguments(args, kwargs), resolution="succeeded")
        return result

    def _subject(self, args) -> str:
        if self.failure_subject and args:
            return f"{self.failure_subject}:{args[0]}"
        return ""


OPEN_FAILURES_RECHECK = 5.0  # seconds a process trusts "this task has no open failure"
_open_failures: dict[str, float] = {}  # task name -> until when "none open" holds


def _may_have_open_failures(task_name: str) -> bool:
    """Whether a success of ``task_name`` must look for a failure to close: a task with no open failure
    skips that UPDATE. Checked at most every ``OPEN_FAILURES_RECHECK`` seconds per task and process;
    a failure recorded in this process is seen at once (others' within that time)."""
    now = time.monotonic()
    if _open_failures.get(task_name, 0.0) > now:
        return False
    if TaskFailure.objects.filter(task_name=task_name, resolved_at__isnull=True).exists():
        _open_failures.pop(task_name, None)
        return True
    _open_failures[task_name] = now + OPEN_FAILURES_RECHECK
    return False


def _arguments(args, kwargs) -> list:
    return [*args, kwargs] if kwargs else list(args)


def failure_record(*, task_name: str, args: list, subject: str = "", exc: BaseException) -> TaskFailure | None:
    """Record (or reopen) the failure of ``task_name(*args)``; never raises (the task's error is what counts)."""
    _open_failures.pop(task_name, None)
    now = timezone.now()
    text = f"{type(exc).__name__}: {exc}"[:2000]
    trace = "".join(traceback.format_exception(exc))[-8000:]
    try:
        with transaction.atomic():
            failure, created = TaskFailure.objects.select_for_update().get_or_create(
                key=failure_key(task_name, args),
                defaults={
                    "task_name": task_name,
                    "args": json.loads(json.dumps(args, default=str)),
                    "subject": subject,
                    "error": text,
                    "traceback": trace,
                    "last_failed_at": now,
                },
            )
            if not created:
                failure.error, failure.traceback, failure.last_failed_at = text, trace, now
                failure.attempts += 1
                failure.resolved_at, failure.resolution = None, ""
                failure.save(
                    update_fields=["error", "traceback", "last_failed_at", "attempts", "resolved_at", "resolution"]
                )
        return failure
    except Exception:  # noqa: BLE001 (the database may be the thing that failed)
        logger.exception("could not record the failure of %s%r", task_name, args)
        return None


def failure_resolve(*, task_name: str, args: list, resolution: str) -> int:
    """Close the open failure of ``task_name(*args)``, if there is one. One indexed UPDATE."""
    return TaskFailure.objects.filter(key=failure_key(task_name, args), resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution=resolution
    )


def failures_resolve(*, task_name: str, args_list: list[list], resolution: str) -> int:
    """``failure_resolve`` for many argument lists of one task (a chunk of orders), one UPDATE per 500."""
    closed = 0
    keys = [failure_key(task_name, args) for args in args_list]
    for start in range(0, len(keys), 500):
        closed += TaskFailure.objects.filter(key__in=keys[start : start + 500], resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=resolution
        )
    return closed


@transaction.atomic
def failure_retry(*, failure: TaskFailure) -> None:
    """Send the failed task again (after commit); the row stays as history until it fails again."""
    failure = TaskFailure.objects.select_for_update().get(pk=failure.pk)
    args = list(failure.args)
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    failure.resolved_at, failure.resolution = timezone.now(), "retried"
    failure.save(update_fields=["resolved_at", "resolution"])
    send(failure.task_name, args=args, kwargs=kwargs)


@transaction.atomic
def failure_dismiss(*, failure: TaskFailure) -> None:
    TaskFailure.objects.filter(pk=failure.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution="dismissed"
    )


def open_failures(*, subject: str | None = None):
    failures = TaskFailure.objects.filter(resolved_at__isnull=True)
    if subject is not None:
        failures = failures.filter(subject=subject)
    return failures


def paused_subjects(prefix: str, *, now: datetime | None = None) -> set[str]:
    """Subjects (``order:42``) whose work failed for good recently: a sweep waits before trying them
    again (2 minutes after the first failure, doubling, at most an hour), so a bug does not retry every
    minute for ever. The page still lists them."""
    now = now or timezone.now()
    paused = set()
    for subject, attempts, last in (
        open_failures().filter(subject__startswith=f"{prefix}:").values_list("subject", "attempts", "last_failed_at")
    ):
        pause = min(FAILED_WORK_PAUSE_MAX, timedelta(minutes=2 ** min(attempts, 10)))
        if last + pause > now:
            paused.add(subject)
    return paused


# ---- probes: work that a lost task left ---------------------------------------------------------


@dataclass(frozen=True)
class StuckItem:
    label: str
    since: datetime
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Probe:
    """One kind of unfinished work. ``find(cutoff, limit)`` returns (how many are older than cutoff, the
    oldest ``limit`` of them); ``resend(cutoff)`` sends the work for those again and returns how many."""

    key: str
    label: str
    find: Callable[[datetime, int], tuple[int, list[StuckItem]]]
    resend: Callable[[datetime], int]
    help: str = ""
    extra: dict = field(default_factory=dict)


def stuck_items(queryset, limit: int, fields: tuple[str, ...], item: Callable[..., StuckItem]):
    """A probe's ``find``: (how many rows, the first ``limit`` as StuckItems made by ``item(*values)``);
    counting only when the list is full."""
    rows = list(queryset.values_list(*fields)[:limit])
    return (queryset.count() if len(rows) == limit else len(rows)), [item(*row) for row in rows]


_probes: dict[str, Probe] = {}
_subjects: dict[str, Callable[[str], tuple[str, str]]] = {}


def register_subject(kind: str, resolve: Callable[[str], tuple[str, str]]) -> None:
    """How a failure's subject of ``kind`` ("order") is shown: ``resolve(id) -> (label, url)``."""
    _subjects[kind] = resolve


def subject_resolver(kind: str) -> Callable[[str], tuple[str, str]] | None:
    return _subjects.get(kind)


def register_probe(probe: Probe) -> None:
    _probes[probe.key] = probe


def probes() -> list[Probe]:
    return list(_probes.values())


def probe(key: str) -> Probe | None:
    return _probes.get(key)


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Send again the work every probe finds older than ``stuck_after()``; one probe's error is logged
    and the others still run. Returns how many items each probe sent."""
    cutoff = (now or timezone.now()) - stuck_after()
    sent = {}
    for p in probes():
        try:
            sent[p.key] = p.resend(cutoff)
        except Exception as exc:  # noqa: BLE001 (one probe must not stop the others)
            if is_transient(exc):
                raise
            logger.exception("sweep: probe %s failed", p.key)
            sent[p.key] = -1
    if any(sent.values()):
        logger.info("sweep: sent again %s", {k: v for k, v in sent.items() if v})
    return sent
