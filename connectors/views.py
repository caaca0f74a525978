"""The channel's sync page and its actions (thin: parse, call one service, redirect)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from oms.background import send
from oms.errors import DomainError
from orders.models import Channel

from . import reconcile, services
from .base import adapter_for
from .forms import ConnectionForm
from .models import Reconciliation
from .selectors import channel_sync_state


@login_required
@permission_required("connectors.view_channelconnection", raise_exception=True)
def channel_sync(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    state = channel_sync_state(channel)
    context = {
        "channel": channel,
        "state": state,
        "form": ConnectionForm(instance=state.connection),
        "speaks": adapter_for(channel.platform) is not None,
        "can_change": request.user.has_perm("connectors.change_channelconnection"),
        "can_sync": request.user.has_perm("connectors.sync_channel"),
        "title": gettext("Sync with %(name)s") % {"name": channel.name},
        "reconciliation": Reconciliation.objects.filter(connection__channel=channel).first(),
    }
    return render(request, "connectors/sync.html", context)


@require_POST
@login_required
@permission_required("connectors.change_channelconnection", raise_exception=True)
def connection_update(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    form = ConnectionForm(request.POST, instance=services.connection_of(channel.pk))
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request, f"{form[field].label}: {' '.join(errors)}" if field in form.fields else " ".join(errors)
            )
        return redirect("connectors:channel_sync", slug=slug)
    try:
        services.connection_save(
            channel=channel, data=form.connection_data(), secret=form.cleaned_data.get("access_token") or ""
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, gettext("Connection saved."))
    return redirect("connectors:channel_sync", slug=slug)


@require_POST
@login_required
@permission_required("connectors.sync_channel", raise_exception=True)
def channel_pull(request, slug):
    return _ask_worker(
        request, slug, "connectors.pull_orders", gettext_noop("Pull asked for: the outcome shows here when it has run.")
    )


@require_POST
@login_required
@permission_required("connectors.sync_channel", raise_exception=True)
def channel_retry(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    raw = request.POST.get("id", "").strip()
    if raw and not raw.isdigit():
        messages.error(request, gettext("Not a message id."))
        return redirect("connectors:channel_sync", slug=slug)
    count = services.sync_retry(channel=channel, ids=[int(raw)] if raw else None)
    messages.success(request, gettext("Sent again: %(count)s.") % {"count": count})
    return redirect("connectors:channel_sync", slug=slug)


@require_POST
@login_required
@permission_required("connectors.sync_channel", raise_exception=True)
def channel_reconcile(request, slug):
    return _ask_worker(
        request,
        slug,
        "connectors.reconcile",
        gettext_noop("Reconciliation asked for: the outcome shows here when it has run."),
    )


def _ask_worker(request, slug: str, task: str, asked: str):
    """Send the channel's connection to a worker task (the page shows the outcome when it has run)."""
    channel = get_object_or_404(Channel, slug=slug)
    connection = services.connection_of(channel.pk)
    if connection is None:
        messages.error(request, gettext("The channel has no connection."))
    else:
        send(task, args=[connection.pk])
        messages.success(request, gettext(asked))
    return redirect("connectors:channel_sync", slug=slug)


@require_POST
@login_required
@permission_required("connectors.sync_channel", raise_exception=True)
def channel_confirm_again(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    raw = request.POST.getlist("shipment")
    if not raw or not all(r.strip().isdigit() for r in raw):
        messages.error(request, gettext("Not a shipment id."))
        return redirect("connectors:channel_sync", slug=slug)
    count = reconcile.confirm_again(channel=channel, shipment_ids=[int(r) for r in raw])
    messages.success(request, gettext("Confirmations sent again: %(count)s.") % {"count": count})
    return redirect("connectors:channel_sync", slug=slug)
