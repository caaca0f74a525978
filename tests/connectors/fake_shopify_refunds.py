"""The fake Shopify's refund operations (tests/connectors/fake_shopify.py registers them): the order's refundable
line items and refunds (``OrderRefundable``), ``order.suggestedRefund`` (``SuggestedRefund``) and ``refundCreate``
(``RefundCreate``), with the documented input shapes and their userErrors. Each takes the shop (its state, under
its lock) and the operation's variables."""

from __future__ import annotations


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
    """``order.suggestedRefund(refundLineItems:)``: one suggested transaction on the sale, 10.00 a unit."""
    gid = v.get("id") or ""
    if gid not in shop.line_items:
        return {"order": None}
    sale = shop.sales[gid]
    amount = 10.0 * sum(int(i.get("quantity") or 0) for i in v.get("items") or [])
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
    """``refundCreate`` as documented: RefundInput's ``orderId`` and ``refundLineItems`` (``lineItemId``,
    ``quantity``, ``restockType`` one of NO_RESTOCK, CANCEL, RETURN); an unknown order or line item, or more than
    is refundable, is a userError."""
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
    sale = shop.sales[gid]
    for n, t in enumerate(data.get("transactions") or []):
        wrong = t.get("kind") != "REFUND" or t.get("parentId") != sale["id"] or t.get("orderId") != gid
        if wrong or float(t.get("amount") or 0) > sale["amount"] - sale["refunded"] + 0.001:
            return refused(
                ["transactions", str(n)], "Refund amount must be less than or equal to the refundable amount"
            )
    for t in data.get("transactions") or []:
        sale["refunded"] += float(t["amount"])
    for entry in data.get("refundLineItems") or []:
        items[entry["lineItemId"]]["refundableQuantity"] -= int(entry["quantity"])
    refund = {
        "id": f"gid://shopify/Refund/{shop.next_id()}",
        **{k: data.get(k) for k in ("note", "notify", "refundLineItems")},
    }
    shop.refunds.setdefault(gid, []).append(refund)
    return {"refundCreate": {"refund": {"id": refund["id"]}, "userErrors": []}}
