import django_filters
import django_tables2 as tables
from csp.constants import SELF
from csp.decorators import csp_replace
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fulfillment.models import Shipment
from inventory.models import Location
from oms.errors import DomainError
from oms.pdf import pdf_response
from oms.request_guard import BodyTooLarge, read_body
from oms.tables import BaseTable, StatusColumn
from oms.views import ObjectListView
from orders.care.tracking_links import token_access, tracking_view_token, tracking_view_url_for_order
from orders.models import Channel

from . import access_codes, carrier_labels, lookup_guard, selectors, services, tracking_page
from .carriers.base import CarrierError
from .dispatch_views import carrier_label_response
from .documents import label_pdf
from .forms import TrackingEventForm, TrackLookupForm
from .intake import PROVIDERS, tracking_apply_nudge, tracking_push_accept, tracking_push_refuse
from .models import Carrier, Parcel, TrackingEvent
from .providers.base import NormalizedEvent, make_dedupe_key
from .status import TrackingStatus


class ParcelFilterSet(django_filters.FilterSet):
    tracking_number = django_filters.CharFilter(lookup_expr="iexact", label=_("Tracking number"))
    status = django_filters.ChoiceFilter(choices=TrackingStatus.choices, label=_("Status"))
    service__carrier = django_filters.ModelChoiceFilter(queryset=Carrier.objects.all(), label=_("Carrier"))
    # Used by the reports' drill-down links (reports/kpis): the order's received day and channel,
    # the shipping location.
    received_after = django_filters.DateFilter(
        field_name="shipment__order__created_at",
        lookup_expr="date__gte",
        label=_("Order received from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    received_before = django_filters.DateFilter(
        field_name="shipment__order__created_at",
        lookup_expr="date__lte",
        label=_("Order received to"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    channel = django_filters.ModelChoiceFilter(
        field_name="shipment__order__channel", queryset=Channel.objects.all(), label=_("Channel")
    )
    location = django_filters.ModelChoiceFilter(
        field_name="shipment__location", queryset=Location.objects.all(), label=_("Location")
    )
    unknown_codes = django_filters.BooleanFilter(
        method="filter_unknown_codes", label=_("Unknown carrier codes"), widget=forms.CheckboxInput
    )

    class Meta:
        model = Parcel
        fields = [
            "tracking_number",
            "status",
            "service__carrier",
            "received_after",
            "received_before",
            "channel",
            "location",
            "unknown_codes",
        ]

    def filter_unknown_codes(self, queryset, name, value):
        """Parcels with a scan whose provider code is not in our tables (kept and flagged, not guessed)."""
        if not value:
            return queryset
        return queryset.filter(pk__in=TrackingEvent.objects.filter(code_known=False).values("parcel_id"))


class ParcelTable(BaseTable):
    tracking_number = tables.Column(verbose_name=_("Tracking number"))
    shipment = tables.LinkColumn(
        "fulfillment:shipment_detail",
        args=[tables.A("shipment__number")],
        accessor="shipment__number",
        verbose_name=_("Shipment"),
    )
    order = tables.LinkColumn(
        "orders:order_detail",
        args=[tables.A("shipment__order__number")],
        accessor="shipment__order__number",
        verbose_name=_("Order"),
    )
    service = tables.Column(verbose_name=_("Service"))
    status = StatusColumn(verbose_name=_("Status"))
    expected_delivery = tables.DateColumn(verbose_name=_("Expected delivery"))
    created_at = tables.DateTimeColumn(verbose_name=pgettext_lazy("column: when it was created", "Created"))
    label = tables.TemplateColumn(
        '{% if record.external_label %}<span class="muted">{{ elsewhere }}</span>{% else %}'
        "<a href=\"{% url 'logistics:parcel_label' record.pk %}\">PDF</a>{% endif %}",
        extra_context={"elsewhere": _("made elsewhere")},
        orderable=False,
        verbose_name=_("Label"),
    )

    class Meta(BaseTable.Meta):
        model = Parcel
        fields = [
            "tracking_number",
            "shipment",
            "order",
            "service",
            "status",
            "expected_delivery",
            "created_at",
            "label",
        ]


class ParcelListView(ObjectListView):
    permission_required = "logistics.view_parcel"
    queryset = selectors.parcel_list()
    filterset_class = ParcelFilterSet
    table_class = ParcelTable
    title = _("Parcels")
    actions_template = "logistics/_unknown_codes.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unknown_code_count"] = selectors.unknown_code_count()
        return context


@require_POST
@login_required
@permission_required("fulfillment.pack_shipment", raise_exception=True)
def shipment_dispatch(request, number):
    shipment = get_object_or_404(Shipment, number=number)
    try:
        parcel = services.shipment_dispatch(shipment=shipment, user=request.user)
    except (DomainError, CarrierError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            gettext("Shipped with %(service)s: %(tracking)s.")
            % {"service": parcel.service, "tracking": parcel.tracking_number},
        )
    return redirect("fulfillment:shipment_detail", number=number)


def _tracking_url(parcel: Parcel) -> str:
    return tracking_view_url_for_order(parcel.shipment.order.number)  # on the box: viewing only


@login_required
@permission_required("logistics.view_parcel", raise_exception=True)
def parcel_label(request, pk):
    parcel = get_object_or_404(
        Parcel.objects.select_related("shipment__order", "shipment__location", "service__carrier"), pk=pk
    )
    if parcel.external_label:
        messages.info(
            request,
            gettext("The label of %(tracking)s was made outside the OMS: there is no PDF.")
            % {"tracking": parcel.tracking_number},
        )
        return redirect("fulfillment:shipment_detail", number=parcel.shipment.number)
    try:  # a real carrier's label: print the carrier's own file, never ours
        carrier_file = carrier_labels.carrier_label_file(parcel)
    except CarrierError as exc:
        messages.error(request, str(exc))
        return redirect("fulfillment:shipment_detail", number=parcel.shipment.number)
    if carrier_file is not None:
        return carrier_label_response(carrier_file)
    size = "a6" if request.GET.get("size") == "a6" else "4x6"
    return pdf_response(
        label_pdf([parcel], size=size, tracking_url_for=_tracking_url), f"label-{parcel.tracking_number}-{size}.pdf"
    )


@login_required
@permission_required("logistics.record_tracking", raise_exception=True)
def tracking_record(request):
    form = TrackingEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parcel = services.parcel_by_tracking_number(data["tracking_number"])
        if parcel is None:
            form.add_error("tracking_number", gettext("No parcel has this tracking number."))
        else:
            occurred = data["occurred_at"]
            event = NormalizedEvent(
                tracking_number=parcel.tracking_number,
                status=data["status"],
                occurred_at=occurred,
                description=data["description"],
                location=data["location"],
                carrier_status="manual",
                dedupe_key=make_dedupe_key(parcel.tracking_number, data["status"], occurred, data["description"]),
                est_delivery_date=None,
                raw={"form": {k: str(v) for k, v in data.items()}, "user": request.user.pk},
            )
            try:
                created = services.tracking_event_record(parcel=parcel, event=event, source="form", user=request.user)
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request, gettext("Event recorded.") if created else gettext("Same event was already recorded.")
                )
                return redirect("logistics:tracking_record")
    return render(request, "logistics/tracking_record.html", {"form": form})


@csrf_exempt
@require_POST
def tracking_webhook(request, provider):
    """Check the signature in memory, store the push in one INSERT (refused ones too, with their outcome) and
    answer; a bad signature is 401 and applies nothing. The batch consumer applies accepted pushes."""
    if provider not in PROVIDERS:
        return JsonResponse({"error": f"unknown provider '{provider}'"}, status=404)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in ("cookie", "authorization")}
    try:
        body = read_body(request)
    except BodyTooLarge as exc:
        message = tracking_push_refuse(provider=provider, headers=headers, reason=str(exc))
        return JsonResponse({"error": str(exc), "message": message.pk}, status=413)
    message_id, accepted = tracking_push_accept(provider=provider, body=body, headers=headers)
    if accepted:
        tracking_apply_nudge()
    respond = getattr(PROVIDERS[provider], "response_for", None)  # a provider that expects its own answer
    if respond is not None:
        answer, status = respond(body, accepted)
        return JsonResponse(answer, status=status)
    if not accepted:
        return JsonResponse({"error": "invalid signature", "message": message_id}, status=401)
    return JsonResponse({"received": message_id}, status=200)


