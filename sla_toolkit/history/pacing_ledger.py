"""Record a ``pace`` run in the ledger; on a local SQLite ledger, without importing SQLAlchemy.

The daily ``sla-toolkit pace`` should answer in under two seconds, and SQLAlchemy's import alone costs a
fresh process about 0.4 s. So when the ledger is a SQLite file that already holds this version's schema,
the run is written with the standard library's ``sqlite3``, exactly as
:class:`~sla_toolkit.history.store.History` writes it: the same two transactions (the run ``started``,
then ``completed`` with its one check), the same rows and stored values, the same SQLite settings
(``BEGIN IMMEDIATE``, foreign keys on, a 30 s busy timeout). ``tests/unit/test_pace_history.py`` checks
that both ways leave equal ledgers. Everything else (a ledger not created yet, an older or newer schema,
a database URL, a path SQLAlchemy would read differently) goes through :class:`History`, whose
:meth:`History.at` also refuses bad ledger settings before the run, as it always did.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from .location import HistoryLocation, _check_sqlite_file, history_location
from .rows import CHECK_FIELDS, check_rows, results_as_of
from .vocabulary import SCHEMA_VERSION, HistoryError, RunKind, RunStatus

SQLITE_BUSY_TIMEOUT_S = 30   # as history.schema's engine
TABLES = frozenset({"schema_version", "runs", "checks", "findings", "proposals", "run_inputs"})


def _stored(value: dt.datetime | None) -> str | None:
    """A naive datetime as SQLAlchemy's SQLite ``DateTime`` stores it (microseconds always written)."""
    return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _error_text(exc: sqlite3.Error) -> str:
    """The first line SQLAlchemy would give the same error: ``(sqlite3.OperationalError) database is locked``."""
    return f"({type(exc).__module__}.{type(exc).__name__}) {exc}"


class PacingLedger:
    """Where ``pace`` records its run; :meth:`at` checks the settings before the run, :meth:`record` after it."""

    def __init__(self, location: HistoryLocation, history=None):
        self.location = location
        self.history = history   # a History when SQLAlchemy is needed from the start

    @classmethod
    def at(cls, out: Path | str, env_var: str | None = None) -> PacingLedger:
        """The ledger :meth:`History.at` would open, refused (exit 2) on the same bad settings."""
        location = history_location(out, env_var)
        if location.sqlite_path is None or not _plain_sqlite(location):
            from .store import History

            return cls(location, History.at(out, env_var))
        if location.sqlite_path.is_file():
            _check_sqlite_file(location.sqlite_path)
        return cls(location)

    def record(self, run, warn: Callable[[str], None]) -> None:
        """Record a ``pace`` run (kind ``pacing``, one check); a ledger that cannot be written only warns."""
        from .trend import pacing_results, record_pacing

        if self.history is None:
            results = pacing_results(run)
            try:
                if _record_in_sqlite(self.location.sqlite_path, run.spec.name, run.spec.slug, results):
                    return
            except (sqlite3.Error, HistoryError) as exc:
                text = _error_text(exc) if isinstance(exc, sqlite3.Error) else str(exc)
                warn(f"the pace run was not recorded in {self.location.label}: {text}")
                return
            from .store import History

            self.history = History(self.location)
        with self.history:
            record_pacing(self.history, run, warn)


def _plain_sqlite(location: HistoryLocation) -> bool:
    """A file path SQLAlchemy's URL parser leaves as it is (no query string, no escapes)."""
    return not any(character in location.url for character in "?#%")


def _schema_is_current(connection: sqlite3.Connection) -> bool:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not TABLES <= tables:
        return False
    return connection.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def _record_in_sqlite(path: Path, sla_name: str, sla_slug: str | None, results: dict[str, Any]) -> bool:
    """Write the run as History.start_run + History.complete_run would; ``False`` (nothing written) when the
    file is missing or its schema is not this version's, so that History creates or upgrades it."""
    if not path.is_file():
        return False
    try:
        connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error:
        return False
    try:
        try:
            connection.execute("PRAGMA foreign_keys = ON")
            if not _schema_is_current(connection):
                return False
        except sqlite3.Error:
            return False   # History tries, and words any failure as it always did
        run_id = uuid.uuid4().hex
        with _transaction(connection):
            connection.execute(
                "INSERT INTO runs (run_id, sla_name, sla_slug, cycle_id, kind, status, started_at, as_of, run_dir) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (run_id, sla_name, sla_slug or sla_name, results["cycle_id"], RunKind.PACING.value,
                 RunStatus.STARTED.value, _stored(_utc_now())))
        with _transaction(connection):
            updated = connection.execute(
                "UPDATE runs SET finished_at = ?, status = ?, as_of = ?, run_dir = NULL, error = NULL "
                "WHERE run_id = ? AND status = ?",
                (_stored(_utc_now()), RunStatus.COMPLETED.value, _stored(results_as_of(results)), run_id,
                 RunStatus.STARTED.value))
            if updated.rowcount != 1:
                found = connection.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                raise HistoryError(f"run {run_id} cannot be finished: it is "
                                   f"{'not in the history' if found is None else repr(found[0])}, not 'started'")
            for table in ("checks", "findings", "proposals"):
                connection.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            rows = check_rows(results)
            if rows:
                connection.executemany(
                    f"INSERT INTO checks (run_id, {', '.join(CHECK_FIELDS)}) "
                    f"VALUES (?, {', '.join('?' for _ in CHECK_FIELDS)})",
                    [(run_id, *(row[field] for field in CHECK_FIELDS)) for row in rows])
        return True
    finally:
        connection.close()


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error (as the SQLAlchemy engine's transactions)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
