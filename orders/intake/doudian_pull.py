"""Orders pulled from 抖店 (Douyin Shop, ``order.searchList``) to canonical orders.

A pulled order is stored raw in the order inbox as source ``pull:doudian`` (one message per shop order, as the
platform sent it in ``data.shop_order_list[]``) and applied like an update webhook: created when new, else the
channel's update of the order (a replay changes nothing). Nothing is signed (we fetched it ourselves).

The fields, from the platform's ``order.searchList`` answer (https://op.jinritemai.com/docs/api-docs/15/1342;
the official Go SDK's ``order_searchList_response.go``): ``order_id`` (店铺订单号, our external id),
``order_status`` (1 待支付, 105 已支付, 2 备货中/待发货, 101 部分发货, 3 已发货, 4 已取消, 5 已完成) and
``order_status_desc``, ``cancel_reason``, ``create_time``/``update_time`` (Unix seconds), ``buyer_words``
(买家留言), ``seller_words`` (商家备注), amounts in fen (分): ``order_amount``, ``pay_amount``, ``post_amount``,
``promotion_amount``, ``tax_amount``; the receiver ``post_receiver``, ``post_tel`` and ``post_addr``
(``province``/``city``/``town``/``street`` each ``{id, name}``, and ``detail``) — plain only where the app
may read them; otherwise the masked ``mask_post_receiver``/``mask_post_tel``/``mask_post_addr`` are used (the
e-waybill decrypts the real ones); ``sku_order_list[]`` (子订单): ``order_id``, ``code`` (商家编码, our SKU;
``out_sku_id`` when empty), ``product_name``, ``item_num``, ``origin_amount`` (unit price, 分), ``sum_amount``,
``after_sale_info.refund_status`` (1 待退款, 3 退款成功).

What the OMS does with the status: only 2 (待发货) is routed as it is. 4 (已取消) and an order whose every 子订单
is refunded come in cancelled (``cancelled_reason``); 1 (待支付) is held for payment; 105 (已支付, not yet
released for shipping), 101/3/5 (shipped outside the OMS) and a 子订单 with a refund pending (退款中) are held
(manual) with the platform's words, so a person decides. Amounts are whole fen, turned into yuan exactly.
The buyer's message and the seller's memo go into the order's note (CanonicalOrder has no fields for them).
"""

from datetime import UTC, datetime
from decimal import Decimal

from ..status import HoldReason
from .bodies import json_body
from .bodies import pulled_signature as verify_signature  # noqa: F401 (the adapter's interface)
from .bodies import pulled_topic as topic  # noqa: F401
from .canonical import CanonicalAddress, CanonicalLine, CanonicalOrder, FieldError, OrderRejected, clean_text

ROUTED = 2
CANCELLED = 4
UNPAID = 1
HELD = {105: "已支付，未到发货时间", 101: "部分发货（在 OMS 之外）", 3: "已发货（在 OMS 之外）", 5: "已完成"}
REFUND_PENDING = 1
REFUNDED = 3


def parse(body: bytes) -> CanonicalOrder:
    data = json_body(body)
    return parse_order(data)


def _s(value) -> str:
    return clean_text(value)


def fen(value, field: str) -> Decimal:
    """Whole fen (an integer, or a string of digits) -> yuan, exactly; anything else is a FieldError."""
    if isinstance(value, bool) or value is None or value == "":
        raise OrderRejected([FieldError(field, "is required (whole fen).")])
    if isinstance(value, int):
        amount = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        amount = int(value.strip())
    else:
        raise OrderRejected([FieldError(field, f"must be whole fen (分), not {str(value)[:30]!r}.")])
    if amount < 0:
        raise OrderRejected([FieldError(field, f"must not be negative ({amount}).")])
    return Decimal(amount) / 100


def _name(part) -> str:
    return _s(part.get("name")) if isinstance(part, dict) else _s(part)


