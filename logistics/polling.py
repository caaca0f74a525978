"""Polling carriers that must be asked: Kdniao's instant query (RequestType 8001/1002), AfterShip's
``GET /trackings/{slug}/{tracking_number}`` (header ``aftership-api-key``, key in ``AFTERSHIP_API_KEY``; the slug
is the source's ``carrier_code``), and any carrier adapter's own ``track()``.

Which parcels are polled: parcels not yet delivered, returned or lost, whose carrier has an active
`TrackingSource` in ``poll`` mode, and whose `ParcelWatch.next_poll_at` has come (or who were never polled).
A Kdniao answer is stored raw as an `InboundMessage` (source ``poll:kdniao``) and applied by the same
`logistics.intake.tracking_push_process` as a push, so duplicates, late and out-of-order scans behave
exactly as for webhooks. A failure is recorded on the parcel's watch and the next poll backs off
(``poll_every_minutes`` x 2^failures, at most a day); a transport error raises `TransientPollError` only to
the caller that asked for it.

An AfterShip answer is stored the same way (source ``poll:aftership``, the URL in the headers, never the key)
and parsed by `logistics.providers.aftership.parse_get_tracking`; an error answer (``meta.code`` not 200, e.g.
4004 "tracking does not exist") is kept as a failed message and the poll backs off.

The HTTP transports are plain functions, passed in by tests and the benchmark: ``fetch(url, form: dict) -> str``
(a form POST, Kdniao) and ``get(url, headers: dict) -> str`` (AfterShip); the defaults use urllib with a timeout.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from orders.models import InboundMessage, InboundStatus
from orders.services import inbound_record_outcome, inbound_store

from .carriers.base import CarrierError, get_adapter
from .intake import tracking_push_process
from .models import Parcel, ParcelWatch, TrackingMode, TrackingProvider, TrackingSource
from .providers import aftership, kdniao
from .services import tracking_event_record
from .status import TERMINAL

Fetch = Callable[[str, dict], str]
Get = Callable[[str, dict], str]
MAX_BACKOFF = timedelta(days=1)


class TransientPollError(Exception):
    """The provider could not be reached; worth retrying later."""


def _setting(name: str) -> str:
    return getattr(settings, name, "") or os.environ.get(name, "")


def http_fetch(url: str, form: dict, timeout: float = 10.0) -> str:
    data = urlencode(form).encode("utf-8")
    if not url.startswith("https://"):
        raise TransientPollError(f"refusing to poll a non-https URL: {url}")
    request = urllib.request.Request(  # noqa: S310 (https only, checked above)
        url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
            return response.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransientPollError(str(exc)) from exc


def http_get(url: str, headers: dict, timeout: float = 10.0) -> str:
    """GET over https. A 4xx answer (other than 429) is returned as is, for the caller to store and read; 429,
    5xx and network errors are `TransientPollError`."""
    if not url.startswith("https://"):
        raise TransientPollError(f"refusing to poll a non-https URL: {url}")
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 (https only, checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed https URL)
            return response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise TransientPollError(f"HTTP {exc.code}") from exc
        return exc.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise TransientPollError(str(exc)) from exc


def parcels_due(*, now: datetime, limit: int = 500) -> list[Parcel]:
    """Parcels whose carrier is polled and whose next poll has come, oldest poll first."""
    polled_carriers = TrackingSource.objects.filter(active=True, mode=TrackingMode.POLL).values("carrier_id")
    return list(
        Parcel.objects.filter(service__carrier_id__in=polled_carriers)
        .exclude(status__in=TERMINAL)
        .filter(Q(watch__isnull=True) | Q(watch__next_poll_at__isnull=True) | Q(watch__next_poll_at__lte=now))
        .select_related("service__carrier", "shipment__order", "watch")
        .order_by("watch__last_polled_at", "pk")[:limit]
    )


def _kdniao_poll(parcel: Parcel, source: TrackingSource, fetch: Fetch) -> InboundMessage:
    order = parcel.shipment.order
    digits = "".join(ch for ch in (order.ship_phone or "") if ch.isdigit())
    form = kdniao.query_form(
        e_business_id=_setting("KDNIAO_EBUSINESS_ID"),
        app_key=_setting("KDNIAO_WEBHOOK_SECRET"),
        shipper_code=source.carrier_code,
        logistic_code=parcel.tracking_number,
        customer_name=digits[-4:] if source.carrier_code.upper() == "SF" else "",
    )
    body = fetch(kdniao.QUERY_URL, form)
    message = inbound_store(source="poll:kdniao", body=body, headers={"RequestData": form["RequestData"]})
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("Success") is False:
        inbound_record_outcome(
            message, status=InboundStatus.FAILED, error=f"Kdniao: {answer.get('Reason') or 'no reason'}"
        )
        return message
    return tracking_push_process(message.pk)


def _aftership_poll(parcel: Parcel, source: TrackingSource, get: Get) -> InboundMessage:
    key = _setting("AFTERSHIP_API_KEY")
    if not key:
        raise TransientPollError("AFTERSHIP_API_KEY is not set")
    url = aftership.tracking_url(source.carrier_code, parcel.tracking_number)
    body = get(url, {aftership.API_KEY_HEADER: key, "Content-Type": "application/json"})
    message = inbound_store(source="poll:aftership", body=body, headers={"url": url})
    return tracking_push_process(message.pk)


def _adapter_poll(parcel: Parcel) -> int:
    events = get_adapter(parcel.service.carrier.adapter).track(parcel.tracking_number)
    return sum(1 for event in events if tracking_event_record(parcel=parcel, event=event, source="poll"))


def parcel_poll(
    *, parcel: Parcel, now: datetime | None = None, fetch: Fetch | None = None, get: Get | None = None
) -> dict:
    """Poll one parcel and record what came back. Returns a small report for the task's log."""
    now = now or timezone.now()
    fetch = fetch or http_fetch
    get = get or http_get
    source = (
        TrackingSource.objects.filter(carrier=parcel.service.carrier, active=True, mode=TrackingMode.POLL)
        .order_by("pk")
        .first()
    )
    watch, _ = ParcelWatch.objects.get_or_create(parcel=parcel)
    if source is None:
        return {"parcel": parcel.tracking_number, "skipped": "no poll source"}
    report: dict = {"parcel": parcel.tracking_number, "provider": source.provider}
    try:
        if source.provider == TrackingProvider.KDNIAO:
            message = _kdniao_poll(parcel, source, fetch)
            report.update(status=message.status, result=message.result, error=message.error)
            ok = message.status == InboundStatus.PROCESSED
        elif source.provider == TrackingProvider.AFTERSHIP:
            message = _aftership_poll(parcel, source, get)
            report.update(status=message.status, result=message.result, error=message.error)
            ok = message.status == InboundStatus.PROCESSED
        elif source.provider == TrackingProvider.ADAPTER:
            report["recorded"] = _adapter_poll(parcel)
            ok = True
        else:
            report["skipped"] = f"{source.provider} is not polled"
            ok = True
    except (TransientPollError, CarrierError) as exc:
        ok = False
        report["error"] = str(exc)
    watch.last_polled_at = now
    if ok:
        watch.poll_failures, watch.poll_error = 0, ""
        delay = timedelta(minutes=source.poll_every_minutes)
    else:
        watch.poll_failures = min(watch.poll_failures + 1, 30)
        watch.poll_error = (report.get("error") or "failed")[:255]
        delay = min(timedelta(minutes=source.poll_every_minutes) * (2**watch.poll_failures), MAX_BACKOFF)
    watch.next_poll_at = now + delay
    watch.save(update_fields=["last_polled_at", "poll_failures", "poll_error", "next_poll_at"])
    return report


def tracking_poll_due(
    *, now: datetime | None = None, fetch: Fetch | None = None, get: Get | None = None, limit: int = 500
) -> list[dict]:
    """Poll every parcel that is due (the periodic task)."""
    now = now or timezone.now()
    return [parcel_poll(parcel=parcel, now=now, fetch=fetch, get=get) for parcel in parcels_due(now=now, limit=limit)]
