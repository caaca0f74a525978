"""Playbooks: the steps, owner role, due time and customer message per case type (defaults in types.py, edits
in the Playbook table)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext

from oms.errors import DomainError

from ..models import Playbook
from .types import (
    PLAYBOOK_DEFAULTS,
    CaseType,
    Severity,
)


@dataclass(frozen=True)
class PlaybookView:
    """A type's playbook: the staff-edited row when there is one, else the default from `types`."""

    type: str
    severity: str
    due_hours: int
    threshold_hours: int
    steps: str
    actions: tuple[str, ...]
    notify_customer: bool
    customer_subject: str
    customer_body: str
    edited: bool
    customer_subject_zh: str = ""
    customer_body_zh: str = ""

    @property
    def severity_label(self) -> str:
        """The severity as a person reads it (in the page's language)."""
        return Severity(self.severity).label


def playbook_for(case_type: str) -> PlaybookView:
    default = PLAYBOOK_DEFAULTS[case_type]
    row = Playbook.objects.filter(type=case_type).first()
    if row is None:
        return PlaybookView(
            case_type,
            default.severity,
            default.due_hours,
            default.threshold_hours,
            str(default.steps),  # the built-in steps in the reader's language
            default.actions,
            default.notify_customer,
            default.customer_subject,
            default.customer_body,
            False,
            default.customer_subject_zh,
            default.customer_body_zh,
        )
    return PlaybookView(
        case_type,
        row.severity,
        row.due_hours,
        row.threshold_hours,
        row.steps,
        default.actions,
        row.notify_customer,
        row.customer_subject,
        row.customer_body,
        True,
        row.customer_subject_zh,
        row.customer_body_zh,
    )


@transaction.atomic
def playbook_save(
    *,
    case_type: str,
    severity: str,
    due_hours: int,
    threshold_hours: int,
    steps: str,
    notify_customer: bool,
    customer_subject: str,
    customer_body: str,
    customer_subject_zh: str = "",
    customer_body_zh: str = "",
    user=None,
) -> Playbook:
    if case_type not in CaseType.values:
        raise DomainError(gettext("Unknown case type %(case_type)r.") % {"case_type": case_type})
    if due_hours <= 0:
        raise DomainError(gettext("Due hours must be more than 0."))
    row, _ = Playbook.objects.select_for_update().get_or_create(
        type=case_type,
        defaults={"severity": severity, "due_hours": due_hours, "steps": steps},
    )
    row.severity, row.due_hours, row.threshold_hours, row.steps = severity, due_hours, threshold_hours, steps
    row.notify_customer, row.customer_subject, row.customer_body = notify_customer, customer_subject, customer_body
    row.customer_subject_zh, row.customer_body_zh = customer_subject_zh, customer_body_zh
    row.updated_by = user
    row.save()
    return row


# ---- opening and working a case --------------------------------------------------------------------------
