"""Amazon's Selling Partner API through the maintained client ``python-amazon-sp-api`` (``sp_api``), pointed at
the connection's own endpoint and LWA token URL.

What the library is given or told (checked against its source, sp_api 2.1):

- the endpoint: ``Client.endpoint`` is the marketplace's region URL; it is set to the connection's base URL after
  construction (``https://sellingpartnerapi-na.amazon.com`` in production, a sandbox or a loopback fake in tests);
  the ``host`` header the library derives from ``endpoint[8:]`` (it assumes ``https://``) is set from the URL;
- the LWA token: the library's ``AccessTokenClient`` has the host ``api.amazon.com`` as a class attribute and a
  module-wide cache that keeps every token 3200 s whatever ``expires_in`` says and is never dropped. It takes an
  ``auth_token_client_class``, so ``LwaTokenClient`` below posts ``grant_type=refresh_token`` to the connection's
  token URL, keeps the token until 60 s before ``expires_in`` (per URL, client id and refresh token) and drops it
  when the API refuses it (401/403): the call is then made once more with a new token;
- credentials come from code only (``FromCodeCredentialProvider``: no environment variables or config files);
- the library raises only when a body has ``errors`` and reads no status code, so every answer is sorted here:
  429 -> ``RetryLater`` after ``Retry-After`` or, as Amazon sends it, 1 / ``x-amzn-RateLimit-Limit`` seconds;
  401/403 after a fresh token -> ``Refused``; 5xx, a timeout, a refused connection, a body that is not JSON ->
  ``Transient``; other 4xx -> ``Rejected`` with Amazon's ``errors`` (``code: message (details)``).

The client secret, the refresh token and the access token never appear in an error, a log line or a ``repr``
(the library logs each request's headers at DEBUG: a filter on its logger drops those records).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from urllib.parse import urlsplit

import httpx
from sp_api.api.feeds.feeds_2021_06_30 import FeedsV20210630
from sp_api.api.orders.orders_v0 import OrdersV0
from sp_api.base import Marketplaces
from sp_api.base.credential_provider import FromCodeCredentialProvider

from oms.wording import msg

from .. import words
from ..answers import sort_status
from ..base import Refused, Rejected, RetryLater, Transient

LWA_URL = "https://api.amazon.com/auth/o2/token"
TIMEOUT_SECONDS = 20.0
TOKEN_MARGIN_SECONDS = 60.0
DEFAULT_RETRY_AFTER = 2.0
MAX_RETRY_AFTER = 300.0


def _no_headers(record: logging.LogRecord) -> bool:
    """sp_api logs every request's headers (the access token among them) at DEBUG: never let them out."""
    return "Headers" not in str(record.msg)


logging.getLogger("sp_api.base.client").addFilter(_no_headers)

_tokens: dict[str, tuple[float, str]] = {}  # cache key -> (monotonic expiry, access token)
_tokens_lock = threading.Lock()


def split_secret(secret: str) -> tuple[str, str, str]:
    """``<client id>:<client secret>:<refresh token>`` (the connection's access token field) -> the three parts.
    LWA client ids (``amzn1.application-oa2-client.…``), secrets (``amzn1.oa2-cs.v1.…``) and refresh tokens
    (``Atzr|…``) hold no colon."""
    parts = [p.strip() for p in str(secret or "").split(":")]
    return tuple(parts) if len(parts) == 3 and all(parts) else ("", "", "")  # type: ignore[return-value]


def _key(url: str, client_id: str, refresh_token: str) -> str:
    return hashlib.sha256(f"{url}\n{client_id}\n{refresh_token}".encode()).hexdigest()


def forget_tokens() -> None:
    with _tokens_lock:
        _tokens.clear()


class _Token:
    def __init__(self, access_token: str):
        self.access_token = access_token


