"""A small 抖店 (Douyin Shop open platform) on loopback, on tests/logistics/fake_vendor.py's FakeVendor: the
calls the connector makes, with the platform's documented request and answer shapes (op.jinritemai.com; the
official Go SDK doudian-sdk-golang 1.1.0) and the ways it fails.

Every call is ``POST /<method path>?app_key=&method=&timestamp=&v=2&sign_method=&sign=[&access_token=]`` with
the ``param_json`` as the body; the signature is CHECKED as the platform does (HMAC-SHA256 with the app secret,
or MD5, over ``secret + "app_key"… "v2" + secret``): a wrong one is code 40003 ``isv.signature-invalid``, an
unknown app key 40003 ``isv.app-id-invalid``, a token that is not the current one 40003
``isv.access-token-expired`` (``expire_token()`` plays its expiry). Answers are HTTP 200 with ``code`` (10000
success), ``msg``, ``sub_code``, ``sub_msg``, ``data``, ``log_id``.

- ``token.create`` (``grant_type=authorization_self``, ``shop_id``), ``token.refresh`` (``refresh_token``);
- ``order.searchList`` (``update_time_start``/``_end``, ``order_by``, ``order_asc``, ``page`` from 0, ``size``;
  ``data.shop_order_list``, ``total``, ``page``, ``size``), ``order.orderDetail`` (``shop_order_id``;
  ``data.shop_order_detail``);
- ``order.logisticsAdd`` (the whole order, one waybill), ``order.logisticsAddMultiPack`` (``pack_list`` with
  ``shipped_order_info``; ``request_id`` idempotent): a 子订单 shipped past its ``item_num``, or an order that is
  not awaiting shipment, is 50002 ``isv.business-failed`` (the platform's business-error code; the sub_msg
  here is this fake's wording);
- ``order.logisticsEdit`` (修改发货物流: ``order_id``, ``company_code``, ``logistics_code``; only an order shipped
  whole, status 3, with one package: else 50002 ``isv.business-failed:10007`` 此订单状态不允许重新发货 or
  ``isv.business-failed:70011`` 包裹单号缺失, and 40004 ``isv.parameter-invalid:60083`` without a company code, as
  the platform's error table lists them), ``order.logisticsEditByPack`` (``pack_id`` = a package's ``delivery_id``);
- ``sku.detail`` (``code``), ``sku.syncStockBatch`` (``product_id``, ``sku_sync_list``: all or nothing).

``limit(method)`` answers the next call of ``method`` with 60000 (触发限流); ``fail(...)`` (FakeVendor) any raw
answer.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from tests.logistics.fake_vendor import FakeVendor, json_answer

APP_KEY = "7123456789012345678"
APP_SECRET = "9f1c2e3d-4b5a-6789-abcd-ef0123456789"
SHOP_ID = "4463798"
TOKEN = f"{APP_KEY}:{APP_SECRET}:{SHOP_ID}"


def sku_order(sub_id: str, code: str, num: int, *, price: int = 8800, refund_status: int = 0, name: str = "") -> dict:
    return {
        "order_id": sub_id,
        "parent_order_id": "",
        "code": code,
        "out_sku_id": "",
        "product_id": 3600000000000000001,
        "sku_id": 1700000000000000001,
        "product_name": name or f"商品 {code}",
        "item_num": num,
        "origin_amount": price,
        "sum_amount": price * num,
        "after_sale_info": {"after_sale_status": 0, "after_sale_type": 0, "refund_status": refund_status},
    }


def shop_order(order_id: str, *, updated: int, status: int = 2, lines=(("SKU-A", 2), ("SKU-B", 1)), **extra) -> dict:
    """A shop order as ``order.searchList`` returns it (amounts in fen)."""
    subs = [sku_order(f"{order_id}{i + 1}", sku, num) for i, (sku, num) in enumerate(lines)]
    goods = sum(s["sum_amount"] for s in subs)
    order = {
        "shop_id": int(SHOP_ID),
        "order_id": order_id,
        "order_status": status,
        "order_status_desc": {1: "待支付", 2: "待发货", 3: "已发货", 4: "已取消", 5: "已完成", 101: "部分发货"}.get(
            status, ""
        ),
        "main_status": status,
        "create_time": updated - 600,
        "update_time": updated,
        "pay_time": updated - 590,
        "cancel_reason": "",
        "buyer_words": "",
        "seller_words": "",
        "order_amount": goods + 1000 - 500,
        "pay_amount": goods + 1000 - 500,
        "post_amount": 1000,
        "promotion_amount": 500,
        "tax_amount": 0,
        "post_receiver": "陈静",
        "post_tel": "13912345678",
        "post_addr": {
            "province": {"name": "上海市", "id": "31"},
            "city": {"name": "上海市", "id": "310100"},
            "town": {"name": "徐汇区", "id": "310104"},
            "street": {"name": "徐家汇街道", "id": "310104013"},
            "detail": "漕溪北路18号",
        },
        "logistics_info": [],
        "sku_order_list": subs,
    }
    order.update(extra)
    return order


def _ok(data) -> tuple[int, dict, bytes]:
    return json_answer(
        200, {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": data, "log_id": "1"}
    )


def error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> dict:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "data": None, "log_id": "1"}


class FakeDoudian(FakeVendor):
    def __init__(self):
        super().__init__()
        self.orders: dict[str, dict] = {}
        self.shipped: dict[str, int] = {}  # 子订单 id -> units shipped
        self.skus: dict[str, dict] = {}  # code -> {id, product_id, code, stock_num}
        self.request_ids: dict[str, dict] = {}
        self.limited: list[str] = []
        self._tokens = itertools.count(1)
        self.access_token = ""
        self.refresh_token = ""
        self.token_lifetime = 604800
        self.made_tokens = 0
        self.state_lock = threading.Lock()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base_url(self) -> str:
        return self.url

    # ---- scripting ----------------------------------------------------------------------------------

    def add_order(self, order: dict) -> dict:
        self.orders[order["order_id"]] = order
        return order

    def add_sku(self, code: str, *, product_id: int, sku_id: int) -> None:
        self.skus[code] = {"id": sku_id, "product_id": product_id, "code": code, "stock_num": None}

    def expire_token(self) -> None:
        self.access_token = "expired-" + self.access_token

    def limit(self, method: str, times: int = 1) -> None:
        self.limited += [method] * times

    def api_calls(self, method: str) -> list[dict]:
        """The param_json of each signed call of ``method`` (``order.logisticsAdd``), in order."""
        path = "/" + method.replace(".", "/")
        return [json.loads(r.body or b"{}") for r in self.requests if urlsplit(r.path).path == path]

    # ---- the platform -------------------------------------------------------------------------------

    def handle(self, request):
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        method = parts.path.strip("/").replace("/", ".")
        body = request.body.decode("utf-8")
        if query.get("app_key") != APP_KEY:
            return json_answer(200, error(40003, "非法的参数", "isv.app-id-invalid", "认证失败，app_key格式不正确"))
        if query.get("method") != method or query.get("v") != "2":
            return json_answer(200, error(40003, "非法的参数", "isv.parameter-invalid", "method/v"))
        pattern = (
            f"{APP_SECRET}app_key{APP_KEY}method{method}param_json{body}timestamp{query.get('timestamp')}v2{APP_SECRET}"
        )
        if query.get("sign_method") == "md5":
            expected = hashlib.md5(pattern.encode()).hexdigest()
        else:
            expected = hmac.new(APP_SECRET.encode(), pattern.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, query.get("sign", "")):
            return json_answer(200, error(40003, "非法的参数", "isv.signature-invalid", "签名校验失败"))
        if abs(int(query.get("timestamp") or 0) - time.time()) > 600:
            return json_answer(200, error(40003, "非法的参数", "isv.timestamp-invalid", "时间戳不合法"))
        try:
            params = json.loads(body or "{}")
        except ValueError:
            return json_answer(200, error(40003, "非法的参数", "isv.parameter-format-invalid", "业务参数json解析失败"))
        with self.state_lock:
            if method in self.limited:
                self.limited.remove(method)
                return json_answer(200, error(60000, "触发限流，请稍后重试", "isv.api-flow-limit", "请求过于频繁"))
            if method == "token.create":
                return self._token_create(params)
            if method == "token.refresh":
                return self._token_refresh(params)
            if not self.access_token or query.get("access_token") != self.access_token:
                return json_answer(200, error(40003, "非法的参数", "isv.access-token-expired", "access_token已过期"))
            route = getattr(self, "_" + method.replace(".", "_"), None)
            if route is None:
                return json_answer(200, error(70000, "接口服务已下线", "isp.api-service-off", "API不存在或API已下线"))
            return route(params)

    def _new_token(self):
        n = next(self._tokens)
        self.made_tokens += 1
        self.access_token, self.refresh_token = f"at-{n}-0123456789abcdef", f"rt-{n}-0123456789abcdef"
        return _ok(
            {
                "access_token": self.access_token,
                "expires_in": self.token_lifetime,
                "refresh_token": self.refresh_token,
                "scope": "SCOPE",
                "shop_id": int(SHOP_ID),
                "shop_name": "测试店铺",
            }
        )

    def _token_create(self, params):
        if params.get("grant_type") != "authorization_self" or str(params.get("shop_id")) != SHOP_ID:
            return json_answer(
                200, error(50001, "平台处理失败", "dop.token-generate-failed:no-authorization", "店铺授权已失效")
            )
        return self._new_token()

    def _token_refresh(self, params):
        if params.get("refresh_token") != self.refresh_token or not self.refresh_token:
            return json_answer(
                200,
                error(50001, "平台处理失败", "dop.token-generate-failed:token-invalid", "生成token失败，token不存在"),
            )
        return self._new_token()

    def _order_searchList(self, params):
        start, end = int(params.get("update_time_start") or 0), int(params.get("update_time_end") or 2**40)
        size, page = int(params.get("size") or 10), int(params.get("page") or 0)
        if size > 100:
            return json_answer(200, error(40004, "非法的参数", "isv.business-failed:size", "size不能超过100"))
        found = sorted(
            (o for o in self.orders.values() if start <= o["update_time"] <= end),
            key=lambda o: (o["update_time"], o["order_id"]),
            reverse=not params.get("order_asc"),
        )
        chunk = found[page * size : (page + 1) * size]
        return _ok({"shop_order_list": json.loads(json.dumps(chunk)), "total": len(found), "page": page, "size": size})

    def _order_orderDetail(self, params):
        order = self.orders.get(str(params.get("shop_order_id")))
        if order is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:10002", "订单不存在"))
        return _ok({"shop_order_detail": json.loads(json.dumps(order))})

    def _ship(self, order, packs):
        """packs: [(waybill, company, {sub id: units})] -> an error answer or None."""
        if order["order_status"] not in (2, 101):
            return json_answer(
                200, error(50002, "业务处理失败", "isv.business-failed:30001", "订单状态不是待发货，不能发货")
            )
        subs = {s["order_id"]: s for s in order["sku_order_list"]}
        wanted: dict[str, int] = {}
        for _n, _c, units in packs:
            for sub, num in units.items():
                wanted[sub] = wanted.get(sub, 0) + num
        for sub, num in wanted.items():
            if sub not in subs or self.shipped.get(sub, 0) + num > subs[sub]["item_num"]:
                return json_answer(
                    200, error(50002, "业务处理失败", "isv.business-failed:30002", f"子订单{sub}发货数量不正确")
                )
        for number, company, units in packs:
            order["logistics_info"].append(
                {
                    "tracking_no": number,
                    "company": company,
                    "company_name": company,
                    "ship_time": int(time.time()),
                    "delivery_id": f"pk{len(order['logistics_info']) + 1}",
                    "product_info": [{"sku_order_id": k, "product_count": v} for k, v in units.items()],
                }
            )
        for sub, num in wanted.items():
            self.shipped[sub] = self.shipped.get(sub, 0) + num
        done = all(self.shipped.get(s, 0) >= subs[s]["item_num"] for s in subs)
        order["order_status"] = 3 if done else 101
        order["order_status_desc"] = "已发货" if done else "部分发货"
        order["update_time"] = int(time.time())
        return None

    def _order_logisticsAdd(self, params):
        order = self.orders.get(str(params.get("order_id")))
        if order is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:10002", "订单不存在"))
        if not params.get("company_code") or not params.get("logistics_code"):
            return json_answer(
                200, error(40002, "缺少必选参数", "isv.missing-parameter", "company_code/logistics_code")
            )
        if order["order_status"] != 2:
            return json_answer(
                200, error(50002, "业务处理失败", "isv.business-failed:30001", "订单状态不是待发货，不能发货")
            )
        units = {s["order_id"]: s["item_num"] - self.shipped.get(s["order_id"], 0) for s in order["sku_order_list"]}
        return self._ship(order, [(params["logistics_code"], params["company_code"], units)]) or _ok({})

    def _order_logisticsAddMultiPack(self, params):
        request_id = params.get("request_id")
        if request_id and request_id in self.request_ids:
            return _ok(self.request_ids[request_id])
        order = self.orders.get(str(params.get("order_id")))
        if order is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:10002", "订单不存在"))
        packs = []
        for pack in params.get("pack_list") or []:
            units = {str(i["shipped_order_id"]): int(i["shipped_num"]) for i in pack.get("shipped_order_info") or []}
            if not pack.get("logistics_code") or not pack.get("company_code") or not units:
                return json_answer(200, error(40002, "缺少必选参数", "isv.missing-parameter", "pack_list"))
            packs.append((pack["logistics_code"], pack["company_code"], units))
        failed = self._ship(order, packs)
        if failed:
            return failed
        data = {
            "pack_list": [
                {
                    "logistics_code": n,
                    "pack_id": f"pack-{n}",
                    "shipped_order_info": [{"shipped_order_id": k, "shipped_num": v} for k, v in u.items()],
                }
                for n, _c, u in packs
            ]
        }
        if request_id:
            self.request_ids[request_id] = data
        return _ok(data)

    def _order_logisticsEdit(self, params):
        order = self.orders.get(str(params.get("order_id")))
        if order is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:10002", "订单不存在"))
        if not params.get("company_code"):
            return json_answer(
                200,
                error(
                    40004,
                    "非法的参数",
                    "isv.parameter-invalid:60083",
                    "物流公司编码(company_code)字段不能为空。注：物流公司ID(logisitcs_id)字段已废弃",
                ),
            )
        if not params.get("logistics_code"):
            return json_answer(200, error(40004, "非法的参数", "isv.parameter-invalid:60014", "物流单号不能为空"))
        if order["order_status"] != 3:
            return json_answer(
                200, error(50002, "业务处理失败", "isv.business-failed:10007", "此订单状态不允许重新发货")
            )
        if len(order["logistics_info"]) != 1:
            return json_answer(
                200, error(50002, "业务处理失败", "isv.business-failed:70011", "70011:包裹单号缺失，请修改后重试")
            )
        pack = order["logistics_info"][0]
        pack.update(tracking_no=params["logistics_code"], company=params["company_code"])
        order["update_time"] = int(time.time())
        return _ok({})

    def _order_logisticsEditByPack(self, params):
        order = self.orders.get(str(params.get("order_id")))
        if order is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:10002", "订单不存在"))
        if not params.get("company_code") or not params.get("logistics_code"):
            return json_answer(
                200, error(40002, "缺少必选参数", "isv.missing-parameter", "company_code/logistics_code")
            )
        pack = next((p for p in order["logistics_info"] if p["delivery_id"] == params.get("pack_id")), None)
        if pack is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:70011", "包裹不存在"))
        pack.update(tracking_no=params["logistics_code"], company=params["company_code"])
        order["update_time"] = int(time.time())
        return _ok({})

    def _sku_detail(self, params):
        sku = self.skus.get(str(params.get("code") or ""))
        if sku is None:
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:11001", "sku不存在"))
        return _ok(dict(sku))

    def _sku_syncStockBatch(self, params):
        product = params.get("product_id")
        by_id = {s["id"]: s for s in self.skus.values() if s["product_id"] == product}
        items = params.get("sku_sync_list") or []
        if params.get("incremental") is not False or any(i.get("sku_id") not in by_id for i in items):
            return json_answer(200, error(50002, "业务处理失败", "isv.business-failed:11002", "sku不属于该商品"))
        for item in items:
            by_id[item["sku_id"]]["stock_num"] = item["stock_num"]
        return _ok({})
