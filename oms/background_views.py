"""The Background work page: failed tasks with their error and a retry, and work a lost task left
(oms/background.py). Thin: every write is a function of oms.background."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import background, outbox
from .models import OutboxMessage, TaskFailure

SHOWN = 200
ITEMS_PER_PROBE = 20
OUTBOX_SHOWN = 100


def _subject(failure: TaskFailure) -> tuple[str, str]:
    kind, _sep, ident = failure.subject.partition(":")
    resolve = background.subject_resolver(kind)
    if resolve is None or not ident:
        return failure.subject, ""
    return resolve(ident)


@login_required
@permission_required("oms.view_taskfailure", raise_exception=True)
def background_work(request):
    cutoff = timezone.now() - background.stuck_after()
    failures = list(background.open_failures()[: SHOWN + 1])
    more = len(failures) > SHOWN
    failures = failures[:SHOWN]
    for failure in failures:
        failure.subject_label, failure.subject_url = _subject(failure)
    probes = []
    for probe in background.probes():
        count, items = probe.find(cutoff, ITEMS_PER_PROBE)
        probes.append({"key": probe.key, "label": probe.label, "help": probe.help, "count": count, "items": items})
    return render(
        request,
        "oms/background.html",
        {
            "failures": failures,
            "more_failures": more,
            "probes": probes,
            "stuck_minutes": int(background.stuck_after().total_seconds() // 60),
            "can_retry": request.user.has_perm("oms.retry_background_work"),
            "outbox_counts": outbox.outbox_counts(),
            "outbox_problems": _with_subjects(outbox.outbox_problems(OUTBOX_SHOWN)),
        },
    )


def _with_subjects(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    for row in rows:
        kind, _sep, ident = row.subject.partition(":")
        resolve = background.subject_resolver(kind)
        row.subject_label, row.subject_url = resolve(ident) if resolve and ident else (row.subject, "")
    return rows


@require_POST
@login_required
@permission_required("oms.retry_background_work", raise_exception=True)
def background_failure(request, pk: int):
    failure = get_object_or_404(TaskFailure, pk=pk)
    if request.POST.get("action") == "dismiss":
        background.failure_dismiss(failure=failure)
        messages.info(request, _("Dismissed."))
    else:
        background.failure_retry(failure=failure)
        failure.refresh_from_db()
        if failure.is_open:
            messages.error(request, _("Tried again and it failed again: %(error)s") % {"error": failure.error[:300]})
        else:
            messages.success(request, _("Sent again."))
    return redirect("background")


@require_POST
@login_required
@permission_required("oms.retry_background_work", raise_exception=True)
def background_probe(request, key: str):
    probe = background.probe(key)
    if probe is None:
        messages.error(request, _("Unknown kind of work."))
        return redirect("background")
    sent = probe.resend(timezone.now())
    messages.success(request, _("%(count)d sent again.") % {"count": sent})
    return redirect("background")


@require_POST
@login_required
@permission_required("oms.retry_background_work", raise_exception=True)
def background_sweep(request):
    sent = background.sweep()
    messages.success(
        request, _("Sweep done: %(count)d sent again.") % {"count": sum(v for v in sent.values() if v > 0)}
    )
    return redirect("background")


@require_POST
@login_required
@permission_required("oms.retry_background_work", raise_exception=True)
def background_outbox(request, pk: int):
    """Retry or dismiss one dead (or retrying) outbox row."""
    row = get_object_or_404(OutboxMessage, pk=pk)
    if request.POST.get("action") == "dismiss":
        done = outbox.outbox_dismiss(ids=[row.pk])
        messages.info(request, _("Dismissed.") if done else _("Nothing to dismiss: it was sent or dismissed already."))
    else:
        done = outbox.outbox_retry(ids=[row.pk])
        row.refresh_from_db()
        if not done:
            messages.info(request, _("Nothing to retry: it was sent already."))
        elif row.status == "dead":
            messages.error(request, _("Tried again and it failed again: %(error)s") % {"error": row.last_error[:300]})
        else:
            messages.success(request, _("Queued to be sent again."))
    return redirect("background")
