"""A fake EasyPost API v2 on loopback, to the shapes of its API reference (see
logistics/carriers/easypost_labels.py): ``POST /v2/shipments`` (Basic auth with the API key; 422 without a
street or a weight), ``POST /v2/shipments/:id/buy`` (the rate must be one of the shipment's), ``POST
/v2/shipments/:id/refund``, and the label files it links to under ``/files/``. Errors are EasyPost's
``{"error": {"code", "message", "errors": [...]}}``."""

from __future__ import annotations

import base64
import io

from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from .fake_vendor import FakeVendor, Request, json_answer

RATES = (("USPS", "Priority", "7.58", 2), ("USPS", "Express", "30.30", 1), ("UPS", "Ground", "9.10", 5))


def label_pdf(tracking: str) -> bytes:
    """A 4x6 PDF that says whose label it is (the tests compare bytes and read the text back)."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=(4 * inch, 6 * inch), invariant=1, pageCompression=0)
    page.drawString(20, 400, f"EASYPOST FAKE LABEL {tracking}")
    page.showPage()
    page.save()
    return out.getvalue()


class FakeEasyPost(FakeVendor):
    def __init__(self, api_key: str = "EZTK_fake"):
        super().__init__()
        self.api_key = api_key
        self.shipments: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.counter = 0

    @property
    def base_url(self) -> str:
        return self.url + "/v2"

    def _authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()
        return request.headers.get("Authorization") == expected

    def handle(self, request: Request):
        if request.path.startswith("/files/"):
            body = self.files.get(request.path.rsplit("/", 1)[-1])
            if body is None:
                return 404, {}, b""
            kind = "application/pdf" if request.path.endswith(".pdf") else "text/plain"
            return 200, {"Content-Type": kind}, body
        if not self._authorised(request):
            return json_answer(401, {"error": {"code": "APIKEY.INACTIVE", "message": "API key invalid", "errors": []}})
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["v2", "shipments"]:
            return self._create(request.json()["shipment"])
        if request.method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "shipments"]:
            shipment = self.shipments.get(parts[2])
            if shipment is None:
                return json_answer(404, {"error": {"code": "NOT_FOUND", "message": "not found", "errors": []}})
            if parts[3] == "buy":
                return self._buy(shipment, request.json())
            if parts[3] == "refund":
                shipment["refund_status"] = "submitted"
                return json_answer(200, shipment)
        return json_answer(404, {"error": {"code": "NOT_FOUND", "message": request.path, "errors": []}})

    def _create(self, data: dict):
        errors = []
        if not data.get("to_address", {}).get("street1"):
            errors.append({"field": "to_address.street1", "message": "cannot be blank"})
        if not data.get("parcel", {}).get("weight"):
            errors.append({"field": "parcel.weight", "message": "must be greater than 0"})
        if errors:
            error = {"code": "SHIPMENT.INVALID_PARAMS", "message": "Invalid shipment", "errors": errors}
            return json_answer(422, {"error": error})
        self.counter += 1
        sid = f"shp_{self.counter:032x}"
        rates = [
            {
                "id": f"rate_{self.counter:04d}{i}",
                "object": "Rate",
                "carrier": carrier,
                "service": service,
                "rate": amount,
                "currency": "USD",
                "delivery_days": days,
                "est_delivery_days": days,
                "shipment_id": sid,
            }
            for i, (carrier, service, amount, days) in enumerate(RATES)
        ]
        shipment = {
            "id": sid,
            "object": "Shipment",
            "mode": "test",
            "reference": data.get("reference"),
            "options": data.get("options", {}),
            "rates": rates,
            "messages": [],
            "tracking_code": None,
            "postage_label": None,
            "selected_rate": None,
            "refund_status": None,
        }
        self.shipments[sid] = shipment
        return json_answer(201, shipment)

    def _buy(self, shipment: dict, data: dict):
        rate = next((r for r in shipment["rates"] if r["id"] == (data.get("rate") or {}).get("id")), None)
        if rate is None:
            error = {"code": "SHIPMENT.RATE.INVALID", "message": "rate not found", "errors": []}
            return json_answer(422, {"error": error})
        if shipment["tracking_code"]:
            error = {"code": "SHIPMENT.POSTAGE.EXISTS", "message": "already has postage", "errors": []}
            return json_answer(422, {"error": error})
        tracking = f"9400100000000000{self.counter:06d}"
        fmt = (shipment["options"].get("label_format") or "PNG").upper()
        name = f"{shipment['id']}.{fmt.lower()}"
        self.files[name] = label_pdf(tracking) if fmt == "PDF" else f"^XA^FO40,40^FDEASYPOST {tracking}^FS^XZ".encode()
        url = f"{self.url}/files/{name}"
        shipment.update(
            tracking_code=tracking,
            selected_rate=rate,
            postage_label={
                "object": "PostageLabel",
                "label_url": url,
                "label_pdf_url": url if fmt == "PDF" else None,
                "label_zpl_url": url if fmt == "ZPL" else None,
                "label_file_type": "application/pdf" if fmt == "PDF" else "application/zpl",
            },
        )
        return json_answer(200, shipment)
