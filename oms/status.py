"""ImportJob status and its transition table. No database access here; the one door that writes the status
is ``oms.imports.import_jobs_move`` (and ``import_job_move`` for one job)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    PREVIEWED = "previewed", _("Previewed")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


S = ImportStatus

# uploaded → previewed (the dry run) → queued (confirmed) → running (claimed by a worker) → done; a file that
# cannot be read, a dry run that fails and a worker that stops end failed. Changing the columns of a previewed
# job sends it back to uploaded (a new dry run). Done and failed are final: a failed file is uploaded again.
IMPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.UPLOADED: frozenset({S.PREVIEWED, S.FAILED}),
    S.PREVIEWED: frozenset({S.UPLOADED, S.QUEUED, S.FAILED}),
    S.QUEUED: frozenset({S.RUNNING}),
    S.RUNNING: frozenset({S.DONE, S.FAILED}),
    S.DONE: frozenset(),
    S.FAILED: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in IMPORT_TRANSITIONS.get(current, frozenset())


def sources_of(target: str) -> frozenset[str]:
    """The statuses a job may reach ``target`` from."""
    return frozenset(source for source, targets in IMPORT_TRANSITIONS.items() if target in targets)


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Nothing to send")
    DEAD = "dead", _("Dead")
    DISMISSED = "dismissed", _("Dismissed")


OS = OutboxStatus

# A row is written pending; the consumer records sent, skipped (nothing to send) or dead (no more tries); a
# retry keeps it pending with a later try. A person retries a dead or dismissed row (pending again), dismisses
# a dead or retrying one, or re-arms any row (a fixed address: send again). A row a person dismissed while a
# worker was sending it is recorded as sent when it went out (the truth wins over the decision).
# The one door, oms.outbox.outbox_move, checks it.
OUTBOX_TRANSITIONS: dict[str, frozenset[str]] = {
    OS.PENDING: frozenset({OS.PENDING, OS.SENT, OS.SKIPPED, OS.DEAD, OS.DISMISSED}),
    OS.DEAD: frozenset({OS.PENDING, OS.DISMISSED}),
    OS.DISMISSED: frozenset({OS.PENDING, OS.SENT}),
    OS.SENT: frozenset({OS.PENDING}),
    OS.SKIPPED: frozenset({OS.PENDING}),
}


def outbox_sources(target: str) -> frozenset[str]:
    """The statuses an outbox row may move to ``target`` from."""
    return frozenset(source for source, targets in OUTBOX_TRANSITIONS.items() if target in targets)
