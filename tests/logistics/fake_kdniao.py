"""A fake Kdniao e-order endpoint (EOrderService) on loopback, to the shapes in
logistics/carriers/kdniao.py: a form POST with RequestType, EBusinessID, RequestData, DataSign, DataType;
the signature is checked (Base64(MD5-hex(RequestData + AppKey))); 1007 issues a waybill with 大头笔 and
集包地 (the same OrderCode again: ResultCode 106 and the same waybill); 1147 cancels it. Refusals are
``Success: false`` with ``ResultCode`` and ``Reason``, as Kdniao answers them."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from logistics.providers.kdniao import data_sign

from .fake_vendor import FakeVendor, Request, json_answer

REQUIRED_PERSON = ("Name", "Mobile", "ProvinceName", "CityName", "Address")


class FakeKdniao(FakeVendor):
    def __init__(self, e_business_id: str = "1234567", app_key: str = "kdn-app-key"):
        super().__init__()
        self.e_business_id = e_business_id
        self.app_key = app_key
        self.orders: dict[str, dict] = {}
        self.cancelled: list[str] = []
        self.counter = 0

    def form(self, request: Request) -> dict:
        return {k: v[0] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}

    def data(self, request: Request) -> dict:
        return json.loads(self.form(request)["RequestData"])

    def _refuse(self, code: str, reason: str):
        return json_answer(
            200, {"EBusinessID": self.e_business_id, "Success": False, "ResultCode": code, "Reason": reason}
        )

    def handle(self, request: Request):
        form = self.form(request)
        if form.get("EBusinessID") != self.e_business_id:
            return self._refuse("101", "EBusinessID 不存在")
        if form.get("DataSign") != data_sign(form.get("RequestData", ""), self.app_key):
            return self._refuse("102", "DataSign 验证失败")
        data = json.loads(form["RequestData"])
        if form.get("RequestType") == "1007":
            return self._create(data)
        if form.get("RequestType") == "1147":
            return self._cancel(data)
        return self._refuse("103", f"RequestType {form.get('RequestType')} 不支持")

    def _create(self, data: dict):
        missing = [k for k in ("OrderCode", "ShipperCode", "PayType", "ExpType") if not data.get(k)]
        for side in ("Sender", "Receiver"):
            missing += [f"{side}.{k}" for k in REQUIRED_PERSON if not (data.get(side) or {}).get(k)]
        if not data.get("Commodity") or not data["Commodity"][0].get("GoodsName"):
            missing.append("Commodity.GoodsName")
        if missing:
            return self._refuse("105", "缺少必填字段: " + ", ".join(missing))
        known = self.orders.get(data["OrderCode"])
        if known is not None:
            return json_answer(200, {**known, "ResultCode": "106", "Reason": "该订单号已下单成功"})
        self.counter += 1
        answer = {
            "EBusinessID": self.e_business_id,
            "Success": True,
            "ResultCode": "100",
            "Reason": "成功",
            "UniquerRequestNumber": f"req-{self.counter}",
            "Order": {
                "OrderCode": data["OrderCode"],
                "ShipperCode": data["ShipperCode"],
                "LogisticCode": f"7531{self.counter:08d}",
                "MarkDestination": "沪 浦东 A12-03",
                "OriginCode": "021",
                "OriginName": "上海中心",
                "DestinatioCode": "021-PD",
                "DestinatioName": "浦东网点",
                "SortingCode": "A12-03",
                "PackageCode": "P021",
                "PackageName": "上海浦东集包",
            },
        }
        self.orders[data["OrderCode"]] = answer
        return json_answer(200, answer)

    def _cancel(self, data: dict):
        known = self.orders.get(data.get("OrderCode", ""))
        if known is None or known["Order"]["LogisticCode"] != data.get("ExpNo"):
            return self._refuse("105", "订单不存在")
        self.cancelled.append(data["ExpNo"])
        return json_answer(
            200, {"EBusinessID": self.e_business_id, "Success": True, "ResultCode": "100", "Reason": "成功"}
        )