# ---- the public tracking page ------------------------------------------------------------------


# The public pages use no inline style at all: their policy allows styles from our files only.
public_csp = csp_replace({"style-src": [SELF]})


@public_csp
def track_lookup(request):
    """Order number plus e-mail or the phone's last four digits opens the order for viewing (a view-only link);
    changes need the e-mailed link or a one-time code. Rate-limited per client; a number with repeated failed
    contact checks is locked for a while, whatever the IP."""
    form = TrackLookupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if lookup_guard.rate_limited(request, "lookup"):
            form.add_error(None, "too_many")
            status = 429
        elif form.is_valid():
            number = form.cleaned_data["number"]
            if lookup_guard.lookup_locked(number):
                form.add_error(None, "locked")
                status = 429
            else:
                order = selectors.find_order_for_customer(number, form.cleaned_data["contact"])
                if order is not None:
                    lookup_guard.lookup_succeeded(number)
                    return redirect("public:track_order", token=tracking_view_token(order.number))
                locked = lookup_guard.lookup_failed(number)
                form.add_error(None, "locked" if locked else "not_found")
                status = 429 if locked else 404
    return render(request, "logistics/track_lookup.html", {"form": form}, status=status)


@public_csp
def track_order(request, token):
    number, full_link = token_access(token)
    order = None
    if number:
        order = tracking_page.order_for_page(number)
    if order is None:
        return render(request, "logistics/track_lookup.html", {"form": TrackLookupForm(), "bad_link": True}, status=404)
    can_change = full_link or access_codes.session_is_verified(request, order)
    response = HttpResponse(tracking_page.page_html(request, order, can_change=can_change))
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def bare_view(request):
    """A bare Django view: the baseline the benchmarks compare pages against."""
    return HttpResponse("ok")
