"""The shipments part of an order's API representation (plugged into orders' API)."""


def order_shipments_extra(order) -> dict:
    shipments = []
    for s in order.shipments.select_related("location").prefetch_related("parcels__service__carrier", "lines"):
        parcels = list(s.parcels.all())
        first = parcels[0] if parcels else None
        shipments.append(
            {
                "number": s.number,
                "status": s.status,
                "location": s.location.code,
                "carrier": first.service.carrier.code if first else None,
                "service": first.service.code if first else None,
                "tracking_number": first.tracking_number if first else None,
                "tracking_status": first.status if first else None,
                "expected_delivery": first.expected_delivery.isoformat() if first and first.expected_delivery else None,
                "lines": [{"order_line": ln.order_line_id, "quantity": ln.quantity} for ln in s.lines.all()],
                "shipped_at": s.shipped_at.isoformat() if s.shipped_at else None,
                "delivered_at": s.delivered_at.isoformat() if s.delivered_at else None,
            }
        )
    return {"shipments": shipments}
