"""The client's address, the same way everywhere (rate limits, lockouts, logs).

Behind ``OMS_TRUSTED_PROXY_COUNT`` reverse proxies (default 0: the app faces clients directly), each proxy
appends the address it received the request from to ``X-Forwarded-For``. The right-most N entries were
written by our own proxies; the entry just before them is the client as our outermost proxy saw it.
Anything left of that was written by the client and is never trusted. A header that is missing, too short
or holds something that is not an IP address falls back to ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's IP address as text (``"unknown"`` when there is none at all)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = getattr(settings, "OMS_TRUSTED_PROXY_COUNT", 0)
    if trusted <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not header or len(header) > 2000:
        return remote
    hops = [hop for hop in (h.strip() for h in header.split(",")) if hop]
    # REMOTE_ADDR is the innermost proxy; it appended the hop before it, and so on outwards. With N trusted
    # proxies, the last N-1 header entries are proxies too and the one before them is the client.
    if len(hops) < trusted:
        return remote
    candidate = _ip(hops[len(hops) - trusted])
    return candidate or remote
