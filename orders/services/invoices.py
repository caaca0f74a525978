"""Invoice requests (发票): requested on an order, then issued by finance, rejected, or cancelled with the order.

``_set_invoice_state`` is the one door for ``InvoiceRequest.state`` (``INVOICE_TRANSITIONS``); every change
writes an INVOICE event on the order's timeline.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from oms.errors import DomainError, TransitionNotAllowed

from ..intake.canonical import OrderRejected, invoice_amount_check
from ..intake.invoice import CanonicalInvoice
from ..models import InvoiceKind, InvoiceRequest, Order
from ..status import EventKind, InvoiceState, OrderStatus, can_invoice_transition
from ..wording import label, msg
from .core import order_event_record, order_row_lock

OPEN_STATES = (InvoiceState.REQUESTED, InvoiceState.ISSUED)


def invoice_requested_message(invoice) -> str:
    """The timeline's words for a new request (one-by-one and bulk intake write the same)."""
    what = {"kind": label(InvoiceKind(invoice.kind)), "title": invoice.title, "amount": invoice.amount}
    if invoice.tax_id:
        template = gettext_noop("Invoice requested: %(kind)s, %(title)s, tax id %(tax_id)s, %(amount)s.")
        return msg(template, **what, tax_id=invoice.tax_id)
    return msg(gettext_noop("Invoice requested: %(kind)s, %(title)s, %(amount)s."), **what)


def invoice_row(order_id: int, invoice: CanonicalInvoice, *, source: str, state: str = InvoiceState.REQUESTED) -> dict:
    """The InvoiceRequest columns of a parsed request (one mapping for the services and bulk intake)."""
    return {"order_id": order_id, **invoice.fields(), "state": state, "source": source}


@transaction.atomic
def invoice_request(*, order: Order, invoice: CanonicalInvoice, source: str, user=None) -> InvoiceRequest:
    """A new request on ``order`` (from the order page or the API). Refused while the order has one requested or
    issued, or when the order is cancelled; raises OrderRejected for an amount above the order's total."""
    order = order_row_lock(order)
    if order.status == OrderStatus.CANCELLED:
        raise DomainError(gettext("Order %(order_number)s is cancelled: no invoice.") % {"order_number": order.number})
    if order.invoice_requests.filter(state__in=OPEN_STATES).exists():
        raise DomainError(
            gettext("Order %(order_number)s already has an invoice requested or issued.")
            % {"order_number": order.number}
        )
    invoice_amount_check(invoice, order.total)
    try:
        with transaction.atomic():
            request = InvoiceRequest.objects.create(**invoice_row(order.pk, invoice, source=source))
    except IntegrityError:  # a concurrent request won
        raise DomainError(
            gettext("Order %(order_number)s already has an invoice requested or issued.")
            % {"order_number": order.number}
        ) from None
    order_event_record(
        order=order,
        kind=EventKind.INVOICE,
        message=invoice_requested_message(request),
        data={"invoice": request.pk, "state": request.state, "source": source},
        user=user,
    )
    return request


def _set_invoice_state(request: InvoiceRequest, target: str, *, user=None, note: str = "", **fields) -> None:
    """The one door for InvoiceRequest.state: the state, its fields, one INVOICE event. Caller holds the lock."""
    current = request.state
    if not can_invoice_transition(current, target):
        raise TransitionNotAllowed(
            gettext("Invoice of order %(order_number)s is %(current)s: it cannot become %(target)s.")
            % {
                "order_number": request.order.number,
                "current": InvoiceState(current).label,
                "target": InvoiceState(target).label,
            }
        )
    request.state = target
    for name, value in fields.items():
        setattr(request, name, value)
    request.save(update_fields=["state", "updated_at", *fields])
    states = {"from": label(InvoiceState(current)), "to": label(InvoiceState(target))}
    order_event_record(
        order=request.order,
        kind=EventKind.INVOICE,
        message=(
            msg(gettext_noop("Invoice %(from)s → %(to)s: %(note)s"), **states, note=note)
            if note
            else msg(gettext_noop("Invoice %(from)s → %(to)s"), **states)
        ),
        data={"invoice": request.pk, "from": current, "to": target},
        user=user,
    )


def _locked(request_id: int) -> InvoiceRequest:
    return InvoiceRequest.objects.select_for_update().select_related("order").get(pk=request_id)


@transaction.atomic
def invoice_issue(*, request: InvoiceRequest, number: str, issued_on=None, user=None) -> InvoiceRequest:
    number = (number or "").strip()
    if not number:
        raise DomainError(gettext("An issued invoice needs its invoice number."))
    limit = InvoiceRequest._meta.get_field("invoice_number").max_length
    if len(number) > limit:
        raise DomainError(
            gettext("Invoice number '%(number)s' is longer than %(limit)s characters.")
            % {"number": number[:40], "limit": limit}
        )
    request = _locked(request.pk)
    issued_on = issued_on or timezone.localdate()
    _set_invoice_state(
        request,
        InvoiceState.ISSUED,
        user=user,
        note=f"number {number}, {issued_on:%Y-%m-%d}",
        invoice_number=number,
        issued_on=issued_on,
        issued_by=user,
    )
    return request


@transaction.atomic
def invoices_issue(*, items: list[tuple[int, str]], issued_on=None, user=None) -> tuple[list, list[str]]:
    """Bulk: ``items`` are (request id, invoice number). Each is issued alone (a savepoint each); returns (issued
    requests, errors as text). A request that cannot be issued is left as it was."""
    done, errors = [], []
    for request_id, number in items:
        try:
            with transaction.atomic():
                done.append(
                    invoice_issue(request=InvoiceRequest(pk=request_id), number=number, issued_on=issued_on, user=user)
                )
        except InvoiceRequest.DoesNotExist:
            errors.append(f"No invoice request {request_id}.")
        except (DomainError, OrderRejected) as exc:
            errors.append(str(exc))
    return done, errors


@transaction.atomic
def invoice_reject(*, request: InvoiceRequest, reason: str, user=None) -> InvoiceRequest:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(gettext("A rejected invoice request needs a reason."))
    request = _locked(request.pk)
    _set_invoice_state(request, InvoiceState.REJECTED, user=user, note=reason, reject_reason=reason[:255])
    return request


def invoices_cancel_for_order(*, order: Order, reason: str, user=None) -> list[InvoiceRequest]:
    """The order is being cancelled (workflows.cancel): its requests not yet issued are cancelled with it. An
    issued invoice stays issued (finance reverses it with a red invoice, outside the OMS)."""
    cancelled = []
    for request in (
        InvoiceRequest.objects.select_for_update()
        .select_related("order")
        .filter(order=order, state=InvoiceState.REQUESTED)
    ):
        _set_invoice_state(
            request, InvoiceState.CANCELLED, user=user, note=f"order cancelled ({reason})", reject_reason=reason[:255]
        )
        cancelled.append(request)
    return cancelled
