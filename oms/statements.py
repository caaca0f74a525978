"""Prepared, array-bound statements for the spine's hot paths (ARCHITECTURE.md, "The spine").

Django's PostgreSQL cursor binds parameters on the client and never prepares: a statement of a few hundred rows
is split with a regular expression and every value quoted and escaped in Python, and its text differs with the
number of rows, so the server parses and plans it anew each time. Here, on PostgreSQL, a statement's text
depends only on the model and its fields, the rows travel as one array per column (binary, no escaping) and the
statement is prepared once per connection:

- `insert_one(model, values)`: one row, ``RETURNING`` its key (an inbox's accept: one INSERT, nothing else);
- `insert_rows(model, fields, rows, ignore_conflicts=...)`: ``INSERT … SELECT … FROM unnest(…)``, with ``ON
  CONFLICT DO NOTHING`` when asked;
- `update_rows(model, fields, rows)`: ``UPDATE … FROM unnest(…) WHERE pk = …``;
- `insert_rows_returning(model, fields, rows)`: `insert_rows` returning the new keys in row order;
- `create_many(model, objs)`: ``bulk_create`` of unsaved instances through `insert_rows`, keys set on them;
- `async_commit_where(*conditions)`: a WHERE clause that lets a bookkeeping statement, run as its own
  transaction, commit without waiting for the disk;
- `fetch_together(*querysets)`: several reads (a lock of orders, then of their parcels) in one round trip;
- `pipeline()`: the statements sent inside it go to the server without waiting for each other's answers
  (psycopg's pipeline mode): writes whose results nobody reads travel together, and a read waits only for what
  was sent before it; a model's ``save()``, ``QuerySet.update()`` or ``delete()`` inside is refused
  (`PipelineMisuse`: their row count would read -1).

On SQLite the same calls use Django's cursor (``executemany``, `oms.bulk.update_from_values`). Every statement
goes through Django's cursor wrapper, so ``execute_wrapper`` and the query log see it. Values are taken as the
column stores them (aware datetimes, JSON-able values for JSON fields, text without NUL): the caller prepared
them (e.g. `oms.encoding.storable`) and checked every rule; this is a writer, not a door.

Prepared statements: Django turns psycopg's off (``prepare_threshold`` None) so that a transaction-mode pooler
keeps working. Unless the database's ``OPTIONS`` name a ``prepare_threshold`` themselves (then it is left as
set: None means never), the statements here are prepared explicitly; nothing else on the connection is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from functools import lru_cache

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin

from . import bulk

# The switch `async_commit_where` puts last in a WHERE clause (docs/decisions/outbox-async-commit.md).
_ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true) IS NOT NULL"


def async_commit_where(*conditions: str) -> str:
    """``WHERE (condition) AND … AND <switch>``, for a PostgreSQL statement whose own transaction may commit without
    waiting for its WAL to reach the disk: the switch, ``set_config('synchronous_commit', 'off', true)``, turns
    the setting off for the current transaction only (always true, it filters nothing), so run in autocommit mode
    the statement's commit is asynchronous and the session keeps its setting for the next statement. Inside an
    outer transaction it would apply to that whole transaction: use it only for a statement that is its own
    transaction. A statement that matches no row never evaluates it, and has nothing to wait for either.

    Each condition is parenthesised (an ``OR`` in it cannot skip the switch). For bookkeeping only (the outbox's
    lease and outcomes, what a platform holds): a crash of the database server may forget the last fraction of a
    second of such commits, never tear or reorder them; what is lost must be something that is then done again
    safely (a row sent again), as after a worker killed mid-round. Not for SQLite (no ``set_config``)."""
    return "WHERE " + " AND ".join([*(f"({c})" for c in conditions), _ASYNC_COMMIT])


# Prepare only when told to (``prepare=True``): other server-binding cursors on the connection keep not preparing.
_EXPLICIT_ONLY = 1 << 30


class _Logged:
    __slots__ = ("query",)

    def __init__(self, query: bytes) -> None:
        self.query = query


@lru_cache(maxsize=1)
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        """Server-side binding; every statement prepared (see the module docstring)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            result = super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)
            if self._query is None:  # psycopg forgets it: Django's query log reads the statement from here
                self._query = _Logged(query.encode() if isinstance(query, str) else query)
            return result

    return PreparedCursor


