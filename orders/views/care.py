"""Staff pages of the customer promise: the notifications outbox with previews, returns, customers.
And the public unsubscribe page. Thin views: parse, call one service or selector, render."""

from decimal import Decimal, InvalidOperation

import django_filters
import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from oms.errors import DomainError
from oms.tables import BaseTable
from oms.views import ObjectListView

from .. import services
from ..care import notifications, returns
from ..extensions import customer_panels
from ..filtersets import relabel
from ..models import (
    Customer,
    DeliveryRating,
    Notification,
    NotificationChannel,
    NotificationKind,
    NotificationStatus,
    Order,
    ReturnReason,
    ReturnRequest,
    ReturnResolution,
)
from ..status import ReturnStatus

# ---- the outbox ---------------------------------------------------------------------------------------


class NotificationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Search"), widget=forms.TextInput(attrs={"placeholder": _("Order, address, subject")})
    )
    status = django_filters.MultipleChoiceFilter(
        choices=NotificationStatus.choices, widget=forms.CheckboxSelectMultiple, label=_("Status")
    )
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices, label=_("Kind"))
    channel = django_filters.ChoiceFilter(choices=NotificationChannel.choices, label=_("Channel"))
    language = django_filters.ChoiceFilter(choices=[("en", "English"), ("zh-hans", "中文")], label=_("Language"))

    class Meta:
        model = Notification
        fields = ["q", "status", "kind", "channel", "language"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(order__number__iexact=value) | Q(to__icontains=value) | Q(subject__icontains=value))


