"""Case queue, case page, one POST view per action, the order panel and the knowledge base.

Thin: parse a form, call one service, redirect with a message; a domain error is a message, never a 500."""

import django_filters
import django_tables2 as tables
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.tables import BaseTable, StatusColumn
from oms.views import ObjectListView
from orders.intake.canonical import CanonicalAddress
from orders.models import Order
from orders.wording import in_words

from ..models import Carrier, CarrierClaim, ClaimEvidence, ExceptionCase
from . import evidence, forms, rules, selectors, services
from .types import OPEN_CASE_STATUSES, ActionKind, CaseStatus, CaseType, Severity

VIEW = "logistics.view_exceptioncase"
MANAGE = "logistics.manage_case"
EDIT_PLAYBOOK = "logistics.edit_playbook"
CONTACT_SUBJECT = {"en": "About your order {order_number}", "zh-hans": "关于您的订单 {order_number}"}
CONTACT_BODY = {"en": "Dear {first_name},\n\n", "zh-hans": "{first_name}，您好：\n\n"}


# ---- the queue -----------------------------------------------------------------------------------------------


class CaseFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[("open", _("Open (any)")), ("overdue", _("Overdue")), ("resolved", _("Resolved"))],
        method="filter_state",
        empty_label=_("All"),
        label=pgettext_lazy("case filter: open, overdue or resolved", "State"),
    )
    type = django_filters.ChoiceFilter(choices=CaseType.choices, label=_("Type"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices, label=_("Status"))
    mine = django_filters.ChoiceFilter(
        choices=[("1", _("Mine only"))], method="filter_mine", label=_("Owner"), empty_label=_("Anyone's")
    )
    carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all(), label=_("Carrier"))
    q = django_filters.CharFilter(method="filter_q", label=_("Order, case or tracking no."))

    class Meta:
        model = ExceptionCase
        fields = ["state", "type", "severity", "status", "carrier", "q"]

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(status__in=OPEN_CASE_STATUSES)
        if value == "overdue":
            return queryset.filter(status__in=OPEN_CASE_STATUSES, due_at__lt=timezone.now())
        if value == "resolved":
            return queryset.filter(status=CaseStatus.RESOLVED)
        return queryset

    def filter_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset

    def filter_q(self, queryset, name, value):
        value = value.strip().upper()
        return queryset.filter(Q(number=value) | Q(order__number=value) | Q(parcel__tracking_number=value))


class DueColumn(tables.DateTimeColumn):
    def render(self, value, record):
        text = timezone.localtime(value).strftime("%m-%d %H:%M")
        if record.is_open and value < timezone.now():
            return format_html('<span class="badge sev-critical" title="{}">{}</span>', gettext("overdue"), text)
        return text


class CaseTable(BaseTable):
    number = tables.LinkColumn("logistics:case_detail", args=[tables.A("number")], verbose_name=_("Case"))
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name=_("Order")
    )
    type = tables.Column(verbose_name=_("Type"))
    severity = tables.Column(verbose_name=_("Severity"))
    status = StatusColumn(verbose_name=_("Status"))
    summary = tables.Column(attrs={"td": {"class": "wrap"}}, verbose_name=_("Summary"))
    carrier = tables.Column(accessor="carrier__name", verbose_name=_("Carrier"), default="—")
    owner = tables.Column(default="—", verbose_name=_("Owner"))
    due_at = DueColumn(verbose_name=_("Due"))
    opened_at = tables.DateTimeColumn(format="m-d H:i", verbose_name=_("Opened"))

    class Meta(BaseTable.Meta):
        model = ExceptionCase
        fields = ["number", "order", "type", "severity", "status", "summary", "carrier", "owner", "due_at", "opened_at"]
        order_by = ("due_at",)

    def render_severity(self, value, record):
        return format_html('<span class="badge sev-{}">{}</span>', value, record.get_severity_display())

    def render_status(self, value, record):
        return format_html('<span class="badge cs-{}">{}</span>', value, record.get_status_display())

    def render_summary(self, value):
        return in_words(value)  # written in English by the detection: shown in the reader's language


