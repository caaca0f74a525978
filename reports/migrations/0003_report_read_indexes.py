"""Indexes the report queries need on other apps' tables (PostgreSQL only; SQLite is left alone).

The reports app reads every app but owns none of these tables, so the indexes are created here,
with IF NOT EXISTS and CONCURRENTLY (no write lock on a live table; hence atomic = False). Each
one serves a KPI family (issue #8, the 1,000,000-order bench):

- orders by received day (every cohort KPI): created_at with the columns the pages group by, so
  the range is an index-only scan;
- a cohort's shipments, parcels and lines by their order / shipment, with the columns the KPIs
  read, so the joins are index-only nested loops instead of full scans of the child tables;
- shipments by packed day (pick accuracy), parcels and shipments by delivery day (return rate);
- tracking exceptions by parcel (partial: only the three exception statuses).
"""

from django.db import migrations

INDEXES = [
    (
        "reports_order_created_cover",
        "orders_order (created_at) INCLUDE (status, channel_id, total, ship_province, promise_date)",
    ),
    ("reports_orderline_order_cover", "orders_orderline (order_id) INCLUDE (sku, quantity, unit_price)"),
    (
        "reports_shipment_order_cover",
        "fulfillment_shipment (order_id) "
        "INCLUDE (status, location_id, created_at, packed_at, shipped_at, delivered_at)",
    ),
    ("reports_shipment_packed", "fulfillment_shipment (packed_at) WHERE packed_at IS NOT NULL"),
    (
        "reports_shipment_delivered",
        "fulfillment_shipment (delivered_at) INCLUDE (order_id) WHERE delivered_at IS NOT NULL",
    ),
    (
        "reports_parcel_shipment_cover",
        "logistics_parcel (shipment_id) INCLUDE (service_id, weight_g, delivered_at, expected_delivery)",
    ),
    (
        "reports_parcel_delivered",
        "logistics_parcel (delivered_at) INCLUDE (shipment_id) WHERE delivered_at IS NOT NULL",
    ),
    (
        "reports_trackingevent_exception",
        "logistics_trackingevent (parcel_id, status) WHERE status IN ('exception', 'failed_attempt', 'lost')",
    ),
]


def creator(indexes):
    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, target in indexes:
            schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}")

    return create


def dropper(indexes):
    def drop(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for name, _target in indexes:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    return drop


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0002_saved_reports_and_schedules"),
        ("orders", "0006_stage_rules_change_events"),
        ("fulfillment", "0005_shipment_removed_intercept_merge_perm"),
        ("logistics", "0004_case_autoclose_claim_evidence_zh_playbooks"),
    ]

    operations = [migrations.RunPython(creator(INDEXES), dropper(INDEXES), elidable=False)]
