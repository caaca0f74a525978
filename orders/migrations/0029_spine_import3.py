"""Order lines', events' and holds' foreign keys to their order checked at once (NOT DEFERRABLE), on
PostgreSQL only: Django makes every foreign key DEFERRABLE INITIALLY DEFERRED, so each inserted row's
check waits in the transaction's queue for the commit (a bulk import writes about six such rows an
order); now each statement makes its own checks at its end. Every writer inserts the order before its lines,
events and holds (``orders.intake.bulk``, the ORM's saves) and deletes them before the order (Django's
collector), so nothing relies on the deferral. (SQLite keeps its deferred checks.)

Django does not model a foreign key's deferral: a later migration that alters one of these fields
recreates its constraint DEFERRABLE again (tests/orders/test_order_children_fk.py on the PostgreSQL lane
says so).
"""

from django.db import migrations

# (table, column): the foreign keys to orders_order made NOT DEFERRABLE.
IMMEDIATE = (
    ("orders_orderline", "order_id"),
    ("orders_orderevent", "order_id"),
    ("orders_orderhold", "order_id"),
)

FIND = """
SELECT c.conname FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND c.confrelid = 'orders_order'::regclass
  AND a.attname = %s
"""


def _alter(schema_editor, deferral: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        for table, column in IMMEDIATE:
            cursor.execute(FIND, [table, column])
            for (name,) in cursor.fetchall():
                schema_editor.execute(f"ALTER TABLE {quote(table)} ALTER CONSTRAINT {quote(name)} {deferral}")


def immediate(apps, schema_editor):
    _alter(schema_editor, "NOT DEFERRABLE")


def deferred(apps, schema_editor):
    _alter(schema_editor, "DEFERRABLE INITIALLY DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0028_china_rest2"),
    ]

    operations = [
        migrations.RunPython(immediate, deferred, elidable=False),
    ]