class CaseListView(ObjectListView):
    permission_required = VIEW
    queryset = selectors.case_list()
    filterset_class = CaseFilterSet
    table_class = CaseTable
    title = _("Exception cases")
    actions_template = "logistics/cases/_queue_actions.html"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if not self.request.GET:
            kwargs["data"] = {"state": "open"}
        return kwargs


@require_POST
@login_required
@permission_required(MANAGE, raise_exception=True)
def case_scan(request):
    result = rules.exceptions_scan()
    opened, closed = sum(result["opened"].values()), sum(result["closed"].values())
    messages.success(
        request,
        gettext("Detection ran: %(found)s findings, %(opened)s new case(s), %(closed)s cleared by itself.")
        % {"found": result["found"], "opened": opened, "closed": closed},
    )
    return redirect("logistics:case_list")


# ---- one case ------------------------------------------------------------------------------------------------


def _case(number: str) -> ExceptionCase:
    return get_object_or_404(
        ExceptionCase.objects.select_related(
            "order", "owner", "parcel__service__carrier", "shipment", "carrier", "location"
        ),
        number=number,
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def case_detail(request, number):
    case = _case(number)
    book = services.playbook_for(case.type)
    order = case.order
    subject, body, language = services.playbook_message(case, book)
    context_ = services.message_context(case, language)
    can_manage = request.user.has_perm(MANAGE) and case.is_open
    return render(
        request,
        "logistics/cases/case_detail.html",
        {
            "case": case,
            "order": order,
            "book": book,
            "steps": [s for s in book.steps.splitlines() if s.strip()],
            "actions": selectors.case_actions(case),
            "claims": selectors.case_claims(case),
            "language": language,
            "can_manage": can_manage,
            "offers": set(book.actions) if can_manage else set(),
            "A": ActionKind,
            "now": timezone.now(),
            "forms": {
                "assign": forms.AssignForm(initial={"owner": request.user.pk}),
                "status": forms.StatusForm(initial={"status": case.status}),
                "resolve": forms.ResolveForm(),
                "reship": forms.ReshipForm(initial={"reason": case.get_type_display()}),
                "refund": forms.AmountForm(initial={"amount": order.total}),
                "claim": forms.ClaimForm(),
                "claim_update": forms.ClaimUpdateForm(),
                "compensation": forms.CompensationForm_(),
                "address": forms.AddressForm(
                    initial={
                        k: getattr(order, f"ship_{k}")
                        for k in ("name", "phone", "province", "city", "district", "address1", "address2", "postcode")
                    }
                ),
                "redelivery": forms.RedeliveryForm(),
                "contact": forms.ContactForm(
                    initial={
                        "subject": subject or services.render_message(case, CONTACT_SUBJECT[language], language),
                        "body": body or services.render_message(case, CONTACT_BODY[language], language),
                    }
                ),
                "evidence": forms.EvidenceForm(),
                "note": forms.NoteForm(),
            },
            "ctx": context_,
        },
    )


def _post(request, number, form_class, action, success):
    """Run one case action from a POST: form errors and domain errors become messages."""
    case = _case(number)
    form = form_class(request.POST, request.FILES) if form_class else None
    if form is not None and not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, gettext("Not done — %(errors)s") % {"errors": errors})
        return redirect("logistics:case_detail", number=number)
    try:
        result = action(case, form.cleaned_data if form else {})
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect("logistics:case_detail", number=number)


def case_post_view(form_class, action, success):
    """A POST view for one case action; extra URL kwargs (a workflow action given by workflows/urls/) are
    passed on to ``action``."""

    @require_POST
    @login_required
    @permission_required(MANAGE, raise_exception=True)
    def view(request, number, **given):
        return _post(request, number, form_class, lambda case, data: action(request, case, data, **given), success)

    return view


