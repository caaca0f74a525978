"""A small client of the 抖店 open platform (Douyin Shop, op.jinritemai.com) on ``requests``.

There is no maintained Python client (the PyPI ``doudian`` package is from 2022); this follows the platform's
official SDKs (doudian-sdk-golang 1.1.0: ``core/doudian_op_api_client.go``, ``utils/sign_util.go``) and its
guide "签名算法" (https://op.jinritemai.com/docs/guide-docs/10/23):

- every call is ``POST {base_url}/<method with / for .>`` (``order.searchList`` -> ``/order/searchList``) with
  the query ``app_key``, ``method``, ``timestamp`` (Unix seconds), ``v=2``, ``sign_method=hmac-sha256``,
  ``sign`` and ``access_token`` (not on ``token.create``/``token.refresh``), and the business parameters as the
  JSON body (``param_json``: keys sorted, no spaces, no HTML escaping);
- ``sign = hex(HMAC-SHA256(key=app_secret, app_secret + "app_key" + app_key + "method" + method + "param_json"
  + param_json + "timestamp" + timestamp + "v" + "2" + app_secret))`` (``sign_method=md5``: the MD5 of the same
  string);
- the answer is HTTP 200 with ``{"code", "msg", "sub_code", "sub_msg", "data", "log_id"}``; ``code`` 10000 is
  success. The platform's base error codes ("平台基础错误码汇总",
  https://op.jinritemai.com/docs/guide-docs/212/1427) are sorted into the connector errors (connectors/base.py):

  ======================================  =========================================================
  60000 触发限流                           ``RetryLater`` (no Retry-After is sent: ``RATE_LIMIT_WAIT``)
  20000 服务不可用, 20001 超时, 90000       ``Transient``
  40003 ``isv.access-token-expired`` /    the token is refreshed once and the call made again
  ``isv.access-token-no-existed``
  30001 权限不足, 30002 IP 白名单,          ``Refused`` (a person fixes the app, the authorisation or
  40001, 40003 (signature, app key),      the secret)
  50001 (token), 80000
  40002, 40004 参数, 50002 业务处理失败,    ``Rejected`` with the platform's sub_code and sub_msg
  70000 接口下线
  ======================================  =========================================================

The access token of a self-use app (自用型应用) is made by ``token.create`` (``grant_type=authorization_self``,
``shop_id``) and kept on the connection (``credentials["doudian_token"]``: access token, refresh token, expiry);
it is refreshed by ``token.refresh`` (``grant_type=refresh_token``) a minute before it expires or when the
platform says it has, and made anew when the refresh token is refused. The app secret and the tokens never
appear in an error, a log line or the ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from oms.wording import msg

from .. import words
from ..answers import send
from ..base import Refused, Rejected, RetryLater, Transient
from ..shopify.client import session_for

OK = 10000
TIMEOUT_SECONDS = 20
RATE_LIMIT_WAIT = 1.0  # 60000 names no wait: the limits are per second (QPS)
TOKEN_MARGIN_SECONDS = 60
TOKEN_EXPIRED = {"isv.access-token-expired", "isv.access-token-no-existed"}
REFUSED_CODES = {30001, 30002, 40001, 50001, 80000}
REFUSED_SUBCODES = {"isv.signature-invalid", "isv.access-token-invalid", "isv.app-id-invalid", "isv.app-id-expired"}
TRANSIENT_CODES = {20000, 20001, 90000}
RATE_LIMITED = 60000
TOKEN_METHODS = {"token.create", "token.refresh"}


def param_json(params: dict) -> str:
    """The business parameters as the platform signs them: keys sorted, compact, non-ASCII kept as is."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(*, app_key: str, app_secret: str, method: str, param_json: str, timestamp: str, sign_method="hmac-sha256"):
    pattern = f"{app_secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v2{app_secret}"
    if sign_method == "md5":
        return hashlib.md5(pattern.encode()).hexdigest()  # noqa: S324 (the platform's own md5 sign_method)
    return hmac.new(app_secret.encode(), pattern.encode(), hashlib.sha256).hexdigest()


def split_secret(secret: str) -> tuple[str, str, str]:
    """``app_key:app_secret:shop_id`` (the connection's access token field) -> its three parts ("" when bad)."""
    parts = [p.strip() for p in str(secret or "").split(":")]
    if len(parts) != 3 or not all(parts):
        return "", "", ""
    return parts[0], parts[1], parts[2]


class DoudianError(Exception):
    """The platform's answer with a code other than 10000 (before it is sorted into a connector error)."""

    def __init__(self, code: int, msg: str, sub_code: str, sub_msg: str):
        self.code, self.msg, self.sub_code, self.sub_msg = code, msg, sub_code, sub_msg
        detail = f"{sub_code}: {sub_msg}" if sub_code or sub_msg else ""
        super().__init__(f"抖店 answered {code} {msg}" + (f" ({detail})" if detail else ""))


