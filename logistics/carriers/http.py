"""The default HTTP transport of the remote carrier adapters: one request with a timeout, over https only
(plain http only to a loopback address: the test suite's fake vendors, a local sandbox).

A transport is ``transport(method, url, headers, body) -> (status, body)``; adapters take one injected, so
tests can replace it, and use `make_transport(vendor)` by default. Connection failures and timeouts raise
`TransientCarrierError` (retried); HTTP error statuses are returned for the adapter to judge.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from .base import CarrierError, TransientCarrierError

TIMEOUT_SECONDS = 20
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

Transport = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, bytes]]


def is_loopback_http(url: str) -> bool:
    """Plain http to this machine (a fake vendor in the tests, a local sandbox); never to another host."""
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def make_transport(vendor: str, timeout: float = TIMEOUT_SECONDS) -> Transport:
    def transport(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, bytes]:
        if not (url.startswith("https://") or is_loopback_http(url)):
            raise CarrierError(f"{vendor} is only called over https, not {url[:40]!r}")
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https or loopback)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TransientCarrierError(f"{vendor} could not be reached: {getattr(exc, 'reason', exc)}") from exc

    transport.__name__ = f"{vendor.lower()}_transport"
    return transport