case_assign = case_post_view(
    forms.AssignForm, lambda r, c, d: services.case_assign(case=c, owner=d["owner"], user=r.user), _("Assigned.")
)
case_status = case_post_view(
    forms.StatusForm,
    lambda r, c, d: services.case_set_status(case=c, status=d["status"], note=d["note"], user=r.user),
    _("Status changed."),
)
case_resolve = case_post_view(
    forms.ResolveForm,
    lambda r, c, d: services.case_resolve(case=c, root_cause=d["root_cause"], resolution=d["resolution"], user=r.user),
    lambda case: gettext("Resolved in %(hours)s h.") % {"hours": case.resolution_hours},
)
case_reship = case_post_view(
    forms.ReshipForm,
    lambda r, c, d: services.case_reship(case=c, reason=d["reason"], user=r.user),
    lambda shipment: (
        gettext("Reship %(number)s created at %(location)s; stock reserved.")
        % {"number": shipment.number, "location": shipment.location.code}
    ),
)
case_refund = case_post_view(
    forms.AmountForm,
    lambda r, c, d: services.case_refund(case=c, amount=d["amount"], reason=d["reason"], user=r.user),
    _("Refund recorded."),
)
case_claim = case_post_view(
    forms.ClaimForm,
    lambda r, c, d: services.case_claim_file(
        case=c,
        amount=d["amount"],
        evidence=d["evidence"],
        carrier_reference=d["carrier_reference"],
        files=d["files"],
        user=r.user,
    ),
    lambda claim: (
        gettext("Claim filed with %(count)s file(s).") % {"count": claim.files.count()}
        if claim.files.exists()
        else gettext("Claim filed.")
    ),
)
case_compensate = case_post_view(
    forms.CompensationForm_,
    lambda r, c, d: services.case_compensate(case=c, amount=d["amount"], form=d["form"], note=d["note"], user=r.user),
    lambda action: (
        gettext("Compensation recorded: voucher %(code)s.") % {"code": action.data["code"]}
        if action.data.get("code")
        else gettext("Compensation recorded.")
    ),
)
case_address = case_post_view(
    forms.AddressForm,
    lambda r, c, d, case_address_correct: case_address_correct(
        case=c, note=d.pop("note", ""), user=r.user, address=CanonicalAddress(**{k: v or "" for k, v in d.items()})
    ),
    lambda action: (
        gettext("Address corrected (on the order).")
        if action.data["applied_to"] == "order"
        else gettext("Address corrected (for the carrier).")
    ),
)
case_redelivery = case_post_view(
    forms.RedeliveryForm,
    lambda r, c, d: services.case_redelivery_request(case=c, date=d["date"], note=d["note"], user=r.user),
    _("Redelivery requested."),
)
case_contact = case_post_view(
    forms.ContactForm,
    lambda r, c, d: services.case_contact_customer(case=c, subject=d["subject"], body=d["body"], user=r.user),
    lambda action: (
        gettext("Message queued to the customer.")
        if action.data.get("queued")
        else gettext("Message recorded on the case.")
    ),
)
case_note = case_post_view(
    forms.NoteForm, lambda r, c, d: services.case_note(case=c, note=d["note"], user=r.user), _("Note added.")
)


