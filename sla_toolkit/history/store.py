"""Where the ledger lives and how runs are written to and read from it.

Every write is one transaction: a run is inserted as ``started``; ``complete_run`` (status, checks,
findings and proposal together) or ``fail_run`` (status and error text) then finish it. A write that
fails half-way leaves nothing of itself behind.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Mapping, Sequence

import pandas as pd
import sqlalchemy as sa

from ..results import ResultMixin
from . import schema
from .compare import CycleComparison, compare_rows
from .location import (HISTORY_ENV, HISTORY_FILE, SQLITE_HEADER, HistoryLocation,  # noqa: F401 (re-exported)
                       _check_sqlite_file, _masked, history_location)
from .rows import CHECK_FIELDS, FINDING_FIELDS, check_rows, finding_rows, results_as_of
from .schema import HistoryError, RunKind, RunStatus

RUN_COLUMNS = ("run_id", "sla_name", "sla_slug", "cycle_id", "kind", "status", "started_at", "finished_at",
               "as_of", "run_dir", "error")


class HistoryUnavailableError(HistoryError):
    """The history database could not be reached or read (exit code 1: the environment, not the input)."""

    exit_code = 1


@dataclass(frozen=True)
class RunRecord(ResultMixin):
    """One row of ``runs``."""

    run_id: str
    sla_name: str
    sla_slug: str
    cycle_id: str
    kind: RunKind
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None
    as_of: dt.datetime | None
    run_dir: str | None
    error: str | None

    title = "history run"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


# -- the ledger -------------------------------------------------------------------------------------------
class History:
    """The cycle ledger behind one SQLAlchemy URL.

    Examples
    --------
    >>> with History.at("reports") as history:          # doctest: +SKIP
    ...     history.list_runs()
    ...     history.compare_cycles("Q1 2025 demand generation", "2025-02-28", "2025-03-23")
    """

    def __init__(self, location: HistoryLocation | str):
        try:
            if not isinstance(location, HistoryLocation):
                location = HistoryLocation(location, _masked(location))
            self.location = location
            self.engine = schema.make_engine(location.url)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            # an ArgumentError's text may quote the URL, password included: name the type only
            quotes_url = isinstance(exc, sa.exc.ArgumentError) and not isinstance(exc, sa.exc.NoSuchModuleError)
            detail = type(exc).__name__ if quotes_url else f"{type(exc).__name__}: {exc}"
            shown = location.label if isinstance(location, HistoryLocation) else "(the URL given)"
            raise HistoryError(f"history database {shown}: cannot use this URL ({detail}); PostgreSQL needs "
                               "`pip install 'sla_toolkit[postgres]'` and a postgresql+psycopg:// URL") from None
        self._schema_ready = False

    @classmethod
    def at(cls, out: Path | str, env_var: str | None = None, *, must_exist: bool = False) -> History:
        """Open the ledger :func:`history_location` finds; ``must_exist`` refuses a missing SQLite file."""
        location = history_location(out, env_var)
        if location.sqlite_path is not None:
            if location.sqlite_path.is_file():
                _check_sqlite_file(location.sqlite_path)
            if must_exist and not location.sqlite_path.exists():
                raise HistoryError(f"no history at {location.label}: `sla-toolkit run --out {out}` records runs "
                                   f"there (or set {HISTORY_ENV} to a shared database)")
        return cls(location)

    def __enter__(self) -> History:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def _begin(self):
        """A write or read transaction on a schema known to exist."""
        if not self._schema_ready:
            if self.location.sqlite_path is not None:
                self.location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            schema.ensure_schema(self.engine)
            self._schema_ready = True
        return self.engine.begin()

    # -- writes ---------------------------------------------------------------------------------------
    def start_run(self, sla_name: str, cycle_id: str, *, sla_slug: str | None = None,
                  kind: RunKind = RunKind.CYCLE, as_of: dt.datetime | None = None,
                  run_dir: Path | str | None = None) -> str:
        """Record a run as ``started`` (before its notebooks execute); return its new ``run_id``.

        ``run_dir`` is where its report will go: the key by which a later run of the same cycle, or
        ``history --repair``, finds it if this run dies.
        """
        run_id = uuid.uuid4().hex
        with self._begin() as connection:
            connection.execute(schema.runs.insert().values(
                run_id=run_id, sla_name=sla_name, sla_slug=sla_slug or sla_name, cycle_id=cycle_id,
                kind=RunKind(kind).value, status=RunStatus.STARTED.value, started_at=schema.utc_now(),
                as_of=as_of, run_dir=None if run_dir is None else str(run_dir)))
        return run_id

    def _finish(self, connection: sa.Connection, run_id: str, **values: Any) -> None:
        """Move a ``started`` run to its final status, inside the caller's transaction."""
        updated = connection.execute(
            schema.runs.update()
            .where(schema.runs.c.run_id == run_id, schema.runs.c.status == RunStatus.STARTED.value)
            .values(finished_at=schema.utc_now(), **values))
        if updated.rowcount != 1:
            found = connection.execute(sa.select(schema.runs.c.status).where(schema.runs.c.run_id == run_id)).scalar()
            raise HistoryError(f"run {run_id} cannot be finished: it is "
                               f"{'not in the history' if found is None else repr(found)}, not 'started'")
        for table in (schema.checks, schema.findings, schema.proposals):  # a finished run owns only its own rows
            connection.execute(table.delete().where(table.c.run_id == run_id))

    def complete_run(self, run_id: str, results: Mapping[str, Any], run_dir: Path | str | None = None,
                     inputs: Sequence[Any] = ()) -> None:
        """Record a run as ``completed`` with its checks, findings and proposal (``results`` = results.json)
        and the fingerprints of the files it read (``InputFingerprint``: path, size, mtime, sha256)."""
        proposal = (results.get("next_cycle") or {}).get("yaml")
        with self._begin() as connection:
            if inputs:
                connection.execute(schema.run_inputs.insert(), [
                    {"run_id": run_id, "path": f.path, "size_bytes": f.size, "mtime": f.mtime, "sha256": f.sha256}
                    for f in inputs])
            self._finish(connection, run_id, status=RunStatus.COMPLETED.value, as_of=results_as_of(results),
                         run_dir=None if run_dir is None else str(run_dir), error=None)
            rows = check_rows(results)
            if rows:
                connection.execute(schema.checks.insert(), [{"run_id": run_id, **row} for row in rows])
            rows = finding_rows(results)
            if rows:
                connection.execute(schema.findings.insert(), [{"run_id": run_id, **row} for row in rows])
            if proposal:
                connection.execute(schema.proposals.insert().values(run_id=run_id, yaml=proposal))

    def fail_run(self, run_id: str, error: str, run_dir: Path | str | None = None) -> None:
        """Record a run as ``failed`` with the error text (and the ``.failed-`` folder, when there is one)."""
        with self._begin() as connection:
            self._finish(connection, run_id, status=RunStatus.FAILED.value, error=error,
                         run_dir=None if run_dir is None else str(run_dir))

    def started_runs(self, run_dir: Path | str | None = None) -> list[dict[str, Any]]:
        """Runs still ``started`` (optionally only those whose report goes to ``run_dir``), oldest first."""
        statement = sa.select(*(schema.runs.c[name] for name in RUN_COLUMNS)).where(
            schema.runs.c.status == RunStatus.STARTED.value).order_by(schema.runs.c.started_at)
        if run_dir is not None:
            statement = statement.where(schema.runs.c.run_dir == str(run_dir))
        return self._read(statement)

    # -- reads ----------------------------------------------------------------------------------------
    def _read(self, statement: sa.Select) -> list[dict[str, Any]]:
        try:
            with self._begin() as connection:
                return [dict(row) for row in connection.execute(statement).mappings()]
        except sa.exc.OperationalError as exc:
            raise HistoryUnavailableError(f"history database {self.location.label} could not be read: "
                                          f"{str(exc.orig).strip().splitlines()[0]}") from None

    def _sla_filter(self, sla_name: str) -> sa.ColumnElement[bool]:
        return sa.or_(schema.runs.c.sla_name == sla_name, schema.runs.c.sla_slug == sla_name)

    def sla_names(self) -> list[str]:
        rows = self._read(sa.select(schema.runs.c.sla_name).distinct().order_by(schema.runs.c.sla_name))
        return [row["sla_name"] for row in rows]

    def _unknown_sla(self, sla_name: str) -> HistoryError:
        known = self.sla_names()
        return HistoryError(f"SLA {sla_name!r} has no runs in the history at {self.location.label}; "
                            f"SLAs recorded: {known or '(none yet)'}")

    def list_runs(self, sla_name: str | None = None) -> pd.DataFrame:
        """Every run (oldest first), optionally of one SLA (its name or its report folder name)."""
        statement = sa.select(*(schema.runs.c[name] for name in RUN_COLUMNS)).order_by(
            schema.runs.c.started_at, schema.runs.c.run_id)
        if sla_name is not None:
            statement = statement.where(self._sla_filter(sla_name))
        rows = self._read(statement)
        if sla_name is not None and not rows:
            raise self._unknown_sla(sla_name)
        frame = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
        for column in ("started_at", "finished_at", "as_of"):
            frame[column] = pd.to_datetime(frame[column])
        return frame

    def _completed_runs(self, sla_name: str) -> list[RunRecord]:
        rows = self._read(sa.select(*(schema.runs.c[name] for name in RUN_COLUMNS)).where(
            self._sla_filter(sla_name), schema.runs.c.status == RunStatus.COMPLETED.value))
        return [RunRecord(**{**row, "kind": RunKind(row["kind"]), "status": RunStatus(row["status"])})
                for row in rows]

    def latest_completed_run(self, sla_name: str, cycle_id: str) -> RunRecord:
        """The last completed run of one cycle (a re-run replaces the report, so it is the one compared)."""
        completed = self._completed_runs(sla_name)
        if not completed and not self._read(sa.select(schema.runs.c.run_id).where(self._sla_filter(sla_name))
                                            .limit(1)):
            raise self._unknown_sla(sla_name)
        of_cycle = [r for r in completed if r.cycle_id == cycle_id]
        if not of_cycle:
            cycles = sorted({r.cycle_id for r in completed})
            raise HistoryError(f"cycle {cycle_id!r} of {sla_name!r} has no completed run in the history; "
                               f"completed cycles: {cycles or '(none yet)'}")
        return max(of_cycle, key=lambda r: (r.finished_at, r.run_id))

    def previous_completed_run(self, sla_name: str, before_cycle: str) -> RunRecord | None:
        """The completed run of the cycle before ``before_cycle``, by analysis cut-off (``as_of``).

        The latest completed run of another cycle whose ``as_of`` is earlier than ``before_cycle``'s; when
        ``before_cycle`` has not completed yet (a cycle in progress), the latest completed run of any other
        cycle. ``None`` when there is none (the first cycle of an SLA).
        """
        completed = self._completed_runs(sla_name)
        own = [r.as_of for r in completed if r.cycle_id == before_cycle and r.as_of is not None]
        candidates = [r for r in completed if r.cycle_id != before_cycle and r.as_of is not None
                      and (not own or r.as_of < max(own))]
        return max(candidates, key=lambda r: (r.as_of, r.finished_at, r.run_id)) if candidates else None

    def run_rows(self, run_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The checks and the findings recorded for one run, in the report's order."""
        checks = self._read(sa.select(*(schema.checks.c[f] for f in CHECK_FIELDS))
                            .where(schema.checks.c.run_id == run_id).order_by(schema.checks.c.id))
        found = self._read(sa.select(*(schema.findings.c[f] for f in FINDING_FIELDS))
                           .where(schema.findings.c.run_id == run_id).order_by(schema.findings.c.id))
        return checks, found

    def proposal(self, run_id: str) -> str | None:
        rows = self._read(sa.select(schema.proposals.c.yaml).where(schema.proposals.c.run_id == run_id))
        return rows[0]["yaml"] if rows else None

    def compare_cycles(self, sla_name: str, cycle_a: str, cycle_b: str) -> CycleComparison:
        """Did cycle A's adjustments pay off in cycle B? Checks side by side and A's adjust findings followed up."""
        run_a = self.latest_completed_run(sla_name, cycle_a)
        run_b = self.latest_completed_run(sla_name, cycle_b)
        checks_a, findings_a = self.run_rows(run_a.run_id)
        checks_b, findings_b = self.run_rows(run_b.run_id)
        return compare_rows(checks_a, checks_b, findings_a, findings_b, sla_name=run_a.sla_name,
                            cycle_a=cycle_a, cycle_b=cycle_b, run_a=run_a.run_id, run_b=run_b.run_id)


def runs_text(runs: pd.DataFrame, error_width: int = 100) -> str:
    """The :meth:`History.list_runs` table as plain text for the command line (times in UTC)."""
    def when(column: str) -> pd.Series:
        return runs[column].dt.strftime("%Y-%m-%d %H:%M").fillna("")

    errors = runs["error"].fillna("").str.slice(0, error_width)
    shown = pd.DataFrame({"started (UTC)": when("started_at"), "sla": runs["sla_name"], "cycle": runs["cycle_id"],
                          "kind": runs["kind"], "status": runs["status"], "as of": when("as_of"),
                          "report folder / error": runs["run_dir"].fillna("").where(errors == "", errors)})
    return shown.to_string(index=False)
