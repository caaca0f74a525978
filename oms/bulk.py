"""Set-based writes for batch consumers (ARCHITECTURE.md, "The spine": batch apply).

``rows_update(model, objs, fields)`` saves ``fields`` of many rows in ONE statement: on PostgreSQL an
``UPDATE ... FROM (VALUES ...)`` with typed columns, elsewhere (SQLite) Django's ``bulk_update`` (one
``CASE WHEN`` statement per batch of rows). The values are the objects' in-memory attributes, prepared by
each field as Django would save them; the caller holds the rows' locks and has checked every rule (this
is a writer, not a door).
"""

from django.db import connection

# Rows per statement (PostgreSQL allows 65535 parameters per statement).
CHUNK = 1000


def rows_update(model, objs: list, fields: list[str]) -> int:
    """Save ``fields`` of ``objs`` (model instances with primary keys). Returns the number of rows sent."""
    if not objs or not fields:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=CHUNK)
        return len(objs)
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in columns)
    names = ", ".join(qn(f.column) for f in [pk, *columns])
    key = qn(pk.column)
    row_sql = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in [pk, *columns]) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params = []
            for obj in chunk:
                params.append(pk.get_db_prep_save(obj.pk, connection))
                for field in columns:
                    params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
            values = ", ".join([row_sql] * len(chunk))
            # names come from the model's meta, values are parameters
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v({names}) WHERE {table}.{key} = v.{key}"  # noqa: S608
            cursor.execute(sql, params)
    return len(objs)