@require_POST
@login_required
@permission_required(MANAGE, raise_exception=True)
def claim_update(request, pk):
    claim = get_object_or_404(CarrierClaim.objects.select_related("case"), pk=pk)
    form = forms.ClaimUpdateForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Not done — check the claim form."))
    else:
        d = form.cleaned_data
        try:
            services.case_claim_update(
                claim=claim, status=d["status"], settled_amount=d["settled_amount"], note=d["note"], user=request.user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Claim updated."))
    return redirect("logistics:case_detail", number=claim.case.number)


@require_POST
@login_required
@permission_required(MANAGE, raise_exception=True)
def claim_evidence_upload(request, pk):
    claim = get_object_or_404(CarrierClaim.objects.select_related("case"), pk=pk)
    form = forms.EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(
            request,
            gettext("Not done — %(errors)s") % {"errors": "; ".join(" ".join(v) for v in form.errors.values())},
        )
    else:
        try:
            rows = evidence.claim_evidence_add(claim=claim, uploads=form.cleaned_data["files"], user=request.user)
        except DomainError as exc:
            messages.error(request, gettext("Not uploaded — %(error)s") % {"error": exc})
        else:
            messages.success(
                request,
                gettext("%(count)s file(s) added to claim %(claim)s.") % {"count": len(rows), "claim": claim.pk},
            )
    return redirect("logistics:case_detail", number=claim.case.number)


@login_required
@permission_required(VIEW, raise_exception=True)
def claim_evidence_download(request, pk):
    """Staff only: the file as an attachment with its original name (never served from a public URL)."""
    row = get_object_or_404(ClaimEvidence, pk=pk)
    try:
        handle = row.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing from storage.")
    return FileResponse(handle, as_attachment=True, filename=row.original_name, content_type=row.content_type)


@require_POST
@login_required
@permission_required(MANAGE, raise_exception=True)
def case_open(request, order_number):
    order = get_object_or_404(Order, number=order_number)
    form = forms.CaseOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a type and write a summary."))
        return redirect("orders:order_detail", number=order_number)
    try:
        case, created = services.case_open(
            order=order,
            case_type=form.cleaned_data["case_type"],
            summary=form.cleaned_data["summary"],
            detected_by="person",
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("orders:order_detail", number=order_number)
    text = gettext("Case %(number)s opened.") if created else gettext("Case %(number)s is already open.")
    messages.success(request, text % {"number": case.number})
    return redirect("logistics:case_detail", number=case.number)


def customer_cases_panel(request, customer, orders) -> str:
    """The cases of a customer's orders on the customer page (registered in LogisticsConfig.ready)."""
    cases = ExceptionCase.objects.filter(order__in=orders).select_related("order").order_by("-id")
    return render_to_string("logistics/cases/_customer_cases_panel.html", {"cases": cases}, request=request)


def order_cases_panel(request, order) -> str:
    """The cases panel on the order page (registered in LogisticsConfig.ready)."""
    if not request.user.has_perm(VIEW):
        return ""
    return render_to_string(
        "logistics/cases/_order_cases.html",
        {
            "cases": selectors.cases_for_order(order),
            "order": order,
            "open_form": forms.CaseOpenForm(),
            "can_manage": request.user.has_perm(MANAGE),
            "now": timezone.now(),
        },
        request=request,
    )


# ---- the knowledge base --------------------------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
def playbook_list(request):
    return render(
        request,
        "logistics/cases/playbook_list.html",
        {"figures": selectors.type_figures(), "can_edit": request.user.has_perm(EDIT_PLAYBOOK)},
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def playbook_detail(request, case_type):
    if case_type not in CaseType.values:
        return render(request, "oms/forbidden.html", status=404)
    can_edit = request.user.has_perm(EDIT_PLAYBOOK)
    book = services.playbook_for(case_type)
    form = forms.PlaybookForm(
        request.POST or None,
        initial={
            "severity": book.severity,
            "due_hours": book.due_hours,
            "threshold_hours": book.threshold_hours,
            "steps": book.steps,
            "notify_customer": book.notify_customer,
            "customer_subject": book.customer_subject,
            "customer_body": book.customer_body,
            "customer_subject_zh": book.customer_subject_zh,
            "customer_body_zh": book.customer_body_zh,
        },
    )
    if request.method == "POST":
        if not can_edit:
            return render(request, "oms/forbidden.html", status=403)
        if form.is_valid():
            d = form.cleaned_data
            try:
                services.playbook_save(
                    case_type=case_type,
                    severity=d["severity"],
                    due_hours=d["due_hours"],
                    threshold_hours=d["threshold_hours"] or 0,
                    steps=d["steps"],
                    notify_customer=d["notify_customer"],
                    customer_subject=d["customer_subject"],
                    customer_body=d["customer_body"],
                    customer_subject_zh=d["customer_subject_zh"],
                    customer_body_zh=d["customer_body_zh"],
                    user=request.user,
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, gettext("Playbook saved."))
                return redirect("logistics:playbook_detail", case_type=case_type)
    [figures] = selectors.type_figures(case_type)
    return render(
        request,
        "logistics/cases/playbook_detail.html",
        {
            "f": figures,
            "form": form,
            "can_edit": can_edit,
            "book": book,
            "recent": selectors.case_list().filter(type=case_type).order_by("-opened_at")[:10],
        },
    )
