"""Changes to a customer: the business account and its credit limit (read by orders/rules/review.py)."""

from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.utils.translation import gettext

from oms import changelog
from oms.errors import DomainError

from ..models import Customer


def _money(value: Decimal | None) -> str:
    return "no limit" if value is None else f"{value:,.2f}"


@transaction.atomic
def customer_credit_set(
    *, customer: Customer, is_business: bool, credit_limit: Decimal | None, reason: str, user=None
) -> Customer:
    """Set whether a customer is a business account and its credit limit; who, what and why go to the
    change log shown on the customer page. New orders are reviewed against the new limit."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("A change of credit terms needs a reason."))
    if credit_limit is not None and credit_limit < 0:
        raise DomainError(gettext("A credit limit cannot be negative."))
    if credit_limit is not None and not is_business:
        raise DomainError(
            gettext("Only business customers have a credit limit; tick 'business customer' or leave it empty.")
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = (customer.is_business, customer.credit_limit)
    if before == (is_business, credit_limit):
        raise DomainError(gettext("Nothing changed."))
    customer.is_business = is_business
    customer.credit_limit = credit_limit
    customer.save(update_fields=["is_business", "credit_limit"])
    message = (
        f"Credit terms: business {'yes' if before[0] else 'no'} → {'yes' if is_business else 'no'}, "
        f"limit {_money(before[1])} → {_money(credit_limit)}. Reason: {reason}"
    )
    changelog.record(obj=customer, user=user, message=message)
    return customer


def customer_credit_history(customer: Customer) -> list[LogEntry]:
    return changelog.history(customer)
