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
