"""The ledger's tables, its engine and the schema version (SQLAlchemy Core, no ORM).

Times are stored as naive UTC (``started_at``, ``finished_at``); ``as_of`` is the analysis cut-off exactly
as the run used it (naive, in the data's own clock, like every timestamp of the lead table).
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .vocabulary import SCHEMA_VERSION, HistoryError, RunKind, RunStatus

SQLITE_BUSY_TIMEOUT_S = 30      # parallel cycles on one machine share the file; writes are short
POSTGRES_CONNECT_TIMEOUT_S = 10  # a scheduled run must not hang on an unreachable ledger
__all__ = ["HistoryError", "RunKind", "RunStatus", "SCHEMA_VERSION", "checks", "ensure_schema", "findings",
           "make_engine", "metadata", "proposals", "run_inputs", "runs", "schema_version", "utc_now"]


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("sla_name", sa.String(300), nullable=False),
    sa.Column("sla_slug", sa.String(300), nullable=False),  # the report folder name, accepted wherever a name is
    sa.Column("cycle_id", sa.String(300), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("as_of", sa.DateTime),
    sa.Column("run_dir", sa.Text),
    sa.Column("error", sa.Text),
    sa.CheckConstraint("kind IN ('cycle', 'pacing')", name="runs_kind"),
    sa.CheckConstraint("status IN ('started', 'completed', 'failed')", name="runs_status"),
    sa.Index("runs_by_sla_cycle", "sla_name", "cycle_id"),
)


def _run_reference() -> sa.Column:
    return sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False,
                     index=True)


checks = sa.Table(
    "checks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # keeps the report's order
    _run_reference(),
    sa.Column("name", sa.String(300), nullable=False),
    sa.Column("label", sa.String(300)),
    sa.Column("target", sa.Double),
    sa.Column("direction", sa.String(16)),
    sa.Column("estimate", sa.Double),
    sa.Column("low", sa.Double),
    sa.Column("high", sa.Double),
    sa.Column("n", sa.BigInteger),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _run_reference(),
    sa.Column("topic", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("rule", sa.String(100)),
    sa.Column("sentence", sa.Text, nullable=False),
    sa.Column("estimate", sa.Double),
    sa.Column("low", sa.Double),
    sa.Column("high", sa.Double),
    sa.Column("p_value", sa.Double),
    sa.Column("q_value", sa.Double),
    sa.Column("n", sa.BigInteger),
    sa.Column("impact", sa.Double),   # expected customers gained (+) or lost (-), Finding.impact_customers
)

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("run_id", sa.String(32), sa.ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("yaml", sa.Text, nullable=False),
)

# The files a run read, as it read them (one row per file; none for SQL and hook sources).
run_inputs = sa.Table(
    "run_inputs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _run_reference(),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("mtime", sa.String(40), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)


def utc_now() -> dt.datetime:
    """Now, as naive UTC (the ledger's clock for started_at / finished_at)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _sqlite_transactions_for_real(engine: Engine) -> None:
    """Make ``engine.begin()`` a real SQLite transaction, DDL included.

    Python's sqlite3 module opens a transaction only before DML and never before DDL; here it is told
    to stay out of the way and every SQLAlchemy transaction starts with ``BEGIN IMMEDIATE``, which also
    takes the write lock at once so two processes cannot both read and then fail to upgrade.
    """
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL through psycopg 3); no connection is made yet."""
    backend = sa.make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        _sqlite_transactions_for_real(engine)
        return engine
    if backend == "postgresql":
        return sa.create_engine(url, connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S},
                                pool_pre_ping=True)
    return sa.create_engine(url)


def _upgrade(connection) -> None:
    """Bring a version-1 ledger to version 2: add ``checks.label`` (older rows keep it empty)."""
    columns = {c["name"] for c in sa.inspect(connection).get_columns("checks")}
    if "label" not in columns:
        connection.execute(sa.text("ALTER TABLE checks ADD COLUMN label VARCHAR(300)"))


def ensure_schema(engine: Engine) -> int:
    """Create the tables if missing and record the schema version; return the version found or written.

    Idempotent. Two processes creating the schema at the same moment on PostgreSQL can collide; the loser
    retries once and then finds the tables in place.
    """
    for attempt in (1, 2):
        try:
            with engine.begin() as connection:
                metadata.create_all(connection, checkfirst=True)
                found = connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
                if found is not None and found < SCHEMA_VERSION:
                    _upgrade(connection)
                if found is None or found < SCHEMA_VERSION:
                    connection.execute(schema_version.insert().values(version=SCHEMA_VERSION, applied_at=utc_now()))
                    found = SCHEMA_VERSION
            break
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
            if attempt == 2:
                raise
    if found > SCHEMA_VERSION:
        raise HistoryError(f"the history database has schema version {found}, newer than this sla_toolkit "
                           f"understands ({SCHEMA_VERSION}); upgrade sla_toolkit before writing to it")
    return found
