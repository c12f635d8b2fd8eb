"""Notifications in the history ledger: one row per channel and message, sent or failed.

The table has its own SQLAlchemy metadata (created on first use beside the ledger's tables), so the
ledger's schema version and its run tables stay as they are.
"""
from __future__ import annotations

import uuid

import pandas as pd
import sqlalchemy as sa

from ..history import History
from ..history.schema import utc_now

metadata = sa.MetaData()

notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("sent_at", sa.DateTime, nullable=False),
    sa.Column("sla_name", sa.String(300), nullable=False),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("rules", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("detail", sa.Text),
    sa.CheckConstraint("status IN ('sent', 'failed')", name="notifications_status"),
)


def record_delivery(history: History, row: dict) -> None:
    """Insert one delivery row (``sla_name, command, rules, channel, status, attempts, detail``)."""
    with history.engine.begin() as connection:
        metadata.create_all(connection, checkfirst=True)
        connection.execute(notifications.insert().values(id=uuid.uuid4().hex, sent_at=utc_now(), **row))


def list_deliveries(history: History) -> pd.DataFrame:
    """Every recorded delivery, oldest first (empty when none was ever recorded)."""
    with history.engine.begin() as connection:
        metadata.create_all(connection, checkfirst=True)
        rows = connection.execute(sa.select(notifications).order_by(notifications.c.sent_at)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in notifications.columns])
