"""Set-based writes for batch consumers (ARCHITECTURE.md, "The spine": batch apply).

One ``UPDATE … FROM (VALUES …)`` per chunk of rows, on PostgreSQL and on SQLite (3.33+) alike:
Django's ``bulk_update`` builds a ``CASE WHEN`` per field and row and costs seconds of Python for a
few hundred rows. ``rows_update(model, objs, fields)`` saves fields of model instances;
``update_from_values(model, fields, rows)`` takes plain tuples. The values are prepared by each
field as Django would save them; the caller holds the rows' locks and has checked every rule (this
is a writer, not a door).
"""

import re
from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model

# Rows per statement (PostgreSQL allows 65535 parameters per statement).
CHUNK = 1000


def rows_update(model, objs: list, fields: list[str]) -> int:
    """Save ``fields`` of ``objs`` (model instances with primary keys). Returns the number of rows sent."""
    if not objs or not fields:
        return 0
    attnames = [model._meta.get_field(name).attname for name in fields]
    update_from_values(model, fields, [(obj.pk, *(getattr(obj, a) for a in attnames)) for obj in objs])
    return len(objs)


def update_from_values(
    model: type[Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    same: dict | None = None,
    increment: Sequence[str] = (),
    chunk: int = CHUNK,
) -> int:
    """``UPDATE table SET f = v.f, ... FROM (VALUES (pk, f...), ...) WHERE table.pk = v.pk``.

    ``rows`` are ``(pk, value per field of fields)``; values are prepared by each field (JSON, dates);
    ``same`` sets fields to one value for every row; ``increment`` adds 1 to these fields. Returns the
    number of rows updated. Field and table names come from the model, values go as parameters.
    """
    if not rows:
        return 0
    meta = model._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    pk = meta.pk
    model_fields = [meta.get_field(name) for name in fields]
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types VALUES columns from their parameters: each column says its type.
    casts = [f"::{cast_type(f)}" if postgres else "" for f in [pk, *model_fields]]
    names = ["k", *(f"v{i}" for i in range(len(model_fields)))]
    assignments = [f"{quote(f.column)} = v.{n}" for f, n in zip(model_fields, names[1:], strict=True)]
    tail_params = []
    for name, value in (same or {}).items():
        field = meta.get_field(name)
        assignments.append(f"{quote(field.column)} = %s")
        tail_params.append(field.get_db_prep_save(value, connection))
    for name in increment:
        column = quote(meta.get_field(name).column)
        assignments.append(f"{column} = {table}.{column} + 1")
    updated = 0
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        tuples, params = [], []
        for row in part:
            tuples.append("(" + ", ".join(f"%s{cast}" for cast in casts) + ")")
            params.append(pk.get_db_prep_save(row[0], connection))
            params += [f.get_db_prep_save(v, connection) for f, v in zip(model_fields, row[1:], strict=True)]
        sql = (
            f"WITH v ({', '.join(names)}) AS (VALUES {', '.join(tuples)}) "  # noqa: S608 (names from the model)
            f"UPDATE {table} SET {', '.join(assignments)} FROM v WHERE {table}.{quote(pk.column)} = v.k"
        )
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute(sql, params + tail_params)
                updated += cursor.rowcount
            else:  # sqlite3 reports no rowcount for a statement that starts with WITH: count the changes
                before = connection.connection.total_changes
                cursor.execute(sql, params + tail_params)
                updated += connection.connection.total_changes - before
    return updated


def cast_type(field: Field) -> str:
    """The PostgreSQL type a parameter of ``field`` is cast to: the column's type without a character length,
    because an explicit cast to ``varchar(n)`` cuts a longer value silently, where the column itself refuses
    it ("value too long") as any other write would."""
    return _LENGTH.sub("", field.cast_db_type(connection))


_LENGTH = re.compile(r"(?<=^varchar)\(\d+\)$|(?<=^character varying)\(\d+\)$")