@contextmanager
def cursor():
    """A cursor for the statements here: on PostgreSQL server-side binding and prepared, wrapped as Django wraps
    its own (execute wrappers, the query log); elsewhere Django's cursor."""
    if connection.vendor != "postgresql":
        with connection.cursor() as django_cursor:
            yield django_cursor
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None and "prepare_threshold" not in connection.settings_dict.get("OPTIONS", {}):
        raw.prepare_threshold = _EXPLICIT_ONLY
    wrapped = _prepared_cursor_class()(raw)
    wrapped = connection.make_debug_cursor(wrapped) if connection.queries_logged else connection.make_cursor(wrapped)
    try:
        yield wrapped
    finally:
        wrapped.close()


class PipelineMisuse(RuntimeError):
    """A statement whose caller reads its row count ran inside `pipeline()` (where the count reads -1)."""


# True while `update_rows` sends its statement: the one UPDATE a pipeline block takes (its count is not read there).
_WRITER: ContextVar[bool] = ContextVar("oms_statements_writer", default=False)
# An UPDATE or DELETE (also after a WITH …): what a model's save(), QuerySet.update() and delete() send.
_COUNTED = re.compile(r"\s*(?:WITH\s.*?\)\s*)?(?:UPDATE|DELETE)\s", re.I | re.S)


def _refuse_counted(execute, sql, params, many, context):
    """The guard of `pipeline()`: refuses an UPDATE or DELETE not sent by `update_rows` (a model's ``save()`` reads
    the count to choose between UPDATE and INSERT; ``update()`` and ``delete()`` return it), unless it has a
    ``RETURNING`` (read as rows, which the pipeline waits for)."""
    if not _WRITER.get() and isinstance(sql, str) and _COUNTED.match(sql) and "RETURNING" not in sql.upper():
        raise PipelineMisuse(
            f"{sql[:80]}…: a row count reads -1 inside statements.pipeline(); move the save()/update()/delete() "
            "out of the block or write through statements.update_rows"
        )
    return execute(sql, params, many, context)


@contextmanager
def pipeline():
    """On PostgreSQL, psycopg's pipeline mode for the statements inside: each is sent at once and its answer read
    when someone asks for it (a fetch, a ``RETURNING``, the block's end), so a run of writes costs one round trip
    and a read one more for itself and the writes before it. Any statement goes (Django's cursors too). A
    statement that fails raises at the next read or when the block ends, as the driver's error (not Django's
    wrapper; `oms.transient.is_transient` reads both); the statements queued after it are not run. Keep the
    block inside the transaction, ending before its commit, and keep out of it what reads a row count (a model's
    ``save()``, ``QuerySet.update()``: -1 until the answer is read): on every database the block refuses them
    (`PipelineMisuse`, before the statement is sent), so a test on SQLite finds one too. Elsewhere (SQLite) nothing
    else changes."""
    if _refuse_counted in connection.execute_wrappers:  # nested: the outer block guards
        guard = nullcontext()
    else:
        guard = connection.execute_wrapper(_refuse_counted)
    with guard:
        if connection.vendor != "postgresql":
            yield
            return
        connection.ensure_connection()
        with connection.connection.pipeline():
            yield


def fetch_together(*querysets) -> list[list]:
    """Evaluate the querysets in one round trip: on PostgreSQL their SQL goes as one simple query of several
    statements (Django's cursor binds on the client), which the server runs one after the other in the order given
    (locks of a ``select_for_update`` are taken in that order, as if evaluated one by one); their rows come back
    together. Returns each one's results as ``list(queryset)`` would (models, values, tuples; converters applied).
    Elsewhere (SQLite, a server-binding cursor) they are evaluated one by one. Not inside a `pipeline`."""
    if connection.vendor != "postgresql" or len(querysets) < 2:
        return [list(qs.all()) for qs in querysets]  # clones: the querysets given stay unevaluated
    compiled = []
    for qs in querysets:
        qs = qs.all()  # a clone: its query and compiler are this call's own
        compiler = qs.query.get_compiler(using=qs.db)
        compiled.append((qs, compiler, *compiler.as_sql()))  # as_sql also sets up what the iterable reads
    with connection.cursor() as django_cursor:
        import psycopg  # noqa: PLC0415 (PostgreSQL only)

        if not isinstance(django_cursor.cursor, psycopg.ClientCursor):  # server-side binding: one per statement
            return [list(qs) for qs, *_ in compiled]
        django_cursor.execute(
            ";\n".join(sql for *_, sql, _ in compiled), [p for *_, params in compiled for p in params]
        )
        results = []
        for n, (qs, compiler, _sql, _params) in enumerate(compiled):
            if n:
                django_cursor.nextset()
            rows = django_cursor.fetchall()
            # The queryset's own iterable builds its results from these rows (no statement sent again).
            compiler.execute_sql = lambda *_args, _rows=rows, **_kwargs: [_rows]
            qs.query.get_compiler = lambda *_args, _compiler=compiler, **_kwargs: _compiler
            results.append(list(qs))
    return results


