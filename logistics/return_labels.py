"""The return label: a 4x6 in page from the customer to the return's location, with a Code 128 of
the return number (scanned at receipt). It needs orders (the return) and logistics' document
style, so it lives here; orders' pages link to it by URL name (logistics:return_label, and
public:track_return_label for the customer's signed link)."""

from fulfillment.documents import location_lines, recipient_lines
from oms.codes import code128_svg, svg_data_uri
from oms.pdf import render_pdf
from orders.models import ReturnRequest

TEMPLATE = "logistics/pdf/return_label.html"


def return_label_context(ret: ReturnRequest) -> dict:
    order, location = ret.order, ret.location
    return {
        "ret": ret,
        "number": ret.number,
        "order_number": order.number,
        "barcode_uri": svg_data_uri(code128_svg(ret.number, max_width_mm=90.0, height_mm=18.0)),
        "sender": {"name": order.ship_name, "phone": order.ship_phone, "lines": recipient_lines(order)},
        "recipient": {
            "name": f"{location.name} — Returns 退货",
            "phone": location.phone,
            "lines": location_lines(location),
        },
        "lines": [
            (line.order_line.sku, line.order_line.name, line.quantity)
            for line in ret.lines.select_related("order_line")
        ],
        "reason": ret.get_reason_display(),
        "created": ret.created_at,
    }


def return_label_pdf(ret: ReturnRequest, *, request=None) -> bytes:
    ret = ReturnRequest.objects.select_related("order", "location").get(pk=ret.pk)
    return render_pdf(TEMPLATE, {"label": return_label_context(ret)}, request=request)
