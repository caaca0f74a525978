"""The raw SQL baselines of the reports bench (issue #8): per page, the hand-written aggregates over
the source tables that give the same figure, timed beside the page in reports_bench.py."""

# ---- -------------------------------------------------------------------

RANGE = "o.created_at >= %(start)s AND o.created_at < %(end)s"
RAW = {
    "dashboard": [
        "SELECT status, COUNT(*) FROM orders_order GROUP BY status",
        "SELECT COUNT(*) FILTER (WHERE created_at >= %(today)s), COUNT(*) FILTER (WHERE created_at < %(today)s) "
        "FROM orders_order WHERE created_at >= %(yesterday)s",
        "SELECT COUNT(*) FROM orders_order WHERE on_hold AND status <> 'cancelled'",
        "SELECT s.id, s.number, o.number, l.code FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
        "JOIN inventory_location l ON l.id = s.location_id WHERE s.status IN ('reserved','picking','packed') "
        "AND s.created_at < %(late)s ORDER BY s.created_at LIMIT 20",
        "SELECT COUNT(*) FROM fulfillment_shipment WHERE status IN ('reserved','picking','packed') "
        "AND created_at < %(late)s",
        "SELECT c.name, COUNT(*) FROM orders_order o JOIN orders_channel c ON c.id = o.channel_id "
        "WHERE o.created_at >= %(today)s GROUP BY c.name",
    ],
    "orders-by-day": [
        f"SELECT (o.created_at AT TIME ZONE %(tz)s)::date, COUNT(*), SUM(o.total) FROM orders_order o "
        f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1"
    ],
    "orders-by-channel": [
        f"SELECT c.id, c.name, COUNT(*), SUM(o.total) FROM orders_order o JOIN orders_channel c ON c.id = o.channel_id "
        f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1, 2"
    ],
    "orders-by-region": [
        f"SELECT o.ship_province, COUNT(*), SUM(o.total) FROM orders_order o "
        f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1"
    ],
    "orders-by-product": [
        f"SELECT l.sku, SUM(l.quantity), COUNT(DISTINCT l.order_id), SUM(l.quantity * l.unit_price) "
        f"FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id "
        f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1"
    ],
    "lead-time": [
        f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM s.shipped_at - o.created_at)), "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM s.shipped_at - o.created_at)), COUNT(*) "
        f"FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
        f"WHERE {RANGE} AND s.status <> 'cancelled' AND s.shipped_at IS NOT NULL",
        f"SELECT COUNT(*) FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
        f"WHERE {RANGE} AND s.status <> 'cancelled' AND s.shipped_at IS NULL",
        f"SELECT s.location_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM s.shipped_at - "
        f"o.created_at)), percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM s.shipped_at - "
        f"o.created_at)), COUNT(*) FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
        f"WHERE {RANGE} AND s.status <> 'cancelled' AND s.shipped_at IS NOT NULL GROUP BY 1",
        f"SELECT (o.created_at AT TIME ZONE %(tz)s)::date, percentile_cont(0.5) WITHIN GROUP (ORDER BY "
        f"EXTRACT(EPOCH FROM s.shipped_at - o.created_at)), percentile_cont(0.9) WITHIN GROUP (ORDER BY "
        f"EXTRACT(EPOCH FROM s.shipped_at - o.created_at)), COUNT(*) FROM fulfillment_shipment s "
        f"JOIN orders_order o ON o.id = s.order_id WHERE {RANGE} AND s.status <> 'cancelled' "
        f"AND s.shipped_at IS NOT NULL GROUP BY 1",
    ],
    "on-time-shipping": [
        f"SELECT s.location_id, (s.created_at AT TIME ZONE %(tz)s)::date, "
        f"(s.created_at AT TIME ZONE %(tz)s)::time < l.cutoff_time, (s.shipped_at AT TIME ZONE %(tz)s)::date, "
        f"COUNT(*) FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
        f"JOIN inventory_location l ON l.id = s.location_id WHERE {RANGE} AND s.status <> 'cancelled' "
        f"GROUP BY 1, 2, 3, 4"
    ],
    "fill-rate": [
        f"WITH f AS (SELECT o.id, (o.created_at AT TIME ZONE %(tz)s)::date AS day, (SELECT s.id FROM "
        f"fulfillment_shipment s WHERE s.order_id = o.id AND s.shipped_at IS NOT NULL AND s.status <> 'cancelled' "
        f"ORDER BY s.shipped_at, s.id LIMIT 1) AS first_id FROM orders_order o WHERE {RANGE} "
        f"AND o.status <> 'cancelled') "
        f"SELECT f.day, SUM(l.quantity) FROM f JOIN orders_orderline l ON l.order_id = f.id "
        f"WHERE f.first_id IS NOT NULL GROUP BY 1",
        "SELECT (o.created_at AT TIME ZONE %(tz)s)::date, SUM(sl.quantity) FROM fulfillment_shipmentline sl "
        "JOIN fulfillment_shipment s ON s.id = sl.shipment_id JOIN orders_order o ON o.id = s.order_id "
        "WHERE s.id IN (SELECT (SELECT s2.id FROM fulfillment_shipment s2 WHERE s2.order_id = o2.id "
        "AND s2.shipped_at IS NOT NULL AND s2.status <> 'cancelled' ORDER BY s2.shipped_at, s2.id LIMIT 1) "
        "FROM orders_order o2 WHERE o2.created_at >= %(start)s AND o2.created_at < %(end)s "
        "AND o2.status <> 'cancelled') GROUP BY 1",
        f"SELECT COUNT(*) FROM orders_order o WHERE {RANGE} AND o.status <> 'cancelled'",
    ],
    "backlog-ageing": [
        "SELECT (created_at AT TIME ZONE %(tz)s)::date, COUNT(*), COUNT(*) FILTER (WHERE on_hold) FROM orders_order "
        "WHERE status IN ('received','confirmed','allocated','picking','packed','partially_shipped') GROUP BY 1"
    ],
    "on-time-delivery": [
        f"SELECT c.name, o.promise_date, (GREATEST((SELECT MAX(p.delivered_at) FROM logistics_parcel p JOIN "
        f"fulfillment_shipment s ON s.id = p.shipment_id WHERE s.order_id = o.id)) AT TIME ZONE %(tz)s)::date, "
        f"COUNT(*) FROM orders_order o JOIN orders_channel c ON c.id = o.channel_id WHERE {RANGE} "
        f"AND o.status = 'delivered' AND o.promise_date IS NOT NULL GROUP BY 1, 2, 3",
        f"SELECT c.name, o.promise_date, COUNT(*) FROM orders_order o JOIN orders_channel c ON c.id = o.channel_id "
        f"WHERE {RANGE} AND o.status NOT IN ('delivered', 'cancelled') AND o.promise_date IS NOT NULL GROUP BY 1, 2",
        f"SELECT COUNT(*) FROM orders_order o WHERE {RANGE} AND o.status <> 'cancelled' AND o.promise_date IS NULL",
    ],
    "logistics-cost": [
        f"SELECT sv.carrier_id, o.ship_province, SUM(ROUND(sv.base_rate + sv.per_kg_rate * GREATEST(p.weight_g, 1) "
        f"/ 1000.0, 2)), COUNT(*), COUNT(DISTINCT o.id) FROM logistics_parcel p JOIN logistics_servicelevel sv "
        f"ON sv.id = p.service_id JOIN fulfillment_shipment s ON s.id = p.shipment_id JOIN orders_order o "
        f"ON o.id = s.order_id WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY GROUPING SETS ((), (1), (2))"
    ],
    "carrier-scorecard": [
        f"SELECT sv.carrier_id, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM logistics_trackingevent e WHERE "
        f"e.parcel_id = p.id AND e.status IN ('exception','failed_attempt','lost')) THEN 1 ELSE 0 END), "
        f"SUM(ROUND(sv.base_rate + sv.per_kg_rate * GREATEST(p.weight_g, 1) / 1000.0, 2)), "
        f"AVG(EXTRACT(EPOCH FROM p.delivered_at - s.shipped_at)) FROM logistics_parcel p "
        f"JOIN logistics_servicelevel sv ON sv.id = p.service_id JOIN fulfillment_shipment s ON s.id = p.shipment_id "
        f"JOIN orders_order o ON o.id = s.order_id WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1",
        f"SELECT sv.carrier_id, (p.delivered_at AT TIME ZONE %(tz)s)::date, p.expected_delivery, COUNT(*) "
        f"FROM logistics_parcel p JOIN logistics_servicelevel sv ON sv.id = p.service_id JOIN fulfillment_shipment s "
        f"ON s.id = p.shipment_id JOIN orders_order o ON o.id = s.order_id WHERE {RANGE} AND o.status <> 'cancelled' "
        f"GROUP BY 1, 2, 3",
    ],
    "exception-rate": [
        f"SELECT sv.carrier_id, s.location_id, COUNT(*), SUM(CASE WHEN EXISTS (SELECT 1 FROM logistics_trackingevent e "
        f"WHERE e.parcel_id = p.id AND e.status IN ('exception','failed_attempt','lost')) THEN 1 ELSE 0 END) "
        f"FROM logistics_parcel p JOIN logistics_servicelevel sv ON sv.id = p.service_id JOIN fulfillment_shipment s "
        f"ON s.id = p.shipment_id JOIN orders_order o ON o.id = s.order_id WHERE {RANGE} AND o.status <> 'cancelled' "
        f"GROUP BY GROUPING SETS ((), (1), (2))",
        f"SELECT e.status, COUNT(*), COUNT(DISTINCT e.parcel_id) FROM logistics_trackingevent e "
        f"JOIN logistics_parcel p ON p.id = e.parcel_id JOIN fulfillment_shipment s ON s.id = p.shipment_id "
        f"JOIN orders_order o ON o.id = s.order_id WHERE {RANGE} AND o.status <> 'cancelled' "
        f"AND e.status IN ('exception','failed_attempt','lost') GROUP BY 1",
    ],
    "stock-out-days": [
        "SELECT location_id, product_id, (created_at AT TIME ZONE %(tz)s)::date, SUM(on_hand_delta), "
        "SUM(reserved_delta) FROM inventory_stockmovement WHERE created_at >= %(start)s GROUP BY 1, 2, 3",
        "SELECT st.location_id, st.product_id, st.on_hand, st.reserved, "
        "EXISTS (SELECT 1 FROM inventory_stockmovement m "
        "WHERE m.location_id = st.location_id AND m.product_id = st.product_id AND m.created_at < %(start)s) "
        "FROM inventory_stock st",
    ],
}
RAW["stock-turnover"] = RAW["stock-out-days"]
PACKED = "s.packed_at >= %(start)s AND s.packed_at < %(end)s"
RAW["pick-accuracy"] = [
    f"SELECT s.location_id, u.username, (s.packed_at AT TIME ZONE %(tz)s)::date, EXISTS (SELECT 1 FROM "
    f"fulfillment_packmismatch m WHERE m.shipment_id = s.id), COUNT(*) FROM fulfillment_shipment s "
    f"LEFT JOIN fulfillment_picklist pl ON pl.id = s.picklist_id LEFT JOIN auth_user u ON u.id = pl.created_by_id "
    f"WHERE {PACKED} GROUP BY 1, 2, 3, 4",
    f"SELECT m.kind, COUNT(*), SUM(m.quantity), COUNT(DISTINCT m.shipment_id) FROM fulfillment_packmismatch m "
    f"JOIN fulfillment_shipment s ON s.id = m.shipment_id WHERE {PACKED} GROUP BY 1",
    "SELECT COUNT(*) FROM fulfillment_packmismatch m JOIN fulfillment_shipment s ON s.id = m.shipment_id "
    "WHERE m.created_at >= %(start)s AND m.created_at < %(end)s AND s.packed_at IS NULL AND s.status <> 'cancelled'",
]
_DELIVERED_IN_PERIOD = (
    "WITH d AS (SELECT s.order_id FROM fulfillment_shipment s JOIN orders_order o ON o.id = s.order_id "
    "LEFT JOIN logistics_parcel p ON p.shipment_id = s.id WHERE o.status = 'delivered' GROUP BY s.order_id "
    "HAVING COALESCE(MAX(p.delivered_at), MAX(s.delivered_at) FILTER (WHERE s.status <> 'cancelled')) >= %(start)s "
    "AND COALESCE(MAX(p.delivered_at), MAX(s.delivered_at) FILTER (WHERE s.status <> 'cancelled')) < %(end)s) "
)
RAW["return-rate"] = [
    _DELIVERED_IN_PERIOD + "SELECT 'delivered', l.sku, NULL, NULL, SUM(l.quantity) FROM orders_orderline l "
    "JOIN d ON d.order_id = l.order_id GROUP BY 2 "
    "UNION ALL SELECT CASE WHEN r.created_at < %(end)s THEN 'returned' ELSE 'later' END, l.sku, r.reason, r.id, "
    "SUM(rl.quantity) FROM orders_returnline rl JOIN orders_returnrequest r ON r.id = rl.ret_id "
    "JOIN orders_orderline l ON l.id = rl.order_line_id JOIN d ON d.order_id = l.order_id "
    "WHERE r.status <> 'cancelled' AND r.created_at >= %(start)s GROUP BY 1, 2, 3, 4 "
    "UNION ALL SELECT 'orders', NULL, NULL, NULL, COUNT(*) FROM d",
]
RAW["customer-satisfaction"] = [
    f"SELECT r.score, COUNT(*) FROM orders_deliveryrating r JOIN orders_order o ON o.id = r.order_id "
    f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1",
    f"SELECT sv.carrier_id, COUNT(DISTINCT r.id), AVG(r.score) FROM orders_deliveryrating r "
    f"JOIN orders_order o ON o.id = r.order_id JOIN fulfillment_shipment s ON s.order_id = o.id "
    f"JOIN logistics_parcel p ON p.shipment_id = s.id JOIN logistics_servicelevel sv ON sv.id = p.service_id "
    f"WHERE {RANGE} AND o.status <> 'cancelled' GROUP BY 1",
    f"SELECT s.location_id, COUNT(DISTINCT r.id), AVG(r.score) FROM orders_deliveryrating r "
    f"JOIN orders_order o ON o.id = r.order_id JOIN fulfillment_shipment s ON s.order_id = o.id "
    f"WHERE {RANGE} AND o.status <> 'cancelled' AND s.status <> 'cancelled' GROUP BY 1",
    f"SELECT COUNT(*) FROM orders_order o WHERE {RANGE} AND o.status = 'delivered'",
]
