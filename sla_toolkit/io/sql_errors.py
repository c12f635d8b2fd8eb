"""SQL sources: time limits for connecting and querying, and messages that say what went wrong.

The URL comes from an environment variable and may hold a password, so no message quotes it; the
database's own words are shown only for a missing table (they name the table, nothing else).
"""
from __future__ import annotations

import math
import time
from typing import Any

_TIMEOUT = ("statement timeout", "canceling statement", "interrupted", "timeout expired", "timed out",
            "lock wait timeout", "query execution was interrupted")
_AUTH = ("password authentication failed", "authentication failed", "access denied", "no password supplied",
         "role \"", "pg_hba.conf")
_MISSING_TABLE = ("no such table", "does not exist", "doesn't exist", "unknown table", "invalid object name")
_CONNECT = ("could not connect", "connection refused", "could not translate host", "name or service not known",
            "unable to open database", "server closed the connection", "connection to server")


def connect_arguments(backend: str, timeout_s: float) -> dict[str, Any]:
    """Driver arguments that bound connecting and each statement to ``timeout_s`` where the driver can."""
    seconds = max(1, math.ceil(timeout_s))
    if backend == "postgresql":
        return {"connect_timeout": seconds, "options": f"-c statement_timeout={int(timeout_s * 1000)}"}
    if backend in ("mysql", "mariadb"):
        return {"connect_timeout": seconds, "read_timeout": seconds}
    if backend == "sqlite":
        return {"timeout": timeout_s}
    return {}


def sqlite_deadline(timeout_s: float):
    """A ``connect`` event handler that interrupts a SQLite statement running past ``timeout_s``."""
    def on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001 - SQLAlchemy's event signature
        deadline = time.monotonic() + timeout_s
        dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    return on_connect


def describe_failure(exc: BaseException, timeout_s: float, secret: str | None) -> str:
    """What went wrong, in words, from a driver or SQLAlchemy exception; ``secret`` is never shown."""
    original = exc
    while original.__cause__ is not None or getattr(original, "orig", None) is not None:
        original = getattr(original, "orig", None) or original.__cause__   # pandas and SQLAlchemy wrap the driver's
    text = str(original).strip()
    lowered = text.lower()
    code = str(getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "")
    if code == "57014" or any(word in lowered for word in _TIMEOUT):
        return f"the query did not finish within {timeout_s:g} s (sql.timeout_s)"
    if code.startswith("28") or any(word in lowered for word in _AUTH):
        return "the database refused the login (authentication failed: check the user and password in the URL)"
    if code == "42P01" or any(word in lowered for word in _MISSING_TABLE):
        first = text.splitlines()[0] if text else ""
        if secret:
            first = first.replace(secret, "***")
        return f"a table in the query does not exist ({first})"
    if any(word in lowered for word in _CONNECT):
        return f"cannot connect to the database (within {timeout_s:g} s)"
    return f"the query failed ({type(original).__name__})"
