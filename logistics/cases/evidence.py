"""Evidence files of a carrier claim: photos (JPEG, PNG, WebP) and PDF, checked by name *and* content.

A file is accepted when its extension is one of ``ALLOWED``, its first bytes match that type (a renamed
``.exe`` is refused) and it is not larger than ``OMS_CLAIM_EVIDENCE_MAX_BYTES`` (10 MB by default). Every
file of an upload is checked before any is stored: one bad file refuses the whole upload and nothing is
written. Files live under ``MEDIA_ROOT/claims/<claim>/`` with a random name and are served to staff only
through ``claim_evidence_download`` (never from a public media URL).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from oms.errors import DomainError
from orders.wording import msg

from ..models import CarrierClaim, ClaimEvidence
from .core import case_action, case_event, case_lock
from .types import ActionKind

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10


@dataclass(frozen=True)
class _Kind:
    content_type: str
    label: str

    def matches(self, head: bytes) -> bool:
        if self.content_type == "image/jpeg":
            return head.startswith(b"\xff\xd8\xff")
        if self.content_type == "image/png":
            return head.startswith(b"\x89PNG\r\n\x1a\n")
        if self.content_type == "image/webp":
            return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
        if self.content_type == "application/pdf":
            return head.startswith(b"%PDF-")
        return False


_JPEG = _Kind("image/jpeg", gettext_lazy("JPEG photo"))
ALLOWED: dict[str, _Kind] = {
    ".jpg": _JPEG,
    ".jpeg": _JPEG,
    ".png": _Kind("image/png", gettext_lazy("PNG image")),
    ".webp": _Kind("image/webp", gettext_lazy("WebP image")),
    ".pdf": _Kind("application/pdf", "PDF"),
}


def max_bytes() -> int:
    return int(getattr(settings, "OMS_CLAIM_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def _size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def evidence_check(upload) -> _Kind:
    """The kind of an uploaded file, or a DomainError saying what is wrong with it."""
    name = getattr(upload, "name", "") or ""
    kind = ALLOWED.get(PurePath(name).suffix.lower())
    if kind is None:
        raise DomainError(
            gettext("%(name)s: only photos (JPG, PNG, WebP) and PDF files can be evidence.")
            % {"name": name or gettext("The file")}
        )
    size = upload.size or 0
    if size == 0:
        raise DomainError(gettext("%(name)s: the file is empty.") % {"name": name})
    if size > max_bytes():
        raise DomainError(
            gettext("%(name)s: %(size)s is too large; the limit is %(limit)s.")
            % {"name": name, "size": _size_text(size), "limit": _size_text(max_bytes())}
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not kind.matches(head):
        raise DomainError(
            gettext("%(name)s: the content is not a %(kind)s (the name says it is).")
            % {"name": name, "kind": kind.label}
        )
    return kind


def evidence_check_all(uploads) -> list[tuple[object, _Kind]]:
    uploads = [u for u in (uploads or []) if u]
    if len(uploads) > MAX_FILES:
        raise DomainError(gettext("At most %(count)s files at a time.") % {"count": MAX_FILES})
    return [(u, evidence_check(u)) for u in uploads]


def evidence_store(claim: CarrierClaim, checked, user) -> list[ClaimEvidence]:
    rows: list[ClaimEvidence] = []
    try:
        for upload, kind in checked:
            row = ClaimEvidence(
                claim=claim,
                original_name=PurePath(upload.name).name[:255],
                content_type=kind.content_type,
                size=upload.size,
                uploaded_by=user,
            )
            row.file.save(upload.name, upload, save=False)
            row.save()
            rows.append(row)
    except Exception:
        for row in rows:  # no file left behind without its row
            row.file.delete(save=False)
        raise
    return rows


@transaction.atomic
def claim_evidence_add(*, claim: CarrierClaim, uploads, user=None) -> list[ClaimEvidence]:
    """Attach files to a claim (all or none); an action and an event on the case say which."""
    checked = evidence_check_all(uploads)
    if not checked:
        raise DomainError(gettext("Choose a file to upload."))
    case = case_lock(claim.case)
    claim = CarrierClaim.objects.select_for_update().get(pk=claim.pk)
    rows = evidence_store(claim, checked, user)
    names = ", ".join(r.original_name for r in rows)
    case_action(
        case, ActionKind.CLAIM, f"evidence added: {names}", user=user, claim=claim.pk, files=[r.pk for r in rows]
    )
    case_event(
        case,
        msg(gettext_noop("claim %(claim)s: evidence added (%(names)s)"), claim=claim.pk, names=names),
        user=user,
        claim=claim.pk,
    )
    return rows


__all__ = ["ALLOWED", "claim_evidence_add", "evidence_check", "evidence_check_all", "max_bytes"]
