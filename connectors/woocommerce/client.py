"""A small client of the WooCommerce REST API (v3) on ``requests``.

``{base_url}/wp-json/wc/v3/<path>`` with the consumer key and secret as HTTP Basic auth (WooCommerce's
documented way over https; the base URL is the connection's, so a test server on loopback works the same).
The Shipment Tracking extension has its own namespace, ``/wp-json/wc-shipment-tracking/v3/``.
Lists page with ``page`` and ``per_page`` and say how many pages there are in ``X-WP-TotalPages``.

WooCommerce's errors are ``{"code", "message", "data": {"status"}}``; they are sorted into the connector errors
(connectors/base.py):

- 429 -> ``RetryLater`` after ``Retry-After`` seconds (a host or a rate-limit plugin sends it; 2 s when absent);
- 401, 403 (``woocommerce_rest_cannot_view``, ``woocommerce_rest_authentication_error`` ...) -> ``Refused``;
- 5xx, a timeout, a refused connection, a body that is not JSON -> ``Transient``;
- other 4xx (400 ``rest_invalid_param``, 404 ``woocommerce_rest_shop_order_invalid_id`` ...) -> ``Rejected``
  with WooCommerce's code and message.

The consumer secret never appears in an error, a log line or the ``repr``.
"""

from __future__ import annotations

import json

import requests

from .. import words
from ..answers import send, sort_answer
from ..base import Refused
from ..shopify.client import session_for

API = "wp-json/wc/v3"
TRACKING_API = "wp-json/wc-shipment-tracking/v3"
TIMEOUT_SECONDS = 20
DEFAULT_RETRY_AFTER = 2.0


class Answer:
    def __init__(self, body, total_pages: int):
        self.body = body
        self.total_pages = total_pages


def split_secret(secret: str) -> tuple[str, str]:
    """``ck_…:cs_…`` (the access token field of the connection) -> (consumer key, consumer secret)."""
    key, sep, value = str(secret or "").partition(":")
    return (key.strip(), value.strip()) if sep else ("", "")


class WooClient:
    def __init__(self, *, base_url: str, secret: str, session: requests.Session | None = None):
        self.root = base_url.rstrip("/")
        self._auth = split_secret(secret)
        self.session = session or session_for(self.root)

    def __repr__(self) -> str:  # never the secret
        return f"WooClient({self.root!r})"

    def get(self, path: str, params: dict | None = None, *, api: str = API) -> Answer:
        return self.call("GET", path, params=params, api=api)

    def post(self, path: str, body: dict, *, api: str = API) -> Answer:
        return self.call("POST", path, body=body, api=api)

    def put(self, path: str, body: dict, *, api: str = API) -> Answer:
        return self.call("PUT", path, body=body, api=api)

    def delete(self, path: str, *, api: str = API) -> Answer:
        return self.call("DELETE", path, api=api)

    def call(self, method: str, path: str, *, params=None, body=None, api: str = API) -> Answer:
        if not all(self._auth):
            raise Refused(words.WOO_SECRET)
        url = f"{self.root}/{api}/{path.lstrip('/')}"
        response = send(
            self.session,
            method,
            url,
            vendor="WooCommerce",
            where=self.root,
            timeout=TIMEOUT_SECONDS,
            params=params,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Accept": "application/json", "Content-Type": "application/json"},
            auth=self._auth,
        )
        data = sort_answer(
            response,
            vendor="WooCommerce",
            text=_text,
            wait=DEFAULT_RETRY_AFTER,
            refused_hint=" Check the consumer key and secret.",
        )
        try:
            pages = int(response.headers.get("X-WP-TotalPages") or 1)
        except ValueError:
            pages = 1
        return Answer(data, pages)


def _text(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300]
    if isinstance(body, dict) and body.get("message"):
        code = f"{body['code']}: " if body.get("code") else ""
        return f"{code}{body['message']}"[:300]
    return json.dumps(body)[:300]
