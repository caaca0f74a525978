"""The bulk path's foreign keys checked per COPY, set-based, instead of row by row (PostgreSQL).

PostgreSQL checks a foreign key with a trigger per inserted row: one SPI query (``SELECT 1 FROM target WHERE id = $1
FOR KEY SHARE``) per row and key, queued and run at the end of the statement or at commit. For a batch of 1,000
orders (about 6,000 rows: customers, orders, lines, events) that is about 40 % of the database's CPU. Here the rows of
one COPY are written with the foreign-key triggers off (``session_replication_role = replica`` for that statement
only, ``SET LOCAL``) and every foreign key of the table, read from the catalogue, is then checked for the whole COPY
with one query per key: the distinct values must all be there, and their rows are locked ``FOR KEY SHARE`` as the
trigger locks them, so none can go away before the batch commits. A value that is missing raises ``IntegrityError``
(the batch is rolled back and ``bulk.create_batch`` creates its orders one by one, through the triggers).

Used only where it is as strong as the triggers (else the COPY runs with its triggers as usual):
- the COPY is inside a transaction (the setting ends with it; a failed COPY rolls it back);
- the session may set the parameter (a superuser role, or on PostgreSQL 15 one granted ``SET ON PARAMETER
  session_replication_role``: see docs/decisions/intake-batch-foreign-keys.md);
- the table has no trigger besides the foreign keys' own, and no rule (``replica`` would skip those too);
- every foreign key of the table is on one column, and the COPY writes that column or leaves it NULL.
``IMPORT_BATCH_KEY_CHECK = False`` in the settings turns it off.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, connection

# One round trip before the COPY: whether the shortcut may be used here (the role may set the parameter, it is at
# its default, the table has no trigger but the foreign keys' own and no rule) and, if so, the parameter set for the
# rest of the transaction (CASE: set_config runs only then); and the table's foreign keys (column, target table,
# target column, number of columns) from the catalogue.
_BEFORE = """
WITH t AS (SELECT %(table)s::regclass AS rel),
ok AS (
  SELECT {may_set}
     AND current_setting('session_replication_role') = 'origin'
     AND NOT EXISTS (SELECT 1 FROM pg_trigger g, t WHERE g.tgrelid = t.rel AND NOT g.tgisinternal)
     AND NOT EXISTS (SELECT 1 FROM pg_rewrite r, t WHERE r.ev_class = t.rel) AS ok
)
SELECT
  ok.ok,
  CASE WHEN ok.ok THEN set_config('session_replication_role', 'replica', true) END,
  (SELECT coalesce(json_agg(json_build_array(a.attname, c.confrelid::regclass::text, af.attname,
                                             array_length(c.conkey, 1))), '[]')
     FROM t, pg_constraint c
     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
    WHERE c.conrelid = t.rel AND c.contype = 'f')
FROM ok
"""
_ON = "set_config('session_replication_role', 'origin', true)"
_BACK = f"SELECT {_ON}"


def keys_to_check(model, attnames: tuple[str, ...]) -> list[tuple[int, str, str]] | None:
    """[(index in attnames, target table, target column)] when this COPY may run without its triggers (and the
    triggers are off now, until ``_BACK`` or the transaction's end), else None (and they are on)."""
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return None
    if not getattr(settings, "IMPORT_BATCH_KEY_CHECK", True):
        return None
    # PostgreSQL 15 can grant the parameter to a role (GRANT SET ON PARAMETER session_replication_role TO ...).
    may_set = (
        "has_parameter_privilege('session_replication_role', 'SET')"
        if connection.pg_version >= 150000
        else "current_setting('is_superuser') = 'on'"
    )
    with connection.cursor() as cursor:
        cursor.execute(_BEFORE.format(may_set=may_set), {"table": connection.ops.quote_name(model._meta.db_table)})
        ok, _set, keys = cursor.fetchone()
        if not ok:
            return None
        fields = model._meta.concrete_fields
        columns = {f.column: f for f in fields}
        by_attname = {f.attname: f for f in fields}
        written = {by_attname[name].column: i for i, name in enumerate(attnames)}
        checks = []
        for column, target, target_column, width in keys:
            if column in written and width == 1:
                checks.append((written[column], target, target_column))
            elif width != 1 or column not in columns or columns[column].get_default() is not None:
                # A key over several columns, or a column copy_rows would fill with a value nobody checks here.
                cursor.execute(_BACK)
                return None
    return checks


@contextmanager
def checked_copy(model, attnames: tuple[str, ...], rows: list[tuple]):
    """Around one COPY of ``rows`` (tuples of ``attnames``) into ``model``'s table. Where the module's conditions
    hold, the COPY runs without its row triggers and the rows' foreign keys are checked together when the block
    ends (one round trip); elsewhere the triggers check them."""
    checks = keys_to_check(model, attnames)
    yield
    if checks is None:
        return
    # Reached only when the COPY ended well (an exception leaves the transaction to its rollback, which ends the
    # setting with it). The triggers back on, and each key's distinct values counted where they point, locked.
    parts, params, asked = [_ON], [], []
    for i, target, target_column in checks:
        values = {values[i] for values in rows}
        values.discard(None)
        if not values:
            continue
        column = connection.ops.quote_name(target_column)
        if all(type(v) is int for v in values):  # one text parameter: psycopg dumps a list value by value
            given, cast = "{" + ",".join(map(str, values)) + "}", "::bigint[]"
        else:
            given, cast = list(values), ""
        # The table as the catalogue names it (regclass: quoted where needed), the values as one parameter.
        locked = f"SELECT 1 FROM ONLY {target} x WHERE x.{column} = ANY(%s{cast}) FOR KEY SHARE OF x"  # noqa: S608
        parts.append(f"(SELECT count(*) FROM ({locked}) s)")  # noqa: S608
        params.append(given)
        asked.append((target, len(values)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)  # noqa: S608 - identifiers from the catalogue
        found = cursor.fetchone()[1:]
    for (target, wanted), got in zip(asked, found, strict=True):
        if got != wanted:
            raise IntegrityError(
                f"{model._meta.db_table}: {wanted - got} value(s) of a foreign key to {target} have no row there"
            )
