"""The fake Shopify's ``orderCancel`` by API version (tests/connectors/fake_shopify.py registers it).

Admin API 2025-07 added ``refundMethod: OrderCancelRefundMethodInput`` (``{originalPaymentMethodsRefund: Boolean,
storeCreditRefund: OrderCancelStoreCreditRefundInput}``) and deprecated ``refund: Boolean`` (shopify.dev changelog
"Order cancellation now supports refunds to store credit"; before 2025-07 ``refund: Boolean!`` is required). The
version is the one in the request's URL (``/admin/api/<version>/graphql.json``; ``unstable`` is the newest):

- before 2025-07 a document that passes ``refundMethod`` is refused as Shopify's GraphQL validation refuses an
  argument or a type the version does not define: a 200 with top-level ``errors`` (``argumentNotAccepted``,
  ``variableRequiresValidType``), no ``data``, nothing done; one without ``refund`` misses a required argument
  (``missingRequiredArguments``);
- from 2025-07 ``refund`` still works (deprecated arguments do), answered with the
  ``X-Shopify-API-Deprecated-Reason`` header Shopify sends for deprecated fields and arguments, and the use is
  recorded in ``shop.deprecated``; a ``refundMethod`` with a field ``OrderCancelRefundMethodInput`` does not
  define, or an ``originalPaymentMethodsRefund`` that is not a Boolean, is an ``INVALID_VARIABLE`` error.
"""

from __future__ import annotations

import re

REFUND_METHOD_SINCE = "2025-07"
REFUND_METHOD_FIELDS = {"originalPaymentMethodsRefund", "storeCreditRefund"}
DEPRECATED_REASON = "https://shopify.dev/api/usage/versioning#deprecation-practices"
REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")


def version_of(path: str) -> str:
    match = re.match(r"/admin/api/([0-9a-z-]+)/graphql\.json", path)
    return match.group(1) if match else ""


def knows_refund_method(version: str) -> bool:
    return version == "unstable" or version >= REFUND_METHOD_SINCE


def _arguments(query: str) -> list[str]:
    """The argument names the document passes to ``orderCancel(...)``."""
    match = re.search(r"\borderCancel\s*\(([^)]*)\)", query)
    return re.findall(r"(\w+)\s*:", match.group(1)) if match else []


def _error(message: str, code: str, **extensions) -> dict:
    return {"message": message, "locations": [{"line": 1, "column": 1}], "extensions": {"code": code, **extensions}}


def argument_errors(version: str, query: str, variables: dict) -> list[dict]:
    """The GraphQL errors Shopify answers an ``orderCancel`` document with at ``version`` (none: it runs)."""
    passed = _arguments(query)
    errors = []
    if not knows_refund_method(version):
        if "refundMethod" in passed:
            if re.search(r"\$\w+\s*:\s*OrderCancelRefundMethodInput\b", query):
                errors.append(
                    _error(
                        "OrderCancelRefundMethodInput isn't a defined input type (on $refundMethod)",
                        "variableRequiresValidType",
                        typeName="OrderCancelRefundMethodInput",
                        variableName="refundMethod",
                    )
                )
            errors.append(
                _error(
                    "Field 'orderCancel' doesn't accept argument 'refundMethod'",
                    "argumentNotAccepted",
                    name="orderCancel",
                    typeName="Field",
                    argumentName="refundMethod",
                )
            )
        if "refund" not in passed:
            errors.append(
                _error(
                    "Field 'orderCancel' is missing required arguments: refund",
                    "missingRequiredArguments",
                    className="Field",
                    name="orderCancel",
                    arguments="refund",
                )
            )
        return errors
    method = variables.get("refundMethod") if "refundMethod" in passed else None
    if method is not None:
        unknown = sorted(set(method) - REFUND_METHOD_FIELDS) if isinstance(method, dict) else ["(not an object)"]
        wrong = isinstance(method, dict) and not isinstance(method.get("originalPaymentMethodsRefund", False), bool)
        if unknown or wrong:
            detail = f".{unknown[0]} (Field is not defined on OrderCancelRefundMethodInput)" if unknown else ""
            errors.append(
                _error(
                    "Variable $refundMethod of type OrderCancelRefundMethodInput! was provided invalid value" + detail,
                    "INVALID_VARIABLE",
                )
            )
    return errors


def uses_deprecated_refund(version: str, query: str) -> bool:
    return knows_refund_method(version) and "refund" in _arguments(query)


def _known(shop, gid: str) -> bool:
    return gid in shop.fulfillment_orders or any(o["id"] == gid for o in shop.orders)


def order_cancel(shop, v: dict) -> dict:
    """``orderCancel`` as documented (the document's arguments were checked by ``argument_errors``): an unknown
    order is NOT_FOUND, a cancelled one INVALID; the reason must be an OrderCancelReason, ``restock`` is required."""
    gid = v.get("orderId") or ""
    errors = []
    if v.get("reason") not in REASONS:
        errors.append({"field": ["reason"], "message": "Reason is invalid", "code": "INVALID"})
    elif not isinstance(v.get("restock"), bool) or ("refund" in v and not isinstance(v["refund"], bool)):
        errors.append({"field": ["refund"], "message": "Refund and restock are required", "code": "INVALID"})
    elif not _known(shop, gid):
        errors.append({"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"})
    elif gid in shop.cancelled:
        errors.append({"field": ["orderId"], "message": "Order has already been cancelled", "code": "INVALID"})
    if errors:
        return {"orderCancel": {"job": None, "orderCancelUserErrors": errors}}
    shop.cancelled[gid] = dict(v)
    for o in shop.orders:
        if o["id"] == gid:
            o["cancelledAt"] = "2026-12-07T10:00:00Z"
    return {
        "orderCancel": {
            "job": {"id": f"gid://shopify/Job/{shop.next_id()}", "done": False},
            "orderCancelUserErrors": [],
        }
    }


def order_cancelled(shop, v: dict) -> dict:
    gid = v.get("id") or ""
    if not _known(shop, gid):
        return {"order": None}
    return {"order": {"id": gid, "cancelledAt": "2026-12-07T10:00:00Z" if gid in shop.cancelled else None}}