def _fields(model, names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _json_columns(fields: list[models.Field]) -> list[int]:
    return [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]


def _encode_json(field: models.JSONField, value):
    return None if value is None else json.dumps(value, cls=field.encoder)


@lru_cache(maxsize=64)
def _insert_one_sql(model, names: tuple[str, ...], vendor: str) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(quote(f.column) for f in fields)
    if vendor == "postgresql":
        marks = ", ".join("%s::jsonb" if isinstance(f, models.JSONField) else "%s" for f in fields)
        pk = quote(model._meta.pk.column)
        return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    marks = ", ".join("%s" for _ in fields)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608


def insert_one(model: type[models.Model], values: dict) -> int:
    """Insert one row of ``values`` (field name -> value as stored; JSON fields take JSON-able values) in one
    statement; returns its primary key. In autocommit mode (a webhook view) that statement is the commit."""
    names = tuple(values)
    fields = _fields(model, names)
    pairs = list(zip(fields, values.values(), strict=True))
    params = [_encode_json(f, v) if isinstance(f, models.JSONField) else v for f, v in pairs]
    sql = _insert_one_sql(model, names, connection.vendor)
    with cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(sql, params)
            return c.fetchone()[0]
        c.execute(sql, [f.get_db_prep_save(v, connection) for f, v in pairs])
        return c.lastrowid


def _array_type(field: models.Field) -> str:
    if isinstance(field, models.JSONField):
        return "text[]"  # cast to jsonb per value in the SELECT list
    return f"{bulk.cast_type(field)}[]"


@lru_cache(maxsize=64)
def _insert_rows_sql(model, names: tuple[str, ...], ignore_conflicts: bool, returning: bool = False) -> str:
    quote = connection.ops.quote_name
    fields = _fields(model, names)
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%b::{_array_type(f)}" for f in fields)
    aliases = [f"c{i}" for i in range(len(fields))]
    selects = ", ".join(
        f"v.{a}::jsonb" if isinstance(f, models.JSONField) else f"v.{a}" for f, a in zip(fields, aliases, strict=True)
    )
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:  # in the order of the arrays (what Django's own UNNEST bulk_create relies on too)
        tail += f" RETURNING {quote(model._meta.pk.column)}"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT {selects} FROM unnest({arrays}) AS v({', '.join(aliases)}){tail}"
    )


def _columns(fields: list[models.Field], rows: Sequence[Sequence]) -> list[list]:
    """Rows -> one list per column, JSON encoded where the column is JSON."""
    columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in fields]
    for i in _json_columns(fields):
        columns[i] = [_encode_json(fields[i], v) for v in columns[i]]
    return columns


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence], *, ignore_conflicts: bool = False
) -> int:
    """Insert ``rows`` (one value per field of ``fields``) in one statement; a row that clashes with a unique
    constraint is skipped when ``ignore_conflicts`` (``ON CONFLICT DO NOTHING``; SQLite: ``INSERT OR IGNORE``).
    Returns the number of rows inserted (-1 inside `pipeline`: not known yet)."""
    if not rows:
        return 0
    names = tuple(fields)
    model_fields = _fields(model, names)
    if connection.vendor == "postgresql":
        with cursor() as c:
            c.execute(_insert_rows_sql(model, names, ignore_conflicts), _columns(model_fields, rows))
            return c.rowcount
    head, mark = _sqlite_insert(model, model_fields, "INSERT OR IGNORE" if ignore_conflicts else "INSERT")
    inserted = 0
    with connection.cursor() as c:
        for part in _sqlite_parts(model_fields, rows):
            before = connection.connection.total_changes
            c.execute(head + ", ".join([mark] * len(part)), _sqlite_params(model_fields, part))
            inserted += connection.connection.total_changes - before
    return inserted


def _sqlite_insert(model, model_fields: list[models.Field], verb: str) -> tuple[str, str]:
    """(``<verb> INTO table (columns) VALUES ``, one row's ``(%s, …)``) for Django's cursor."""
    quote = connection.ops.quote_name
    head = f"{verb} INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in model_fields)}) VALUES "
    return head, "(" + ", ".join("%s" for _ in model_fields) + ")"