class LwaTokenClient:
    """The LWA refresh-token grant on a configurable URL (stands in for sp_api's ``AccessTokenClient``)."""

    def __init__(self, *, url: str, client_id: str, client_secret: str, refresh_token: str, transport):
        self.url = url
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._transport = transport
        self.cache_key = _key(url, client_id, refresh_token)

    def __repr__(self) -> str:
        return f"LwaTokenClient({self.url!r})"

    def get_auth(self) -> _Token:
        now = time.monotonic()
        with _tokens_lock:
            hit = _tokens.get(self.cache_key)
        if hit is not None and hit[0] > now:
            return _Token(hit[1])
        token, expires_in = self._fetch()
        with _tokens_lock:
            _tokens[self.cache_key] = (now + max(0.0, expires_in - TOKEN_MARGIN_SECONDS), token)
        return _Token(token)

    def drop(self) -> None:
        with _tokens_lock:
            _tokens.pop(self.cache_key, None)

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._transport.post(
                self.url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token,
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            )
        except httpx.TimeoutException:
            raise Transient(f"Amazon's token service (LWA) did not answer within {TIMEOUT_SECONDS:.0f} s.") from None
        except httpx.HTTPError as exc:
            raise Transient(f"Could not reach Amazon's token service at {self.url}: {type(exc).__name__}.") from None
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if status == 429:
            raise RetryLater("Amazon's token service answered 429.", _retry_after(response))
        if status >= 500:
            raise Transient(f"Amazon's token service answered {status}.")
        if status >= 400:
            error = str(body.get("error") or status)
            text = str(body.get("error_description") or "")[:200]
            raise Refused(msg(words.AMAZON_TOKEN, error=error, text=text))
        token = str(body.get("access_token") or "")
        if not token:
            raise Transient("Amazon's token service answered without an access token.")
        try:
            expires_in = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            expires_in = 3600.0
        return token, expires_in if math.isfinite(expires_in) else 3600.0


class _TokenRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _Endpoint:
    """Mixed into sp_api clients: the connection's endpoint, our token client, every answer sorted."""

    def _setup(self, *, base_url: str, marketplace_id: str, token_client: LwaTokenClient) -> None:
        self.endpoint = base_url.rstrip("/")
        self.marketplace_id = marketplace_id
        self._auth = token_client
        self._host = urlsplit(self.endpoint).netloc

    def __repr__(self) -> str:  # never a secret
        return f"{type(self).__name__}({self.endpoint!r})"

    @property
    def headers(self):
        return {
            "host": self._host,
            "user-agent": self.user_agent,
            "x-amz-access-token": self._auth.get_auth().access_token,
            "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
            "content-type": "application/json",
        }

    def _request(self, path, **kwargs):
        method_kwargs = dict(kwargs)
        for attempt in (1, 2):
            # sp_api pops "method" from params/data: give each try its own copies
            copy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in method_kwargs.items()}
            try:
                return super()._request(path, **copy)
            except _TokenRefused as exc:
                self._auth.drop()
                if attempt == 2:
                    raise Refused(msg(words.AMAZON_ROLES, text=exc.message)) from None
            except httpx.TimeoutException:
                raise Transient(f"Amazon did not answer within {TIMEOUT_SECONDS:.0f} s.") from None
            except httpx.HTTPError as exc:
                raise Transient(f"Could not reach Amazon at {self.endpoint}: {type(exc).__name__}.") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_response(self, res, res_no_data: bool = False, bulk: bool = False, wrap_list: bool = False):
        check(res)
        return super()._check_response(res, res_no_data=res_no_data, bulk=bulk, wrap_list=wrap_list)


def check(res) -> None:
    """Sort one SP-API answer into the connector errors (nothing raised for a 2xx with a JSON body)."""
    status = res.status_code
    sort_status(
        status,
        vendor="Amazon",
        text=lambda: errors_text(res),
        retry_after=lambda: _retry_after(res),
        refused=_TokenRefused,
    )
    if status != 204 and (res.content or b"").strip():
        try:
            res.json()
        except ValueError:
            raise Transient(f"Amazon answered {status} with a body that is not JSON.") from None


def errors_text(res) -> str:
    """Amazon's ``{"errors": [{"code", "message", "details"}]}`` as one line."""
    try:
        body = res.json()
    except ValueError:
        return (res.text or "").strip()[:300] or "(no body)"
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return json.dumps(body)[:300]
    parts = []
    for error in errors[:5]:
        if not isinstance(error, dict):
            continue
        text = f"{error.get('code') or 'Error'}: {error.get('message') or ''}".strip()
        if error.get("details"):
            text += f" ({error['details']})"
        parts.append(text)
    return "; ".join(parts)[:600]


def _retry_after(res) -> float:
    """``Retry-After`` when given; else one request's worth of Amazon's rate (``x-amzn-RateLimit-Limit`` is
    requests per second); else 2 s. Never more than 5 minutes."""
    for header, invert in (("Retry-After", False), ("x-amzn-RateLimit-Limit", True)):
        raw = res.headers.get(header)
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if not math.isfinite(value) or value < 0 or (invert and value == 0):
            continue
        return min(1.0 / value if invert else value, MAX_RETRY_AFTER)
    return DEFAULT_RETRY_AFTER


