"""Indexes for finding what changed since the facts were last brought up to date
(reports.facts.touched_orders): orders by updated_at, parcels and tracking events by created_at
(shipments and order events have their created_at indexes already). PostgreSQL only, CONCURRENTLY (see 0003)."""

import importlib

from django.db import migrations

_0003 = importlib.import_module("reports.migrations.0003_report_read_indexes")

INDEXES = [
    ("reports_order_updated", "orders_order (updated_at)"),
    ("reports_parcel_created", "logistics_parcel (created_at)"),
    ("reports_parcel_voided", "logistics_parcel (voided_at) WHERE voided_at IS NOT NULL"),
    ("reports_trackingevent_created", "logistics_trackingevent (created_at)"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reports", "0004_facts")]

    operations = [migrations.RunPython(_0003.creator(INDEXES), _0003.dropper(INDEXES), elidable=False)]
