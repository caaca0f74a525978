"""Which database errors are worth trying again: the typed transient ones.

A task (oms.background.OmsTask) retries these with backoff; anything else is a real failure that a
person must see. Django wraps the driver's error (``__cause__``), so the driver's own type and
SQLSTATE decide, never the message text alone.
"""

import sqlite3

import psycopg
from django.db import InterfaceError, OperationalError

# SQLSTATE classes and codes that pass by themselves: 40 transaction rollback (serialization
# failure, deadlock), 08 connection exception, 57P01-57P03 the server shutting down or starting,
# 53300 too many connections, 55P03 lock not available (NOWAIT).
TRANSIENT_SQLSTATE_CLASSES = ("40", "08")
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300", "55P03"})
# SQLite's busy errors (another process holds the write lock); only these OperationalErrors.
SQLITE_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_transient(exc: BaseException) -> bool:
    """True for an error that the same work, tried again a little later, may not meet."""
    for err in _chain(exc):
        if isinstance(err, sqlite3.OperationalError):
            return any(word in str(err).lower() for word in SQLITE_BUSY_WORDS)
        sqlstate = getattr(err, "sqlstate", None)
        if sqlstate is not None or type(err).__module__.startswith("psycopg"):
            if sqlstate is None:
                # psycopg's OperationalError without a SQLSTATE: the connection failed or was lost.
                return isinstance(err, psycopg.OperationalError)
            return sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
    # Django's own wrappers with no driver error behind them: a connection already closed.
    return isinstance(exc, InterfaceError) or (
        isinstance(exc, OperationalError) and "connection" in str(exc).lower() and "closed" in str(exc).lower()
    )
