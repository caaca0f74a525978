"""Pages and pull feeds for channel stock figures (orders/atp.py)."""

import csv
import io

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from oms.exports import escape_formula
from oms.views import run_action

from .. import atp
from ..models import Channel, StockAdapter


@login_required
@permission_required("orders.view_channel", raise_exception=True)
def channel_stock_index(request):
    channels = list(Channel.objects.prefetch_related("locations").order_by("name"))
    rows = [{"channel": c, "last": atp.last_publication(c)} for c in channels]
    return render(request, "orders/atp/index.html", {"rows": rows, "title": gettext("Channel stock")})


@login_required
@permission_required("orders.view_channel", raise_exception=True)
def channel_stock(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    sku = request.GET.get("sku", "").strip()
    rows = atp.channel_atp_breakdown(channel, sku=sku)
    context = {
        "channel": channel,
        "locations": list(channel.locations.order_by("code")),
        "rows": rows[:500],
        "truncated": len(rows) > 500,
        "changed": sum(1 for r in rows if r.changed),
        "publications": channel.stock_publications.select_related("user")[:20],
        "last": atp.last_publication(channel),
        "sku": sku,
        "can_publish": request.user.has_perm("orders.publish_stock") and channel.stock_adapter != StockAdapter.NONE,
        "title": gettext("Stock for sale on %(channel)s") % {"channel": channel.name},
    }
    return render(request, "orders/atp/channel_stock.html", context)


@require_POST
@login_required
@permission_required("orders.publish_stock", raise_exception=True)
def channel_stock_publish(request, slug):
    channel = get_object_or_404(Channel, slug=slug)
    response, publication = run_action(
        request,
        lambda: atp.channel_stock_publish(channel=channel, user=request.user),
        success=gettext("Published."),
        redirect_to=request.path.rsplit("publish/", 1)[0],
    )
    return response


def _token(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        return header[6:].strip()
    return request.GET.get("token", "")


def _feed_channel(request, slug):
    channel = Channel.objects.filter(slug=slug, active=True).first()
    if channel is None or not atp.feed_token_ok(channel, _token(request)):
        return None
    return channel


@require_GET
def channel_stock_feed(request, slug):
    """GET /orders/channels/<slug>/stock.json?token=... (or Authorization: Token ...)."""
    channel = _feed_channel(request, slug)
    if channel is None:
        return JsonResponse({"error": "unknown channel or wrong token"}, status=401)
    return JsonResponse({"channel": channel.slug, "figures": atp.published_figures(channel)})


@require_GET
def channel_stock_csv(request, slug):
    """GET /orders/channels/<slug>/stock.csv?token=...: sku,quantity,updated_at."""
    channel = _feed_channel(request, slug)
    if channel is None:
        return HttpResponse("unknown channel or wrong token\n", status=401, content_type="text/plain")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sku", "quantity", "updated_at"])
    for row in atp.published_figures(channel):
        writer.writerow([escape_formula(row["sku"]), row["quantity"], row["updated_at"]])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="stock-{channel.slug}.csv"'
    return response
