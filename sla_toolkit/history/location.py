"""Where the ledger is: the URL from the environment or ``<out>/history.sqlite``, checked before a run.

Imports SQLAlchemy only to parse a URL given in the environment, so that ``sla-toolkit pace`` can find
and check a local ledger without it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..dburl import ambiguous_password, ambiguous_password_message, masked_url
from ..filecheck import os_reason
from .vocabulary import HistoryError

HISTORY_ENV = "SLA_HISTORY_URL"
HISTORY_FILE = "history.sqlite"


@dataclass(frozen=True)
class HistoryLocation:
    """A ledger's SQLAlchemy URL and a label safe to print (the URL may hold a password: never shown)."""

    url: str = field(repr=False)
    label: str
    sqlite_path: Path | None = None


def _masked(url: str) -> str:
    return masked_url(url)


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(path: Path) -> None:
    """Refuse a ledger file that is not a SQLite database (exit 2) before any run starts."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise HistoryError(f"history database {path}: {os_reason(exc)}") from None
    if header and header != SQLITE_HEADER:
        raise HistoryError(f"history database {path} is not a SQLite database (the file is damaged or something "
                           "else); move it aside to start a new ledger, or point --out or SLA_HISTORY_URL elsewhere")


def history_location(out: Path | str, env_var: str | None = None) -> HistoryLocation:
    """The URL in ``$SLA_HISTORY_URL`` (or in ``env_var`` when named), else ``<out>/history.sqlite``.

    A variable named explicitly must be set: silently falling back to a local file would split the
    team's ledger without anyone noticing.
    """
    name = env_var or HISTORY_ENV
    url = os.environ.get(name, "").strip()
    if url:
        if ambiguous_password(url):
            raise HistoryError(f"history database: {ambiguous_password_message(name)}")
        import sqlalchemy as sa   # only for a URL from the environment: a local file needs no SQLAlchemy

        try:
            port = sa.make_url(url).port
        except (sa.exc.ArgumentError, ValueError):
            raise HistoryError(f"environment variable {name} does not hold a database URL; expected e.g. "
                               "postgresql+psycopg://user@host/db or sqlite:////path/history.sqlite") from None
        if port is not None and not 0 < port < 65536:
            raise HistoryError(f"history database {_masked(url)} (from ${name}): port {port} is not a valid port "
                               "number (1-65535)")
        return HistoryLocation(url, f"{_masked(url)} (from ${name})")
    if env_var:
        raise HistoryError(f"environment variable {env_var} (named by --history-env) is not set; set it to the "
                           "history database URL, or drop --history-env to use <out>/history.sqlite")
    path = Path(out).resolve() / HISTORY_FILE
    return HistoryLocation(f"sqlite:///{path}", str(path), path)
