"""Kdniao (快递鸟) e-waybills (电子面单) as a carrier adapter: one account, many Chinese express companies.

Written to Kdniao's e-order API ("电子面单接口", https://www.kdniao.com/api-eorder; request and response fields
as listed there and in the SDK repository mr-xiaoyu/kdniao-java-tools, ``bean/order/*Request.java``; read 2026):

- One endpoint (default ``https://api.kdniao.com/api/EOrderService``; the Carrier's ``api_base_url`` replaces
  it, e.g. with the sandbox or the test suite's fake), form POST ``application/x-www-form-urlencoded`` with
  ``RequestType``, ``EBusinessID`` (the account, ``Carrier.account_id``), ``RequestData`` (JSON), ``DataType=2``
  and ``DataSign`` = Base64(MD5-hex(RequestData + AppKey)) (`logistics.providers.kdniao.data_sign`; the form
  encoding URL-encodes it). The AppKey is ``Carrier.api_key``.
- **1007 create (下单)**: ``OrderCode`` (ours: the shipment number, unique, so a repeat is answered with the
  waybill already issued, ``ResultCode`` 106), ``ShipperCode`` (``Carrier.shipper_code``: ZTO, YTO, STO, YD,
  SF, JD ...), ``PayType`` (1 现付, 2 到付, 3 月结, 4 第三方), ``ExpType`` (the express company's product,
  ``ServiceLevel.external_code``, default "1" 标准快件), ``Sender`` / ``Receiver`` {``Name``, ``Mobile``,
  ``ProvinceName``, ``CityName``, ``ExpAreaName``, ``Address``, ``PostCode``}, ``Commodity`` [{``GoodsName``,
  ``Goodsquantity``}], ``Quantity`` (parcels), ``Weight`` (kg), ``Remark``, ``IsReturnPrintTemplate``
  ("0": we draw the label ourselves, `logistics.carriers.kdniao_label`); the account's own fields
  (``CustomerName``, ``CustomerPwd``, ``MonthCode``, ``SendSite``, ``PayType`` ...) come from
  ``Carrier.account_options``.
  The answer: ``Success``, ``ResultCode`` ("100" ok, "106" already ordered), ``Reason``, and ``Order``
  {``OrderCode``, ``ShipperCode``, ``LogisticCode`` (the waybill number), ``MarkDestination`` (大头笔),
  ``PackageName`` (集包地) / ``PackageCode``, ``SortingCode``, ``OriginCode`` / ``OriginName``,
  ``DestinatioCode`` / ``DestinatioName`` (sic)}, and ``PrintTemplate`` when asked for.
- **1147 cancel (取消)**: ``ShipperCode``, ``OrderCode``, ``ExpNo`` (the waybill number) and the account's
  ``CustomerName`` / ``CustomerPwd``; the answer ``Success``, ``ResultCode``, ``Reason``.

HTTP 5xx, 429 and unreachable -> `TransientCarrierError` (retried); ``Success: false`` -> `CarrierError` with
the ResultCode and Reason (a person must fix the address or the account). Kdniao does not price: ``rates`` is
the price list of our service levels, as for the local carrier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from logistics.providers.base import NormalizedEvent
from logistics.providers.kdniao import data_sign

from .base import (
    CarrierAccount,
    CarrierError,
    LabelRequest,
    LabelResult,
    Rate,
    ShipmentInfo,
    TransientCarrierError,
)
from .http import Transport, make_transport
from .local import LocalCarrier

API_URL = "https://api.kdniao.com/api/EOrderService"
CREATE = "1007"
CANCEL = "1147"
ALREADY_ORDERED = "106"
ORDER_FIELDS = (
    "MarkDestination",
    "PackageName",
    "PackageCode",
    "SortingCode",
    "OriginCode",
    "OriginName",
    "DestinatioCode",
    "DestinatioName",
    "ShipperCode",
)
CANCEL_ACCOUNT_FIELDS = ("CustomerName", "CustomerPwd")

default_transport = make_transport("Kdniao")


def china_phone(phone: str) -> str:
    """+86 138 0013 8000 -> 13800138000 (Chinese carriers want the national number); others unchanged."""
    compact = re.sub(r"[\s-]", "", phone or "")
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix) and len(compact) == len(prefix) + 11:
            return compact[len(prefix) :]
    return phone or ""


def kdniao_person(address: Mapping[str, str]) -> dict:
    """Our plain address dict as a Kdniao Sender / Receiver."""
    street = " ".join(p for p in (address.get("address1", ""), address.get("address2", "")) if p)
    person = {
        "Name": address.get("name", ""),
        "Mobile": china_phone(address.get("phone", "")),
        "ProvinceName": address.get("province", ""),
        "CityName": address.get("city", ""),
        "ExpAreaName": address.get("district", ""),
        "Address": street,
        "PostCode": address.get("postcode", ""),
    }
    return {k: v for k, v in person.items() if v}


class KdniaoCarrier:
    name = "kdniao"
    remote = True

    def __init__(self, account: CarrierAccount | None = None, transport: Transport | None = None):
        self.transport = transport or default_transport
        self.account = account or CarrierAccount()

    def __repr__(self) -> str:
        return f"KdniaoCarrier(url={self.url!r})"

    def configure(self, account: CarrierAccount) -> None:
        self.account = account

    @property
    def url(self) -> str:
        return self.account.base_url or API_URL

    # ---- HTTP ------------------------------------------------------------------------------

    def _call(self, request_type: str, payload: dict) -> dict:
        if not self.account.account_id or not self.account.api_key:
            raise CarrierError("Kdniao needs the EBusinessID (account id) and the AppKey (API key) of the carrier.")
        request_data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        body = urlencode(
            {
                "RequestType": request_type,
                "EBusinessID": self.account.account_id,
                "RequestData": request_data,
                "DataSign": data_sign(request_data, self.account.api_key),
                "DataType": "2",
            }
        ).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8", "Accept": "application/json"}
        status, raw = self.transport("POST", self.url, headers, body)
        if status >= 500 or status == 429:
            raise TransientCarrierError(f"Kdniao answered {status}")
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if status >= 400:
            raise CarrierError(f"Kdniao refused ({status}): {_reason(data)}")
        if not isinstance(data, dict):
            raise TransientCarrierError(f"Kdniao answered {status} with no JSON object")
        return data

    # ---- the adapter -----------------------------------------------------------------------

    def rates(self, shipment_info: ShipmentInfo) -> list[Rate]:
        return LocalCarrier().rates(shipment_info)

    def create_label(self, request: LabelRequest) -> LabelResult:
        """Order the e-waybill (1007) for the shipment; ``OrderCode`` = the shipment number."""
        if not self.account.shipper_code:
            raise CarrierError("Kdniao needs the express company's ShipperCode (Carrier.shipper_code).")
        options = dict(self.account.options or {})
        payload = {
            "OrderCode": request.shipment_number,
            "ShipperCode": self.account.shipper_code,
            "PayType": int(options.pop("PayType", 1) or 1),
            "ExpType": request.external_service or "1",
            "Sender": kdniao_person(request.sender),
            "Receiver": kdniao_person(request.recipient),
            "Commodity": [
                {"GoodsName": str(item.get("name", ""))[:50] or "商品", "Goodsquantity": int(item.get("quantity", 1))}
                for item in request.contents
            ]
            or [{"GoodsName": "商品", "Goodsquantity": 1}],
            "Quantity": 1,
            "Weight": round(max(request.weight_g, 1) / 1000, 3),
            "IsReturnPrintTemplate": "0",
            **options,
        }
        if request.order_number:
            payload.setdefault("Remark", f"订单 {request.order_number}"[:60])
        answer = self._call(CREATE, payload)
        order = answer.get("Order") if isinstance(answer.get("Order"), dict) else {}
        code = str(answer.get("ResultCode", ""))
        number = str(order.get("LogisticCode") or "")
        if not (answer.get("Success") is True or code == ALREADY_ORDERED) or not number:
            raise CarrierError(f"Kdniao did not issue a waybill for {request.shipment_number}: {_reason(answer)}")
        data = {k: str(order[k]) for k in ORDER_FIELDS if order.get(k)}
        data["ResultCode"] = code
        return LabelResult(
            tracking_number=number,
            carrier_reference=str(order.get("OrderCode") or request.shipment_number),
            label_format="PDF",
            data=data,
        )

    def void(self, tracking_number: str, carrier_reference: str = "") -> None:
        """Cancel the e-waybill (1147). ``carrier_reference`` is our OrderCode (the shipment number)."""
        options = self.account.options or {}
        payload = {
            "ShipperCode": self.account.shipper_code,
            "OrderCode": carrier_reference,
            "ExpNo": tracking_number,
            **{k: options[k] for k in CANCEL_ACCOUNT_FIELDS if options.get(k)},
        }
        answer = self._call(CANCEL, payload)
        if answer.get("Success") is not True:
            raise CarrierError(f"Kdniao did not cancel waybill {tracking_number}: {_reason(answer)}")

    def track(self, tracking_number: str) -> list[NormalizedEvent]:
        return []  # scans come through the Kdniao tracking source (logistics/providers/kdniao.py)


def _reason(data) -> str:
    if not isinstance(data, dict):
        return "no details"
    return f"{data.get('ResultCode', '')} {data.get('Reason', '')}".strip() or "no details"