class NotificationTable(BaseTable):
    id = tables.LinkColumn("orders:notification_detail", args=[tables.A("pk")], verbose_name="#")
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name=_("Order")
    )
    kind = tables.Column(verbose_name=_("Kind"))
    channel = tables.Column(verbose_name=_("Channel"))
    to = tables.Column(verbose_name=_("To"))
    language = tables.Column(verbose_name=_("Lang"))
    subject = tables.Column(verbose_name=_("Subject"))
    status = tables.TemplateColumn(
        '<span class="badge st-n-{{ value }}">{{ record.get_status_display }}</span>', verbose_name=_("Status")
    )
    attempts = tables.Column(attrs={"td": {"class": "num"}}, verbose_name=_("Attempts"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Queued"))
    sent_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Sent"))

    class Meta(BaseTable.Meta):
        model = Notification
        fields = [
            "id",
            "order",
            "kind",
            "channel",
            "to",
            "language",
            "subject",
            "status",
            "attempts",
            "created_at",
            "sent_at",
        ]


class NotificationListView(ObjectListView):
    permission_required = "orders.view_notification"
    queryset = Notification.objects.select_related("order").defer("body_html", "body_text", "context")
    filterset_class = NotificationFilterSet
    table_class = NotificationTable
    title = _("Customer messages")


@login_required
@permission_required("orders.view_notification", raise_exception=True)
def notification_detail(request, pk):
    notification = get_object_or_404(Notification.objects.select_related("order", "customer"), pk=pk)
    return render(request, "orders/notification_detail.html", {"n": notification})


@require_POST
@login_required
@permission_required("orders.retry_notification", raise_exception=True)
def notification_resend(request, pk):
    notification = get_object_or_404(Notification, pk=pk)
    try:
        notifications.notification_resend(notification=notification, user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Queued to be sent again."))
    return redirect("orders:notification_detail", pk=pk)


def notification_unsubscribe(request, token):
    """Public. GET asks (mail scanners follow links); POST opts the address out of optional messages."""
    address = notifications.address_from_unsubscribe_token(token)
    if address is None:
        raise Http404(gettext("This link is not valid."))
    done = False
    if request.method == "POST":
        notifications.notification_opt_out(address=address)
        done = True
    masked = address[:2] + "…" + address[address.find("@") :] if "@" in address else "…" + address[-4:]
    return render(request, "orders/unsubscribe.html", {"masked": masked, "done": done})


# ---- returns ------------------------------------------------------------------------------------------


class ReturnFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    status = django_filters.MultipleChoiceFilter(choices=ReturnStatus.choices, widget=forms.CheckboxSelectMultiple)
    reason = django_filters.ChoiceFilter(choices=ReturnReason.choices)

    class Meta:
        model = ReturnRequest
        fields = ["q", "status", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        relabel(self, {"status": _("Status"), "reason": _("Reason")})

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(number__iexact=value) | Q(order__number__iexact=value))


class ReturnTable(BaseTable):
    number = tables.LinkColumn("orders:return_detail", args=[tables.A("number")], verbose_name=_("Return"))
    order = tables.LinkColumn(
        "orders:order_detail", args=[tables.A("order__number")], accessor="order__number", verbose_name=_("Order")
    )
    status = tables.TemplateColumn(
        '<span class="badge st-{{ value }}">{{ record.get_status_display }}</span>', verbose_name=_("Status")
    )
    reason = tables.Column(verbose_name=_("Reason"))
    resolution = tables.Column(verbose_name=_("Customer wants"))
    source = tables.Column(verbose_name=_("Source"))
    location = tables.Column(accessor="location__code", verbose_name=_("Back to"))
    created_at = tables.DateTimeColumn(format="Y-m-d H:i", verbose_name=_("Created"))

    class Meta(BaseTable.Meta):
        model = ReturnRequest
        fields = ["number", "order", "status", "reason", "resolution", "source", "location", "created_at"]


class ReturnListView(ObjectListView):
    permission_required = "orders.view_returnrequest"
    queryset = ReturnRequest.objects.select_related("order", "location")
    filterset_class = ReturnFilterSet
    table_class = ReturnTable
    title = _("Returns")


def _quantities(post, prefix: str) -> dict[int, int]:
    out = {}
    for key, value in post.items():
        if key.startswith(prefix) and value.strip():
            try:
                out[int(key[len(prefix) :])] = int(value)
            except ValueError:
                raise DomainError(gettext("Quantities must be whole numbers.")) from None
    return out


@login_required
@permission_required("orders.manage_return", raise_exception=True)
def return_create(request, number):
    order = get_object_or_404(Order, number=number)
    if request.method == "POST":
        try:
            ret = returns.return_create(
                order=order,
                lines=_quantities(request.POST, "qty-"),
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
                resolution=request.POST.get("resolution", ReturnResolution.REFUND),
                source="back office",
                user=request.user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Return %(number)s created.") % {"number": ret.number})
            return redirect("orders:return_detail", number=ret.number)
    return render(
        request,
        "orders/return_form.html",
        {
            "order": order,
            "choices": returns.order_line_choices(order),
            "reasons": ReturnReason.choices,
            "resolutions": ReturnResolution.choices,
        },
    )


@login_required
@permission_required("orders.view_returnrequest", raise_exception=True)
def return_detail(request, number):
    ret = get_object_or_404(
        ReturnRequest.objects.select_related("order__customer", "location", "exchange_order", "created_by"),
        number=number,
    )
    return render(
        request,
        "orders/return_detail.html",
        {
            "ret": ret,
            "lines": ret.lines.select_related("order_line__product"),
            "can_manage": request.user.has_perm("orders.manage_return"),
            "is_open": ret.status in returns.OPEN_RETURN_STATUSES,
            "timeline": ret.order.events.filter(kind="return", data__return=ret.number),
        },
    )


def _return_action(request, number, action, success):
    ret = get_object_or_404(ReturnRequest, number=number)
    try:
        result = action(ret)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect("orders:return_detail", number=number)


@require_POST
@login_required
@permission_required("orders.manage_return", raise_exception=True)
def return_receive(request, number):
    def receive(ret):
        received = {}
        for line in ret.lines.all():
            sellable = request.POST.get(f"sellable-{line.pk}", "0") or "0"
            damaged = request.POST.get(f"damaged-{line.pk}", "0") or "0"
            try:
                received[line.pk] = (int(sellable), int(damaged))
            except ValueError:
                raise DomainError(gettext("Counts must be whole numbers.")) from None
        return returns.return_receive(ret=ret, received=received, user=request.user)

    return _return_action(request, number, receive, gettext("Return received; stock updated."))


@require_POST
@login_required
@permission_required("orders.manage_return", raise_exception=True)
def return_refund(request, number):
    def refund(ret):
        try:
            amount = Decimal(request.POST.get("amount", "").strip())
        except InvalidOperation:
            raise DomainError(gettext("Enter the refund amount, e.g. 19.90.")) from None
        return returns.return_refund(ret=ret, amount=amount, user=request.user)

    return _return_action(request, number, refund, gettext("Refund recorded."))


@require_POST
@login_required
@permission_required("orders.manage_return", raise_exception=True)
def return_exchange(request, number):
    return _return_action(
        request,
        number,
        lambda ret: returns.return_exchange(ret=ret, user=request.user),
        lambda new: gettext("Exchange order %(number)s created.") % {"number": new.number},
    )


# ---- customers ----------------------------------------------------------------------------------------


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label=_("Search"), widget=forms.TextInput(attrs={"placeholder": _("Name, e-mail, phone")})
    )

    class Meta:
        model = Customer
        fields = ["q"]

    def search(self, queryset, name, value):
        value = value.strip()
        digits = "".join(ch for ch in value if ch.isdigit())
        condition = Q(name__icontains=value) | Q(email__iexact=value)
        if len(digits) >= 4:
            condition |= Q(phone__endswith=digits)
        return queryset.filter(condition)


class CustomerTable(BaseTable):
    name = tables.LinkColumn("orders:customer_detail", args=[tables.A("pk")], verbose_name=_("Name"))
    email = tables.Column(verbose_name=_("E-mail"))
    phone = tables.Column(verbose_name=_("Phone"))
    language = tables.Column(verbose_name=_("Lang"))
    order_count = tables.Column(verbose_name=_("Orders"), attrs={"td": {"class": "num"}})
    last_order = tables.DateTimeColumn(format="Y-m-d", verbose_name=_("Last order"))

    class Meta(BaseTable.Meta):
        model = Customer
        fields = ["name", "email", "phone", "language", "order_count", "last_order"]


class CustomerListView(ObjectListView):
    permission_required = "orders.view_customer"
    queryset = Customer.objects.annotate(order_count=Count("orders"), last_order=Max("orders__created_at"))
    filterset_class = CustomerFilterSet
    table_class = CustomerTable
    title = _("Customers")


class CreditForm(forms.Form):
    is_business = forms.BooleanField(required=False, label=_("Business customer"))
    credit_limit = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label=_("Credit limit"),
        help_text=_("Open orders plus a new one above this go to credit review. Empty: no limit."),
    )
    reason = forms.CharField(max_length=200, label=_("Reason"), widget=forms.TextInput(attrs={"placeholder": _("why")}))


@login_required
@require_POST
@permission_required("orders.change_customer", raise_exception=True)
def customer_credit(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    form = CreditForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(
            f"{form.fields[f].label if f in form.fields else f}: {' '.join(e)}" for f, e in form.errors.items()
        )
        messages.error(request, gettext("Credit terms not changed. %(errors)s") % {"errors": errors})
        return redirect("orders:customer_detail", pk=customer.pk)
    try:
        services.customer_credit_set(
            customer=customer,
            is_business=form.cleaned_data["is_business"],
            credit_limit=form.cleaned_data["credit_limit"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Credit terms saved."))
    return redirect("orders:customer_detail", pk=customer.pk)


@login_required
@permission_required("orders.view_customer", raise_exception=True)
def customer_detail(request, pk):
    customer = get_object_or_404(Customer, pk=pk)
    orders = Order.objects.filter(customer=customer).select_related("channel").order_by("-id")
    return render(
        request,
        "orders/customer_detail.html",
        {
            "customer": customer,
            "orders": orders,
            "returns": ReturnRequest.objects.filter(order__customer=customer)
            .select_related("order")
            .prefetch_related("lines__order_line"),
            "panels": customer_panels(request, customer, orders),
            "notifications": Notification.objects.filter(Q(customer=customer) | Q(order__customer=customer))
            .select_related("order")
            .defer("body_html", "body_text")
            .order_by("-id")[:100],
            "ratings": DeliveryRating.objects.filter(order__customer=customer).select_related("order"),
            "opted_out": notifications.is_opted_out(customer.email) if customer.email else False,
            "credit_form": CreditForm(
                initial={"is_business": customer.is_business, "credit_limit": customer.credit_limit}
            ),
            "can_change_credit": request.user.has_perm("orders.change_customer"),
            "credit_history": services.customer_credit_history(customer),
        },
    )