def _sqlite_parts(model_fields: list[models.Field], rows: Sequence[Sequence]):
    """``rows`` in parts small enough for one statement's parameters."""
    per_statement = max(1, (connection.features.max_query_params or 999) // len(model_fields))
    for start in range(0, len(rows), per_statement):
        yield rows[start : start + per_statement]


def _sqlite_params(model_fields: list[models.Field], rows: Sequence[Sequence]) -> list:
    return [f.get_db_prep_save(v, connection) for row in rows for f, v in zip(model_fields, row, strict=True)]


def insert_rows_returning(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> list:
    """`insert_rows` returning the new rows' keys, in the order of ``rows``: a batch that needs the keys of a few
    of its rows without building a model for each. PostgreSQL: one statement, ``RETURNING`` in the order of the
    arrays. SQLite: one ``INSERT … RETURNING`` per part of ``rows``; its keys come out in no promised order, but
    an auto-incremented key grows row by row in the order the rows are inserted, so sorted they are in the
    order of ``rows``. Keys named in ``fields`` are returned as given; any other key (or a SQLite without
    ``RETURNING``) costs one statement per row."""
    if not rows:
        return []
    names = tuple(fields)
    model_fields = _fields(model, names)
    if connection.vendor == "postgresql":
        with cursor() as c:
            c.execute(_insert_rows_sql(model, names, False, True), _columns(model_fields, rows))
            return [pk for (pk,) in c.fetchall()]
    pk = model._meta.pk
    if pk in model_fields:
        at = model_fields.index(pk)
        insert_rows(model, names, rows)
        return [row[at] for row in rows]
    head, mark = _sqlite_insert(model, model_fields, "INSERT")
    returning = f" RETURNING {connection.ops.quote_name(pk.column)}"
    keys: list = []
    with connection.cursor() as c:
        if connection.features.can_return_columns_from_insert and isinstance(pk, AutoFieldMixin):
            for part in _sqlite_parts(model_fields, rows):
                c.execute(head + ", ".join([mark] * len(part)) + returning, _sqlite_params(model_fields, part))
                keys.extend(sorted(key for (key,) in c.fetchall()))
            return keys
        for row in rows:
            if connection.features.can_return_columns_from_insert:
                c.execute(head + mark + returning, _sqlite_params(model_fields, [row]))
                keys.append(c.fetchone()[0])
            else:
                c.execute(head + mark, _sqlite_params(model_fields, [row]))
                keys.append(c.lastrowid)
    return keys


@lru_cache(maxsize=64)
def _update_rows_sql(model, names: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    meta = model._meta
    fields = _fields(model, names)
    table = quote(meta.db_table)
    aliases = [f"c{i}" for i in range(len(fields))]
    arrays = ", ".join([f"%b::{_array_type(meta.pk)}", *(f"%b::{_array_type(f)}" for f in fields)])
    sets = ", ".join(
        f"{quote(f.column)} = v.{a}{'::jsonb' if isinstance(f, models.JSONField) else ''}"
        for f, a in zip(fields, aliases, strict=True)
    )
    return (
        f"UPDATE {table} SET {sets} FROM unnest({arrays}) AS v(k, {', '.join(aliases)}) "  # noqa: S608
        f"WHERE {table}.{quote(meta.pk.column)} = v.k"
    )


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """``rows`` are ``(pk, value per field of fields)``: set those fields of those rows in one statement (on
    SQLite `oms.bulk.update_from_values`). Returns the number of rows updated (-1 inside `pipeline`)."""
    if not rows:
        return 0
    token = _WRITER.set(True)  # the one UPDATE `pipeline()` lets through
    try:
        if connection.vendor != "postgresql":
            return bulk.update_from_values(model, fields, rows)
        names = tuple(fields)
        model_fields = _fields(model, names)
        keys = [row[0] for row in rows]
        columns = _columns(model_fields, [row[1:] for row in rows])
        with cursor() as c:
            c.execute(_update_rows_sql(model, names), [keys, *columns])
            return c.rowcount
    finally:
        _WRITER.reset(token)


def create_many(model: type[models.Model], objs: list, *, ignore_conflicts: bool = False) -> list:
    """``model.objects.bulk_create(objs)`` for the spine's batches: every concrete field of the unsaved ``objs``
    as its ``pre_save`` gives it (``auto_now_add`` filled), in one `insert_rows` statement; on PostgreSQL the
    new keys are set on ``objs`` (unless ``ignore_conflicts``, as with ``bulk_create``). No signals, as with
    ``bulk_create``. On SQLite it is ``bulk_create``. Returns ``objs``."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objs, ignore_conflicts=ignore_conflicts)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = tuple(f.name for f in fields)
    rows = [[f.pre_save(obj, True) for f in fields] for obj in objs]
    sql = _insert_rows_sql(model, names, ignore_conflicts, not ignore_conflicts)
    with cursor() as c:
        c.execute(sql, _columns(fields, rows))
        if not ignore_conflicts:
            for obj, (pk,) in zip(objs, c.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias
    return objs
