"""Base models shared by every app: API tokens."""

import hashlib
import secrets
import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models

from .status import ImportStatus, OutboxStatus

__all__ = ["ApiToken", "ImportJob", "ImportStatus", "TaskFailure"]


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user) -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, key_hash=cls.hash_key(key), prefix=key[:8])
        return token, key


def _import_upload_to(instance, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:8]
    return f"imports/{uuid.uuid4().hex}{suffix}"


class ImportJob(models.Model):
    """One spreadsheet import (oms/imports/): the stored file, its dry run, then its progress and
    outcome. ``kind`` names a registered importer; the rows are written by that importer's services."""

    kind = models.CharField(max_length=64)
    file = models.FileField(upload_to=_import_upload_to, max_length=255)
    original_filename = models.CharField(max_length=255)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    message = models.TextField(blank=True, help_text="Why the file as a whole failed, or a summary.")
    preview = models.JSONField(default=dict, blank=True, help_text="The dry run: first rows with their errors.")
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, field, message}, ...]")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    COUNTS = ("created", "updated", "duplicates", "held", "rejected")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="importjob_kind_created")]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.kind} {self.original_filename}"

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(99, int(100 * self.processed / self.total))


class TaskFailure(models.Model):
    """A background task that failed for good: an error that is not transient, or a transient one that
    outlasted its retries (oms/background.py). One row per task and arguments; the Background work page
    lists the open ones with their error and a retry button, and a page about the subject (``order:42``)
    can say that its work failed and why. A later success of the same task closes the row."""

    task_name = models.CharField(max_length=100)
    args = models.JSONField(default=list, blank=True)
    key = models.CharField(max_length=255, unique=True, help_text="task name and arguments")
    subject = models.CharField(max_length=64, blank=True, db_index=True, help_text="e.g. order:42")
    error = models.TextField()
    traceback = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(auto_now_add=True)
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True, help_text="succeeded, retried or dismissed")

    class Meta:
        ordering = ["-last_failed_at", "-pk"]
        indexes = [models.Index(fields=["resolved_at", "last_failed_at"])]
        permissions = [("retry_background_work", "Can retry background work")]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class OutboxMessage(models.Model):
    """One effect on the outside world (a customer e-mail, a stock push to a channel), written in the same
    transaction as the change that causes it and sent by the outbox consumer (oms/outbox/).

    ``key`` is unique per ``kind``: writing the same key again writes nothing (one problem, one message).
    ``next_attempt_at`` is when the consumer may take the row: a pending row past it is due; a row being sent
    is leased (pushed a few minutes ahead) so a lost consumer's rows come back by themselves."""

    kind = models.CharField(max_length=40)
    destination = models.CharField(max_length=200, blank=True, help_text="email:<address>, channel:<slug>")
    key = models.CharField(max_length=200, help_text="unique per kind: the same key is written once")
    payload = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=64, blank=True, help_text="e.g. order:42")
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="oms_outbox_kind_key")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="oms_outbox_due"),
            models.Index(fields=["kind", "destination", "sent_at"], name="oms_outbox_rate"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class StaffProfile(models.Model):
    """What a member of staff chose for themselves: the language of the back office (empty: the browser's)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    language = models.CharField(max_length=10, blank=True, choices=settings.LANGUAGES)

    def __str__(self) -> str:
        return f"{self.user} ({self.language or 'browser'})"
