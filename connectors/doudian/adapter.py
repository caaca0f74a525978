"""抖店's verbs (Douyin Shop open platform, op.jinritemai.com; field names from its API pages and the official
Go SDK, doudian-sdk-golang 1.1.0, ``api/<method>/request|response``):

- pull: ``order.searchList`` (https://op.jinritemai.com/docs/api-docs/15/1342) with ``update_time_start``,
  ``update_time_end`` (Unix seconds), ``order_by=update_time``, ``order_asc=true``, ``page`` (from 0) and
  ``size`` (100 at most); the answer's ``data.shop_order_list`` and ``data.total``. A pull starts
  ``OVERLAP_SECONDS`` before the cursor (an order the platform indexes late is not missed; one already stored
  is applied again as an update that changes nothing) unless the last good pull ran well after the cursor
  (``_pull_start``), the ids stored at the cursor's very second are skipped, and a full page goes on from its
  newest second (or with the next page when it did not move). The first pull reaches back ``FIRST_PULL_DAYS``;
- confirm (发货): the order's 子订单 and the waybills it already has are read with ``order.orderDetail``
  (``shop_order_id``; ``data.shop_order_detail.sku_order_list`` / ``logistics_info[].tracking_no``). A waybill
  already there is not sent again (a retry after a lost answer adopts it). One parcel covering the whole order
  is ``order.logisticsAdd`` (``order_id``, ``company_code``, ``logistics_code``); a partial shipment or several
  parcels is ``order.logisticsAddMultiPack`` (拆单/多包裹发货: ``order_id``, ``pack_list[]`` of
  ``{shipped_order_info: [{shipped_order_id, shipped_num}], logistics_code, company_code}``, and a
  ``request_id`` the platform answers idempotently). The shipment's units are spread over its parcels in line
  order. ``company_code`` comes from ``COMPANY_CODES`` (the carrier's Kdniao shipper code or its own code ->
  the platform's code from ``order.logisticsCompanyList``);
- relabel (修改发货物流): a waybill the platform has, replaced here by a new one, is changed with
  ``order.logisticsEdit`` (``order_id``, ``company_code``, ``logistics_code``: only an order shipped whole with
  one waybill, status 3) or ``order.logisticsEditByPack`` (``order_id``, ``pack_id`` = the package's
  ``delivery_id`` in ``logistics_info``, ``company_code``, ``logistics_code``: a 多包裹 or partial shipment). A
  retry after a lost answer finds the new waybill there and the old one gone: nothing is sent twice. A void
  (no waybill left) or a changed number of parcels has no API: the row is dead with a message for the person;
- cancel: the open platform documents no call by which a seller cancels a paid order (the buyer applies for a
  refund, 售后 仅退款, and the seller agrees in the back office). ``order.orderDetail`` is read: an order 抖店
  shows 已取消 (status 4) counts as told; any other is dead with a message telling the person to cancel it in
  the 抖店 back office (then Retry finds it cancelled). Cancelled lines of a partial cancellation likewise;
- stock: SKU (商家编码) -> ``product_id``/``sku_id`` by ``sku.detail`` (``code``; kept in ``RemoteItem``), then
  ``sku.syncStockBatch`` per product (``product_id``, ``incremental=false``, ``sku_sync_list[]`` of
  ``{sku_id, sku_type: 0, stock_num}``, at most ``BATCH`` a call; the platform applies a call all or nothing);
- reconciliation: which of our open orders the platform shows shipped (``order.orderDetail``, status 3, 5).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from ..base import Adapter, Confirmation, PersonMustAct, PullPage, Rejected, StockPushResult
from ..models import ChannelConnection, RemoteItem
from ..remote_items import remote_items
from .client import DoudianClient, split_secret

PAGE_SIZE = 100
OVERLAP_SECONDS = 60
PULL_SLACK_SECONDS = 60  # how long one pull may take (its pages) before its end is counted as its asking time
FIRST_PULL_DAYS = 7
BATCH = 50
RECONCILE_MAX = 100
SHIPPED_STATUSES = {3: "已发货", 5: "已完成"}
STAMP = "%Y-%m-%dT%H:%M:%SZ"
NOT_FOUND = {40004, 50002}  # 非法的参数 / 业务处理失败: the SKU code is not in the shop
CANCELLED = 4  # 已取消

# What the person does where the open platform has no API (connectors.base.PersonMustAct: translated on the page).
NO_CANCEL = gettext_noop(
    "抖店 has no API for a seller to cancel a paid order: cancel it in the 抖店 back office (订单管理), or agree to "
    "the buyer's refund request (售后), then press Retry here."
)
NO_LINES_CANCEL = gettext_noop(
    "抖店 has no API for a seller to refund part of an order: refund the cancelled items in the 抖店 back office "
    "(售后), then dismiss this row."
)
NO_VOID = gettext_noop(
    "抖店 cannot take a waybill back once the order is shipped: the label was voided here, so change the "
    "shipment in the 抖店 back office (订单管理 › 修改物流), then dismiss this row."
)
NO_PARCEL_CHANGE = gettext_noop(
    "抖店 can change a package's waybill but not the number of packages: correct the shipment in the 抖店 back "
    "office (订单管理 › 修改物流), then dismiss this row."
)

# Our carriers (Carrier.shipper_code, the Kdniao code, else Carrier.code) -> 抖店's company_code
# (order.logisticsCompanyList).
COMPANY_CODES = {
    "SF": "shunfeng",  # 顺丰
    "ZTO": "zhongtong",  # 中通
    "YTO": "yuantong",  # 圆通
    "STO": "shentong",  # 申通
    "YD": "yunda",  # 韵达 (Kdniao's code)
    "YUNDA": "yunda",
    "JTSD": "jtexpress",  # 极兔
    "JD": "jd",  # 京东
    "EMS": "ems",
}


def client_for(connection) -> DoudianClient:
    credentials = connection.credentials or {}

    def keep(token: dict) -> None:
        with transaction.atomic():
            current = ChannelConnection.objects.select_for_update().get(pk=connection.pk)
            kept = dict(current.credentials or {})
            kept["doudian_token"] = token
            ChannelConnection.objects.filter(pk=connection.pk).update(credentials=kept)
        connection.credentials = {**(connection.credentials or {}), "doudian_token": token}

    return DoudianClient(
        base_url=connection.base_url,
        secret=str(credentials.get("access_token", "")),
        token=credentials.get("doudian_token"),
        on_token=keep,
    )


def stamp(seconds: int) -> str:
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime(STAMP)


def seconds_of(text: str) -> int | None:
    try:
        return int(datetime.strptime(text, STAMP).replace(tzinfo=UTC).timestamp())
    except (TypeError, ValueError):
        return None


def company_code(notice: dict) -> str:
    from logistics.models import Carrier

    code = str(notice.get("carrier_code") or "")
    shipper = Carrier.objects.filter(code=code).values_list("shipper_code", flat=True).first() or ""
    for candidate in (shipper, code):
        found = COMPANY_CODES.get(candidate.strip().upper())
        if found:
            return found
    known = ", ".join(sorted(COMPANY_CODES))
    raise Rejected(
        f"抖店 needs a logistics company code; the carrier {notice.get('carrier') or code!r} maps to none ({known})."
    )


def allocate(notice: dict, sku_orders: list[dict], parcels: int) -> list[dict[str, int]]:
    """The shipment's units by 子订单 (``{sku order id: units}``), one dict per parcel: the units in line order,
    spread over the parcels as evenly as they go."""
    room = []  # [sku, sku order id, units left]
    for item in sku_orders:
        if isinstance(item, dict) and item.get("order_id"):
            sku = str(item.get("code") or item.get("out_sku_id") or "")
            room.append([sku, str(item["order_id"]), int(item.get("item_num") or 0)])
    units: list[str] = []
    for line in notice.get("lines") or []:
        wanted = int(line.get("quantity") or 0)
        for slot in room:
            if slot[0] == line.get("sku") and wanted:
                take = min(wanted, slot[2])
                units += [slot[1]] * take
                slot[2] -= take
                wanted -= take
        if wanted:
            raise Rejected(f"抖店's order has no 子订单 left for {wanted} × {line.get('sku')}.")
    if len(units) < parcels:
        raise Rejected(f"抖店 needs at least one item in each parcel: {parcels} parcels for {len(units)} items.")
    packs: list[dict[str, int]] = []
    start = 0
    for i in range(parcels):
        end = start + len(units) // parcels + (1 if i < len(units) % parcels else 0)
        pack: dict[str, int] = {}
        for sku_order in units[start:end]:
            pack[sku_order] = pack.get(sku_order, 0) + 1
        packs.append(pack)
        start = end
    return packs


def _pull_start(connection, at: int | None, now: int) -> int:
    """Where a pull starts: ``OVERLAP_SECONDS`` before the cursor, for orders 抖店 indexes late; but right at the
    cursor once the last good pull ran well after it (``OVERLAP_SECONDS`` + ``PULL_SLACK_SECONDS`` later: what was
    updated up to the cursor had been indexed by then and was pulled), so a quiet shop's last orders are not
    stored again on every pull. The first pull reaches back ``FIRST_PULL_DAYS``."""
    if at is None:
        return now - FIRST_PULL_DAYS * 86400
    last_ok = connection.last_pull_ok_at
    if last_ok is not None and int(last_ok.timestamp()) - PULL_SLACK_SECONDS - OVERLAP_SECONDS >= at:
        return at
    return at - OVERLAP_SECONDS


class DoudianAdapter(Adapter):
    platform = "doudian"

    def check_secret(self, secret: str) -> str:
        app_key, app_secret, shop_id = split_secret(secret)
        if not (app_key and app_secret and shop_id):
            return gettext("For 抖店, give the app key, app secret and shop id as app_key:app_secret:shop_id .")
        if not (app_key.isdigit() and shop_id.isdigit()):
            return gettext("For 抖店, the app key and the shop id are numbers.")
        return ""

    # ---- pull ---------------------------------------------------------------------------------------

    def pull_orders(self, connection, *, cursor: str, page: str = "") -> PullPage:
        now = int(timezone.now().timestamp())
        if page:
            start_text, _sep, number_text = page.partition("|")
            start, number = int(start_text), int(number_text or 0)
        else:
            at = seconds_of(cursor) if cursor else None
            start = _pull_start(connection, at, now)
            number = 0
        params = {
            "update_time_start": start,
            "update_time_end": now,
            "order_by": "update_time",
            "order_asc": True,
            "page": number,
            "size": PAGE_SIZE,
        }
        data = client_for(connection).call("order.searchList", params)
        orders = [o for o in data.get("shop_order_list") or [] if isinstance(o, dict)]
        stamps = []
        for order in orders:
            try:
                updated = stamp(int(order.get("update_time")))
            except (TypeError, ValueError):
                updated = cursor  # no usable time: stored, the cursor does not move for it
            stamps.append((str(order.get("order_id") or ""), updated))
        newest = max([cursor or "", *(s for _i, s in stamps)])
        total = int(data.get("total") or 0)
        has_next = len(orders) >= PAGE_SIZE and total > (number + 1) * PAGE_SIZE
        next_page = ""
        if has_next:
            moved = seconds_of(newest)
            next_page = f"{moved}|0" if moved is not None and moved > start else f"{start}|{number + 1}"
        return PullPage(orders=orders, cursor=newest, has_next=has_next, next_page=next_page, stamps=stamps)

    # ---- confirm ------------------------------------------------------------------------------------

    def confirm_shipment(self, connection, *, notice: dict, remote) -> Confirmation:
        order_id = str(notice.get("order_external_id") or "")
        if not order_id:
            raise Rejected("The order has no 抖店 order id.")
        numbers = [n for n in notice.get("tracking_numbers") or [] if n]
        sent_before = list(remote.tracking_numbers) if remote is not None else []
        client = client_for(connection)
        detail = client.call("order.orderDetail", {"shop_order_id": order_id}).get("shop_order_detail") or {}
        there = {str(t.get("tracking_no")) for t in detail.get("logistics_info") or [] if isinstance(t, dict)}
        gone = [n for n in sent_before if n not in numbers and n in there]
        if gone:
            return self._relabel(client, notice, detail, gone, [n for n in numbers if n not in there])
        if not numbers:
            return Confirmation(order_id if remote else "", "unchanged")
        missing = [n for n in numbers if n not in there]
        if not missing:
            return Confirmation(order_id, "adopted" if remote is None else "unchanged")
        company = company_code(notice)
        sku_orders = [s for s in detail.get("sku_order_list") or [] if isinstance(s, dict)]
        packs = allocate(notice, sku_orders, len(numbers))
        whole = {str(s.get("order_id")): int(s.get("item_num") or 0) for s in sku_orders if s.get("order_id")}
        if len(numbers) == 1 and not there and packs[0] == whole:
            client.call(
                "order.logisticsAdd", {"order_id": order_id, "company_code": company, "logistics_code": numbers[0]}
            )
        else:
            pack_list = [
                {
                    "shipped_order_info": [{"shipped_order_id": k, "shipped_num": v} for k, v in sorted(pack.items())],
                    "logistics_code": number,
                    "company_code": company,
                }
                for number, pack in zip(numbers, packs, strict=True)
                if number in missing
            ]
            request_id = "oms-{}-{}".format(
                notice.get("shipment"), hashlib.sha256(",".join(missing).encode()).hexdigest()[:16]
            )
            client.call(
                "order.logisticsAddMultiPack", {"order_id": order_id, "pack_list": pack_list, "request_id": request_id}
            )
        return Confirmation(order_id, "created" if remote is None else "updated")

    def _relabel(self, client: DoudianClient, notice: dict, detail: dict, gone: list[str], new: list[str]):
        """Each waybill replaced here changed on the platform: ``order.logisticsEdit`` for an order shipped whole
        with one waybill, else ``order.logisticsEditByPack`` on the package that holds it."""
        order_id = str(notice.get("order_external_id") or "")
        if not new:
            raise PersonMustAct(NO_VOID)
        if len(new) != len(gone):
            raise PersonMustAct(NO_PARCEL_CHANGE)
        company = company_code(notice)
        packs = [t for t in detail.get("logistics_info") or [] if isinstance(t, dict)]
        for old, number in zip(gone, new, strict=True):
            if len(packs) == 1 and detail.get("order_status") == 3:
                client.call(
                    "order.logisticsEdit", {"order_id": order_id, "company_code": company, "logistics_code": number}
                )
                continue
            pack = next(t for t in packs if str(t.get("tracking_no")) == old)
            client.call(
                "order.logisticsEditByPack",
                {
                    "order_id": order_id,
                    "pack_id": str(pack.get("delivery_id") or ""),
                    "company_code": company,
                    "logistics_code": number,
                },
            )
        return Confirmation(order_id, "updated")

    # ---- cancel -------------------------------------------------------------------------------------

    def _cancelled_there(self, connection, notice: dict) -> bool:
        order_id = str(notice.get("order_external_id") or "")
        if not order_id:
            raise Rejected("The order has no 抖店 order id.")
        detail = client_for(connection).call("order.orderDetail", {"shop_order_id": order_id})
        return (detail.get("shop_order_detail") or {}).get("order_status") == CANCELLED

    def cancel_notice(self, connection, *, notice: dict) -> None:
        if not self._cancelled_there(connection, notice):
            raise PersonMustAct(NO_CANCEL)

    def lines_cancel_notice(self, connection, *, notice: dict) -> None:
        if not self._cancelled_there(connection, notice):
            raise PersonMustAct(NO_LINES_CANCEL)

    # ---- stock --------------------------------------------------------------------------------------

    def push_stock(self, connection, *, figures: list[dict]) -> StockPushResult:
        client = client_for(connection)
        items = self._items(connection, client, [f["sku"] for f in figures])
        by_product: dict[str, list[tuple[str, int, int]]] = {}
        for f in figures:
            ref = items.get(f["sku"])
            if ref:
                product, _sep, sku_id = ref.partition("/")
                by_product.setdefault(product, []).append((f["sku"], int(sku_id), max(0, int(f["quantity"]))))
        pushed, errors = 0, []
        for product, rows in sorted(by_product.items()):
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                params = {
                    "product_id": int(product),
                    "incremental": False,
                    "sku_sync_list": [{"sku_id": sid, "sku_type": 0, "stock_num": n} for _s, sid, n in chunk],
                }
                try:
                    client.call("sku.syncStockBatch", params)
                except Rejected as exc:
                    skus = [s for s, _i, _n in chunk]
                    errors.append(f"{', '.join(skus)}: {exc}")
                    RemoteItem.objects.filter(connection=connection, sku__in=skus).delete()  # looked up again
                    continue
                pushed += len(chunk)
        unknown = sorted(f["sku"] for f in figures if not items.get(f["sku"]))
        return StockPushResult(pushed=pushed, unknown_skus=unknown, errors=errors)

    def _items(self, connection, client: DoudianClient, skus: list[str]) -> dict[str, str]:
        """SKU -> ``<product_id>/<sku_id>`` by ``sku.detail``, one SKU a call (remote_items: cached, a SKU the shop
        lacks asked again after a day)."""

        def lookup(chunk: list[str]) -> dict[str, str]:
            [sku] = chunk
            try:
                data = client.call("sku.detail", {"code": sku})
            except Rejected as exc:
                if getattr(exc, "code", None) not in NOT_FOUND:
                    raise
                return {}
            return {sku: f"{data['product_id']}/{data['id']}"} if data.get("id") and data.get("product_id") else {}

        return remote_items(connection, skus, lookup, batch=1)

    # ---- reconciliation -----------------------------------------------------------------------------

    def shipped_remotely(self, connection, *, external_ids: list[str]) -> dict[str, str]:
        """Of these orders (at most ``RECONCILE_MAX`` a run), those 抖店 shows shipped: {id: status}."""
        client = client_for(connection)
        done: dict[str, str] = {}
        for order_id in sorted({str(i) for i in external_ids if str(i).isdigit()})[:RECONCILE_MAX]:
            try:
                detail = client.call("order.orderDetail", {"shop_order_id": order_id}).get("shop_order_detail") or {}
            except Rejected:
                continue
            status = detail.get("order_status")
            if status in SHIPPED_STATUSES:
                done[order_id] = str(detail.get("order_status_desc") or SHIPPED_STATUSES[status])
        return done
