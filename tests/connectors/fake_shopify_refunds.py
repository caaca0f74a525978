"""The fake Shopify's refund operations (tests/connectors/fake_shopify.py registers them): the order's refundable
line items and refunds (``OrderRefundable``), ``order.suggestedRefund`` (``SuggestedRefund``) and ``refundCreate``
(``RefundCreate``), with the documented input shapes and their userErrors. Each takes the shop (its state, under
its lock) and the operation's variables. A variable that does not fit its GraphQL input type (a field
``ShippingRefundInput`` does not define, a ``fullRefund`` that is not a Boolean, an ``amount`` that is not Money)
raises ``InvalidVariable``: the server answers it as Shopify does, a top-level ``errors`` entry, nothing done."""

from __future__ import annotations

SHIPPING_REFUND_FIELDS = {"amount", "fullRefund"}  # ShippingRefundInput (RefundInput.shipping)


class InvalidVariable(ValueError):
    pass


def _shipping_asked(shop, gid: str, shipping) -> float:
    """What ``RefundInput.shipping`` (ShippingRefundInput: ``amount`` Money, ``fullRefund`` Boolean) refunds of
    the order's shipping: ``amount`` when given (it overrides fullRefund), else all that is left with
    ``fullRefund: true``, else nothing."""
    if shipping is None:
        return 0.0
    if not isinstance(shipping, dict):
        raise InvalidVariable("Variable $input of type RefundInput! was provided invalid value for shipping")
    unknown = sorted(set(shipping) - SHIPPING_REFUND_FIELDS)
    if unknown:
        raise InvalidVariable(
            f"Variable $input of type RefundInput! was provided invalid value for shipping.{unknown[0]} "
            "(Field is not defined on ShippingRefundInput)"
        )
    if "fullRefund" in shipping and not isinstance(shipping["fullRefund"], bool):
        raise InvalidVariable("Variable $input of type RefundInput! was provided invalid value for shipping.fullRefund")
    left = shop.shipping[gid]["amount"] - shop.shipping[gid]["refunded"]
    if shipping.get("amount") is not None:
        try:
            return float(str(shipping["amount"]))
        except ValueError:
            raise InvalidVariable(
                "Variable $input of type RefundInput! was provided invalid value for shipping.amount"
            ) from None
    return left if shipping.get("fullRefund") else 0.0


def order_refundable(shop, v: dict) -> dict:
    gid = v.get("id") or ""
    if gid not in shop.line_items:
        return {"order": None}
    return {
        "order": {
            "id": gid,
            "lineItems": {"nodes": [dict(li) for li in shop.line_items[gid]]},
            "refunds": [{"id": r["id"], "note": r["note"]} for r in shop.refunds.get(gid, [])],
        }
    }


def suggested_refund(shop, v: dict) -> dict:
    """``order.suggestedRefund(refundLineItems:, refundShipping:)``: one suggested transaction on the sale, 10.00 a
    unit, and the shipping left to refund when ``refundShipping`` is true."""
    gid = v.get("id") or ""
    if gid not in shop.line_items:
        return {"order": None}
    sale = shop.sales[gid]
    amount = 10.0 * sum(int(i.get("quantity") or 0) for i in v.get("items") or [])
    if v.get("shipping") is not None and not isinstance(v.get("shipping"), bool):
        raise InvalidVariable("Variable $shipping of type Boolean was provided invalid value")
    if v.get("shipping"):
        amount += shop.shipping[gid]["amount"] - shop.shipping[gid]["refunded"]
    return {
        "order": {
            "suggestedRefund": {
                "suggestedTransactions": [
                    {
                        "gateway": sale["gateway"],
                        "parentTransaction": {"id": sale["id"]},
                        "amountSet": {"shopMoney": {"amount": f"{amount:.2f}"}},
                    }
                ]
            }
        }
    }


def refund_create(shop, v: dict) -> dict:
    """``refundCreate`` as documented: RefundInput's ``orderId``, ``refundLineItems`` (``lineItemId``,
    ``quantity``, ``restockType`` one of NO_RESTOCK, CANCEL, RETURN) and ``shipping`` (ShippingRefundInput); an
    unknown order or line item, more than is refundable, or more shipping than is left is a userError."""
    data = v.get("input") or {}
    gid = data.get("orderId") or ""

    def refused(field, message):
        return {"refundCreate": {"refund": None, "userErrors": [{"field": field, "message": message}]}}

    if gid not in shop.line_items:
        return refused(["orderId"], "Order does not exist")
    items = {li["id"]: li for li in shop.line_items[gid]}
    for n, entry in enumerate(data.get("refundLineItems") or []):
        item = items.get(entry.get("lineItemId"))
        if item is None:
            return refused(["refundLineItems", str(n), "lineItemId"], "Line item does not exist")
        if entry.get("restockType") not in ("NO_RESTOCK", "CANCEL", "RETURN"):
            return refused(["refundLineItems", str(n), "restockType"], "Restock type is invalid")
        if not 0 < int(entry.get("quantity") or 0) <= item["refundableQuantity"]:
            return refused(
                ["refundLineItems", str(n), "quantity"], "Quantity cannot refund more items than were purchased"
            )
    shipping = _shipping_asked(shop, gid, data.get("shipping"))
    if shipping < 0 or shipping > shop.shipping[gid]["amount"] - shop.shipping[gid]["refunded"] + 0.001:
        return refused(
            ["shipping", "amount"], "Shipping refund amount must be less than or equal to the refundable amount"
        )
    sale = shop.sales[gid]
    for n, t in enumerate(data.get("transactions") or []):
        wrong = t.get("kind") != "REFUND" or t.get("parentId") != sale["id"] or t.get("orderId") != gid
        if wrong or float(t.get("amount") or 0) > sale["amount"] - sale["refunded"] + 0.001:
            return refused(
                ["transactions", str(n)], "Refund amount must be less than or equal to the refundable amount"
            )
    for t in data.get("transactions") or []:
        sale["refunded"] += float(t["amount"])
    shop.shipping[gid]["refunded"] += shipping
    for entry in data.get("refundLineItems") or []:
        items[entry["lineItemId"]]["refundableQuantity"] -= int(entry["quantity"])
    refund = {
        "id": f"gid://shopify/Refund/{shop.next_id()}",
        **{k: data.get(k) for k in ("note", "notify", "refundLineItems")},
        "shipping": shipping,
    }
    shop.refunds.setdefault(gid, []).append(refund)
    return {"refundCreate": {"refund": {"id": refund["id"]}, "userErrors": []}}
