"""Intake pages and endpoints: the channels' order webhook, Retry in the intake monitor, and the
channel pages (settings, secrets shown masked, SKU map)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from oms import changelog
from oms.background import nudge
from oms.errors import DomainError
from oms.request_guard import BodyTooLarge, read_body
from oms.views import ObjectListView

from .. import services
from ..filtersets import ChannelFilterSet
from ..forms import ChannelForm, ChannelSkuForm
from ..intake import inbox, pipeline
from ..intake.background import inbound_send, task_for_source
from ..models import Channel, InboundMessage, InboundStatus
from ..tables import ChannelTable
from ..tasks import process_inbound

RETRYABLE = {InboundStatus.FAILED, InboundStatus.REJECTED, InboundStatus.PARTIAL, InboundStatus.RECEIVED}


@csrf_exempt
@require_POST
def order_webhook(request, slug):
    """POST /webhooks/orders/<channel-slug>/: stored first; 401 on a bad signature (nothing
    created); 200 once stored, applied by the inbox's batch consumer after commit."""
    channel = Channel.objects.filter(slug=slug, active=True).first()
    headers = dict(request.headers)
    kept = {k: v for k, v in headers.items() if k.lower() not in pipeline.SKIP_HEADERS}
    source = f"webhook:{channel.platform}" if channel is not None else "webhook:unknown"
    try:
        body = read_body(request)
    except BodyTooLarge as exc:
        message = services.inbound_store(
            source=source, channel=channel, body=b"", headers=kept, status=InboundStatus.REJECTED, error=str(exc)
        )
        return JsonResponse({"error": str(exc), "message": message.pk}, status=413)
    if channel is None:
        services.inbound_store(
            source=source, body=body, headers=kept, status=InboundStatus.REJECTED, error=f"No active channel '{slug}'."
        )
        return JsonResponse({"error": f"no channel '{slug}'"}, status=404)
    message, accepted = pipeline.webhook_receive(channel=channel, body=body, headers=headers)
    if not accepted:
        return JsonResponse({"error": "invalid signature", "message": message.pk}, status=401)
    nudge(inbox.APPLY_TASK)  # applied in a batch with the other waiting order messages, after commit
    return JsonResponse({"received": message.pk}, status=200)


def retried(message) -> str:
    text = gettext("Retried: %(status)s.") % {"status": message.get_status_display()}
    return f"{text} {message.error}".strip()


@require_POST
@login_required
@permission_required("orders.add_order", raise_exception=True)
def inbound_retry(request, pk):
    message = get_object_or_404(InboundMessage, pk=pk)
    if message.status not in RETRYABLE:
        messages.info(request, gettext("Message #%(pk)s was processed; nothing to retry.") % {"pk": pk})
        return redirect("orders:inbound_detail", pk=pk)
    if task_for_source(message.source) != process_inbound.name:
        # Applied by another app's task (tracking pushes: logistics): sent to it by name.
        before = (message.processed_at, message.attempts)
        inbound_send(message.pk, message.source)
        message.refresh_from_db()
        if (message.processed_at, message.attempts) != before:  # applied already (eager mode, a quick worker)
            level = messages.success if message.status == InboundStatus.PROCESSED else messages.warning
            level(request, retried(message))
        else:
            messages.info(
                request,
                gettext("Message #%(pk)s was sent to be applied again; its outcome will show here.") % {"pk": pk},
            )
        return redirect("orders:inbound_detail", pk=pk)
    try:
        message = pipeline.inbound_process(pk, retry=True)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        level = messages.success if message.status == InboundStatus.PROCESSED else messages.warning
        level(request, retried(message))
    return redirect("orders:inbound_detail", pk=pk)


class ChannelListView(ObjectListView):
    permission_required = "orders.view_channel"
    queryset = Channel.objects.all()
    filterset_class = ChannelFilterSet
    table_class = ChannelTable
    title = _("Channels")


def masked(secret: str) -> str:
    if not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= 12 else "••••"


@login_required
@permission_required("orders.view_channel", raise_exception=True)
def channel_detail(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    context = {
        "channel": channel,
        "secret_masked": masked(channel.webhook_secret),
        "sku_map": channel.sku_map.select_related("product").order_by("external_sku")[:500],
        "webhook_url": request.build_absolute_uri(f"/webhooks/orders/{channel.slug}/"),
        "recent": channel.inbound.order_by("-id")[:10],
        "can_change": request.user.has_perm("orders.change_channel"),
        "form": ChannelForm(instance=channel),
        "sku_form": ChannelSkuForm(),
        "changes": changelog.history(channel),
    }
    return render(request, "orders/channel_detail.html", context)


@require_POST
@login_required
@permission_required("orders.change_channel", raise_exception=True)
def channel_update(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    form = ChannelForm(request.POST, instance=channel)
    if form.is_valid():
        try:
            services.channel_settings_set(channel=channel, user=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Channel saved."))
    else:
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label if field in form.fields else field}: {' '.join(errors)}"
            )
    return redirect("orders:channel_detail", slug=slug)


@require_POST
@login_required
@permission_required("orders.change_channel", raise_exception=True)
def channel_sku_map(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    form = ChannelSkuForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form[field].label}: {' '.join(errors)}" if field in form.fields else " ".join(errors)
            )
        return redirect("orders:channel_detail", slug=slug)
    try:
        _mapping, released = services.channel_sku_map(
            channel=channel,
            external_sku=form.cleaned_data["external_sku"],
            product=form.cleaned_data["product"],
            user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        text = gettext("%(sku)s mapped.") % {"sku": form.cleaned_data["external_sku"]}
        if released:
            text += " " + gettext("Released %(count)s order(s): %(numbers)s.") % {
                "count": len(released),
                "numbers": ", ".join(released[:20]),
            }
        messages.success(request, text)
    return redirect("orders:channel_detail", slug=slug)