class AmazonOrders(_Endpoint, OrdersV0):
    pass


class AmazonFeeds(_Endpoint, FeedsV20210630):
    pass


class AmazonApi:
    """The SP-API clients of one connection, sharing one HTTP client and one token client."""

    def __init__(self, *, base_url: str, secret: str, marketplace_ids: list[str], lwa_url: str = ""):
        client_id, client_secret, refresh_token = split_secret(secret)
        if not (client_id and client_secret and refresh_token):
            raise Refused(words.AMAZON_SECRET)
        if not marketplace_ids:
            raise Rejected("Set the Amazon marketplace id(s) on the connection (e.g. ATVPDKIKX0DER).")
        self.base_url = base_url.rstrip("/")
        self.marketplace_ids = marketplace_ids
        self.http = httpx.Client(timeout=TIMEOUT_SECONDS)
        self.token = LwaTokenClient(
            url=lwa_url or LWA_URL,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            transport=self.http,
        )
        self._credentials = {"lwa_app_id": client_id, "lwa_client_secret": client_secret}
        self._refresh_token = refresh_token
        self.orders = self._make(AmazonOrders)
        self.feeds = self._make(AmazonFeeds)

    def __repr__(self) -> str:
        return f"AmazonApi({self.base_url!r})"

    def _make(self, cls):
        client = cls(
            Marketplaces.US,
            refresh_token=self._refresh_token,
            credentials=self._credentials,
            credential_providers=(FromCodeCredentialProvider,),
            auth_token_client_class=lambda **kwargs: self.token,
            timeout=TIMEOUT_SECONDS,
            # sp_api builds an httpx.Client of its own here; it is replaced at once by the shared, verifying one
            # below and never sends anything. verify=False only spares loading the CA bundle for it (~100 ms).
            verify=False,
        )
        client._transport._client.close()
        client._transport._client = self.http
        client.verify = True
        client._setup(base_url=self.base_url, marketplace_id=self.marketplace_ids[0], token_client=self.token)
        return client

    def upload(self, url: str, content: bytes, content_type: str) -> None:
        """PUT a feed document to the URL ``createFeedDocument`` gave (pre-signed: no token)."""
        try:
            response = self.http.put(url, content=content, headers={"Content-Type": content_type})
        except httpx.TimeoutException:
            raise Transient(f"The feed document upload did not answer within {TIMEOUT_SECONDS:.0f} s.") from None
        except httpx.HTTPError as exc:
            raise Transient(f"Could not upload the feed document: {type(exc).__name__}.") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"The feed document upload answered {response.status_code}.")
        if response.status_code >= 400:
            raise Rejected(f"The feed document upload answered {response.status_code}: {response.text[:200]}")

    def download(self, url: str) -> bytes:
        try:
            response = self.http.get(url)
        except httpx.HTTPError as exc:
            raise Transient(f"Could not read the feed's processing report: {type(exc).__name__}.") from None
        if response.status_code >= 400:
            raise Transient(f"The feed's processing report answered {response.status_code}.")
        return response.content

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass  # kept for the next call of the same connection (``api_of``): one TLS context and keep-alive


_apis: dict[str, AmazonApi] = {}
_apis_lock = threading.Lock()
APIS_MAX = 32


def api_of(*, base_url: str, secret: str, marketplace_ids: list[str], lwa_url: str = "") -> AmazonApi:
    """The clients of one connection's settings, made once per process and reused (a changed setting or secret
    is another key; the token cache is separate and keyed by URL, client id and refresh token)."""
    key = hashlib.sha256(json.dumps([base_url, secret, marketplace_ids, lwa_url]).encode()).hexdigest()
    with _apis_lock:
        api = _apis.get(key)
    if api is not None:
        return api
    api = AmazonApi(base_url=base_url, secret=secret, marketplace_ids=marketplace_ids, lwa_url=lwa_url)
    with _apis_lock:
        if len(_apis) >= APIS_MAX:
            for old in _apis.values():
                old.close()
            _apis.clear()
        return _apis.setdefault(key, api)


def forget_clients() -> None:
    with _apis_lock:
        for api in _apis.values():
            api.close()
        _apis.clear()
    forget_tokens()
