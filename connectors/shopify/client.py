"""A small client of Shopify's Admin GraphQL API on ``requests`` (docs/decisions/shopify-client.md says why not
the ShopifyAPI package).

``POST {base_url}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token`` and a JSON body
``{"query", "variables"}``. What comes back is sorted into the connector errors (connectors/base.py):

- HTTP 429 -> ``RetryLater`` after ``Retry-After`` seconds (2 when absent);
- a 200 whose ``errors`` carry ``extensions.code == "THROTTLED"`` -> ``RetryLater`` after the time the bucket
  needs to refill the query's cost: ``(requestedQueryCost - currentlyAvailable) / restoreRate`` from
  ``extensions.cost.throttleStatus`` (1 s at least);
- 401, 403 (or an ``ACCESS_DENIED`` error) -> ``Refused``; 5xx, a timeout, a refused connection -> ``Transient``;
- other 4xx and other GraphQL errors -> ``Rejected`` with Shopify's message.

The token never appears in an error or a log line.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time

import requests

from oms.wording import msg

from .. import words
from ..answers import send, sort_answer
from ..base import Refused, Rejected, RetryLater, Transient

DEFAULT_VERSION = "2025-01"
TIMEOUT_SECONDS = 20
DEFAULT_RETRY_AFTER = 2.0


_sessions: dict[tuple[int, str], requests.Session] = {}
_sessions_lock = threading.Lock()


def session_for(base_url: str) -> requests.Session:
    """One keep-alive session per shop and thread in this process: a batch of confirmations reuses its
    connection instead of opening one per call. The environment (``HTTPS_PROXY``/``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``) is read once, when the session is made, instead of on every call."""
    key = (threading.get_ident(), base_url)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            if len(_sessions) > 200:
                _sessions.clear()
            session = _sessions[key] = _session(base_url)
    return session


def _session(base_url: str) -> requests.Session:
    session = requests.Session()
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.trust_env = False  # what it would read on every call is set above
    return session


_buckets: dict[str, tuple[dict, float]] = {}  # url -> (the last throttleStatus Shopify sent, when)


def available(url: str) -> float | None:
    """The points the shop's bucket holds now, as the last answer's ``throttleStatus`` said plus what its
    ``restoreRate`` refilled since (at most ``maximumAvailable``); None when no answer said it yet."""
    seen = _buckets.get(url)
    if seen is None:
        return None
    status, at = seen
    try:
        figures = [float(status[k]) for k in ("currentlyAvailable", "restoreRate", "maximumAvailable")]
    except (KeyError, TypeError, ValueError):
        return None
    now, rate, most = figures
    return min(most, now + rate * (time.monotonic() - at))


def _remember_bucket(url: str, extensions) -> None:
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    status = cost.get("throttleStatus") if isinstance(cost, dict) else None
    if isinstance(status, dict):
        if len(_buckets) > 1000:
            _buckets.clear()
        _buckets[url] = (status, time.monotonic())


class ShopifyClient:
    def __init__(self, *, base_url: str, token: str, version: str = "", session: requests.Session | None = None):
        self.url = f"{base_url.rstrip('/')}/admin/api/{version or DEFAULT_VERSION}/graphql.json"
        self._token = token
        self.session = session or session_for(base_url.rstrip("/"))

    def __repr__(self) -> str:  # never the token
        return f"ShopifyClient({self.url!r})"

    def execute(self, query: str, variables: dict | None = None) -> dict:
        """Run one query or mutation; returns ``data`` or raises a connector error."""
        if not self._token:
            raise Refused(words.SHOPIFY_NO_TOKEN)
        response = send(
            self.session,
            "POST",
            self.url,
            vendor="Shopify",
            where=self.url,
            timeout=TIMEOUT_SECONDS,
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Shopify-Access-Token": self._token,
            },
        )
        body = sort_answer(
            response,
            vendor="Shopify",
            text=_text,
            wait=DEFAULT_RETRY_AFTER,
            busy=" (too many requests).",
            refused_hint=" Check the access token and its scopes.",
        )
        if not isinstance(body, dict):
            raise Transient("Shopify answered with JSON that is not an object.")
        _remember_bucket(self.url, body.get("extensions"))
        errors = body.get("errors")
        if errors:
            _raise_errors(errors, body.get("extensions") or {})
        data = body.get("data")
        if not isinstance(data, dict):
            raise Transient("Shopify answered without data.")
        return data


def _text(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    if isinstance(body, dict) and body.get("errors"):
        errors = body["errors"]
        if isinstance(errors, list):
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:300]
        return str(errors)[:300]
    return json.dumps(body)[:300]


def _throttle_wait(extensions: dict) -> float:
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict):
        return DEFAULT_RETRY_AFTER
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 0)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if rate <= 0:
        return DEFAULT_RETRY_AFTER
    return max(1.0, math.ceil(needed / rate))


def _raise_errors(errors, extensions: dict) -> None:
    if not isinstance(errors, list):
        raise Rejected(f"Shopify: {str(errors)[:300]}")
    codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in errors if isinstance(e, dict)} - {""}
    message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:500]
    if "THROTTLED" in codes:
        raise RetryLater(f"Shopify throttled the request: {message}", _throttle_wait(extensions))
    if "ACCESS_DENIED" in codes:
        raise Refused(msg(words.SHOPIFY_ACCESS, message=message))
    if "INTERNAL_SERVER_ERROR" in codes:
        raise Transient(f"Shopify failed: {message}")
    raise Rejected(f"Shopify: {message}")
