"""Webhook signatures: base64 of HMAC-SHA256 over the raw body, keyed with the channel's secret
(the scheme both Shopify and WooCommerce use)."""

import base64
import hashlib
import hmac


class SignatureInvalid(Exception):
    pass


def header(headers: dict, name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return ""


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def verify_base64_hmac(body: bytes, headers: dict, secret: str, header_name: str) -> None:
    if not secret:
        raise SignatureInvalid("the channel has no webhook secret: set one on the channel page.")
    given = header(headers, header_name).strip()
    if not given:
        raise SignatureInvalid(f"no {header_name} header.")
    # Bytes, not str: compare_digest refuses a non-ASCII str, and a header may hold anything.
    if not hmac.compare_digest(sign(body, secret).encode("ascii"), given.encode("utf-8", "replace")):
        raise SignatureInvalid(f"{header_name} does not match the body signed with the channel's secret.")
