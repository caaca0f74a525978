"""One door for the platforms' HTTP answers (the Shopify, WooCommerce, Amazon and 抖店 clients): a request whose
transport failed and an answer's status are sorted into the connector errors (connectors/base.py) the same way
for every platform:

- a timeout, a refused connection -> ``Transient`` ("<vendor> did not answer within N s", "Could not reach …");
- 429 -> ``RetryLater`` after ``Retry-After`` (the client says how long when it is absent);
- 401, 403 -> ``Refused`` (or the client's own class: Amazon asks for a new token first), with the client's hint;
- 5xx -> ``Transient``; other 4xx -> ``Rejected``, each with the platform's own text.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import requests

from .base import Refused, Rejected, RetryLater, Transient


def send(session, method: str, url: str, *, vendor: str, where: str, timeout: float, **kwargs):
    """``session.request(method, url, timeout=timeout, **kwargs)``; its transport failures as ``Transient``."""
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise Transient(f"{vendor} did not answer within {timeout} s ({type(exc).__name__}).") from None
    except requests.RequestException as exc:
        raise Transient(f"Could not reach {vendor} at {where}: {type(exc).__name__}.") from None


def sort_status(
    status: int,
    *,
    vendor: str,
    text: Callable[[], str],
    retry_after: Callable[[], float],
    busy: str = "",
    refused_hint: str = "",
    refused: type[Exception] = Refused,
) -> None:
    """Raise the connector error of a 4xx or 5xx answer (nothing below 400). ``text`` (the platform's message) and
    ``retry_after`` are asked only when needed; ``busy`` replaces ``": <text>"`` after a 429."""
    if status < 400:
        return
    if status == 429:
        raise RetryLater(f"{vendor} answered 429{busy or ': ' + text()}", retry_after())
    if status in (401, 403):
        raise refused(f"{vendor} answered {status}: {text()}{refused_hint}")
    if status >= 500:
        raise Transient(f"{vendor} answered {status}: {text()}")
    raise Rejected(f"{vendor} answered {status}: {text()}")


def sort_answer(response, *, vendor: str, text: Callable, wait: float, busy: str = "", refused_hint: str = ""):
    """A ``requests`` answer's JSON body, or its connector error: ``sort_status`` with ``text(response)`` the
    platform's message and ``Retry-After`` its wait (``wait`` seconds when absent or not a number); a body that is
    not JSON is ``Transient``."""
    sort_status(
        response.status_code,
        vendor=vendor,
        text=lambda: text(response),
        retry_after=lambda: retry_after(response.headers.get("Retry-After"), wait),
        busy=busy,
        refused_hint=refused_hint,
    )
    try:
        return response.json()
    except ValueError:
        raise Transient(f"{vendor} answered {response.status_code} with a body that is not JSON.") from None


def retry_after(value, default: float) -> float:
    """A ``Retry-After`` header's seconds; ``default`` when absent, not a number or negative."""
    try:
        seconds = float(value or "")
    except ValueError:
        return default
    return seconds if math.isfinite(seconds) and seconds >= 0 else default