def _when(value, field: str):
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        raise OrderRejected([FieldError(field, f"must be Unix seconds, not {str(value)[:30]!r}.")]) from None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _lines(raw) -> tuple[list[CanonicalLine], list[FieldError], list[dict]]:
    if not isinstance(raw, list) or not raw:
        return [], [FieldError("sku_order_list", "must list at least one 子订单.")], []
    lines, errors, refunds = [], [], []
    for i, item in enumerate(raw):
        where = f"sku_order_list[{i}]"
        if not isinstance(item, dict):
            errors.append(FieldError(where, "must be an object."))
            continue
        sku = _s(item.get("code")) or _s(item.get("out_sku_id"))
        if not sku:
            errors.append(FieldError(f"{where}.code", "is required (商家编码: the SKU)."))
        quantity = item.get("item_num")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            errors.append(FieldError(f"{where}.item_num", f"must be a whole number of at least 1, not {quantity!r}."))
        try:
            price = fen(item.get("origin_amount"), f"{where}.origin_amount")
        except OrderRejected as exc:
            errors.extend(exc.errors)
            price = Decimal("0")
        after = item.get("after_sale_info") if isinstance(item.get("after_sale_info"), dict) else {}
        refunds.append({"sku": sku, "refund_status": after.get("refund_status")})
        if sku and isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 1:
            lines.append(CanonicalLine(sku=sku, quantity=quantity, unit_price=price, name=_s(item.get("product_name"))))
    return lines, errors, refunds


def parse_order(data) -> CanonicalOrder:
    if not isinstance(data, dict):
        raise OrderRejected([FieldError("order", "must be a JSON object.")])
    errors: list[FieldError] = []
    if not _s(data.get("order_id")):
        errors.append(FieldError("order_id", "is required."))
    lines, line_errors, refunds = _lines(data.get("sku_order_list"))
    errors.extend(line_errors)
    amounts = {}
    for key in ("order_amount", "post_amount", "promotion_amount", "tax_amount"):
        if key != "order_amount" and data.get(key) in (None, ""):
            amounts[key] = None
            continue
        try:
            amounts[key] = fen(data.get(key), key)
        except OrderRejected as exc:
            errors.extend(exc.errors)
    placed_at = None
    try:
        placed_at = _when(data.get("create_time"), "create_time")
    except OrderRejected as exc:
        errors.extend(exc.errors)
    status = data.get("order_status")
    if isinstance(status, bool) or not isinstance(status, int):
        errors.append(FieldError("order_status", f"must be the platform's status number, not {status!r}."))
    if errors:
        raise OrderRejected(errors)

    plain = isinstance(data.get("post_addr"), dict) and bool(_s(data.get("post_receiver")))
    addr = data.get("post_addr") if plain else data.get("mask_post_addr")
    addr = addr if isinstance(addr, dict) else {}
    name = _s(data.get("post_receiver")) if plain else _s(data.get("mask_post_receiver"))
    phone = _s(data.get("post_tel")) if plain else _s(data.get("mask_post_tel"))
    street = _name(addr.get("street"))
    detail = _s(addr.get("detail"))
    order_id = _s(data.get("order_id"))
    buyer, memo = _s(data.get("buyer_words")), _s(data.get("seller_words"))
    note = " ".join(
        p
        for p in (
            f"抖店 {order_id}",
            f"买家留言: {buyer}" if buyer else "",
            f"商家备注: {memo}" if memo else "",
            "" if plain else "收件人信息已加密（面单取号时解密）",
        )
        if p
    )
    order = CanonicalOrder(
        external_id=order_id,
        ship_to=CanonicalAddress(
            name=name,
            phone=phone,
            country="CN",
            province=_name(addr.get("province")),
            city=_name(addr.get("city")),
            district=_name(addr.get("town")),  # 抖店's "town" is the 区/县
            address1=" ".join(p for p in ("" if detail.startswith(street) else street, detail) if p),
        ),
        lines=lines,
        customer_name=name,
        customer_phone=phone,
        currency="CNY",
        total=amounts["order_amount"],
        shipping=amounts.get("post_amount"),
        tax=amounts.get("tax_amount"),
        discount=amounts.get("promotion_amount"),
        channel_order_name=order_id,
        placed_at=placed_at,
        note=note,
    )
    words = _s(data.get("order_status_desc"))
    if status == CANCELLED:
        order.cancelled_reason = " ".join(p for p in ("已取消", _s(data.get("cancel_reason"))) if p)
    elif refunds and all(r["refund_status"] == REFUNDED for r in refunds):
        order.cancelled_reason = "已退款"
    elif status == UNPAID:
        order.holds.append((HoldReason.PAYMENT, f"抖店 status {status}: {words or '待支付'}"))
    elif status in HELD:
        order.holds.append((HoldReason.MANUAL, f"抖店 status {status}: {words or HELD[status]}"))
    elif status != ROUTED:
        order.holds.append((HoldReason.MANUAL, f"抖店 status {status}: {words or 'unknown'}"))
    if not order.cancelled_reason:
        pending = sorted({r["sku"] for r in refunds if r["refund_status"] == REFUND_PENDING})
        if pending:
            order.holds.append((HoldReason.MANUAL, f"抖店 退款中 (refund pending): {', '.join(pending)}"))
    return order