class DoudianClient:
    """Calls for one connection. ``token`` is the kept token dict (or None); ``on_token(token)`` is called with
    a new one so the caller can keep it."""

    def __init__(self, *, base_url: str, secret: str, token: dict | None = None, on_token=None, session=None):
        self.root = base_url.rstrip("/")
        self.app_key, self._app_secret, self.shop_id = split_secret(secret)
        self._token = token if _token_for(token, self.app_key, self.shop_id) else None
        self._on_token = on_token
        self.session = session or session_for(self.root)

    def __repr__(self) -> str:  # never the secret or the token
        return f"DoudianClient({self.root!r}, app_key={self.app_key!r})"

    # ---- the calls ------------------------------------------------------------------------------------

    def call(self, method: str, params: dict) -> dict:
        """One API call; returns ``data``. A token the platform calls expired is refreshed once."""
        if not (self.app_key and self._app_secret and self.shop_id):
            raise Refused(words.DOUDIAN_SECRET)
        try:
            return self._post(method, params, self._access_token())
        except DoudianError as exc:
            if exc.code == 40003 and exc.sub_code in TOKEN_EXPIRED and self._token:
                self._token = {**self._token, "expires_at": 0}  # refreshed (or made anew) by the next line
                try:
                    return self._post(method, params, self._access_token())
                except DoudianError as again:
                    raise _connector_error(again) from None
            raise _connector_error(exc) from None

    def _post(self, method: str, params: dict, access_token: str | None) -> dict:
        body = param_json(params)
        timestamp = str(int(time.time()))
        query = {
            "app_key": self.app_key,
            "method": method,
            "timestamp": timestamp,
            "v": "2",
            "sign_method": "hmac-sha256",
            "sign": sign(
                app_key=self.app_key,
                app_secret=self._app_secret,
                method=method,
                param_json=body,
                timestamp=timestamp,
            ),
        }
        if access_token is not None:
            query["access_token"] = access_token
        url = f"{self.root}/{method.replace('.', '/')}"
        response = send(
            self.session,
            "POST",
            url,
            vendor="抖店",
            where=self.root,
            timeout=TIMEOUT_SECONDS,
            params=query,
            data=body.encode("utf-8"),
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        status = response.status_code
        if status == 429:
            raise RetryLater("抖店 answered HTTP 429.", RATE_LIMIT_WAIT)
        if status >= 500:
            raise Transient(f"抖店 answered HTTP {status}.")
        if status != 200:
            raise Rejected(f"抖店 answered HTTP {status}: {(response.text or '').strip()[:200]}")
        try:
            answer = response.json()
        except ValueError:
            raise Transient("抖店 answered with a body that is not JSON.") from None
        if not isinstance(answer, dict):
            raise Transient("抖店 answered with a body that is not a JSON object.")
        try:
            code = int(answer.get("code"))
        except (TypeError, ValueError):
            raise Transient(f"抖店 answered without a code: {str(answer)[:200]}") from None
        if code != OK:
            raise DoudianError(
                code, str(answer.get("msg") or ""), str(answer.get("sub_code") or ""), str(answer.get("sub_msg") or "")
            )
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    # ---- the token ------------------------------------------------------------------------------------

    def _access_token(self) -> str:
        token = self._token
        if token and float(token.get("expires_at") or 0) > time.time() + TOKEN_MARGIN_SECONDS:
            return str(token["access_token"])
        data = None
        if token and token.get("refresh_token"):
            try:
                data = self._post(
                    "token.refresh", {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}, None
                )
            except DoudianError as exc:
                if exc.code not in (50001, 50002, 40003):  # the refresh token is spent: make a new one below
                    raise _connector_error(exc) from None
        if data is None:
            try:
                data = self._post(
                    "token.create", {"code": "", "grant_type": "authorization_self", "shop_id": self.shop_id}, None
                )
            except DoudianError as exc:
                raise _connector_error(exc) from None
        if not data.get("access_token"):
            raise Refused(words.DOUDIAN_NO_TOKEN)
        try:
            lifetime = float(data.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        self._token = {
            "access_token": str(data["access_token"]),
            "refresh_token": str(data.get("refresh_token") or ""),
            "expires_at": time.time() + lifetime,
            "app_key": self.app_key,
            "shop_id": self.shop_id,
        }
        if self._on_token is not None:
            self._on_token(dict(self._token))
        return self._token["access_token"]


def _token_for(token, app_key: str, shop_id: str) -> bool:
    return (
        isinstance(token, dict)
        and bool(token.get("access_token"))
        and token.get("app_key") == app_key
        and str(token.get("shop_id")) == shop_id
    )


def _connector_error(exc: DoudianError):
    """The connector error for the platform's answer; it keeps the platform's ``code`` and ``sub_code``."""
    text = str(exc)
    if exc.code == RATE_LIMITED:
        error = RetryLater(text, RATE_LIMIT_WAIT)
    elif exc.code in TRANSIENT_CODES:
        error = Transient(text)
    elif exc.code in REFUSED_CODES or exc.sub_code in REFUSED_SUBCODES or exc.sub_code in TOKEN_EXPIRED:
        error = Refused(msg(words.DOUDIAN_AUTHORISATION, text=text))
    else:
        error = Rejected(text)
    error.code, error.sub_code, error.sub_msg = exc.code, exc.sub_code, exc.sub_msg
    return error
