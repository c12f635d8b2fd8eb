"""One input snapshot per run: the run reads and computes once, the notebooks display what it computed.

``sla-toolkit run`` fingerprints its input files (size, mtime, SHA-256), loads and validates them
once, computes the cycle once and writes the result to ``cycle.snapshot.pkl`` in the run folder. Both
notebooks receive that file's name as the runner-owned ``snapshot`` parameter and render from it, so
``results.json`` and ``pacing.json`` always describe the same rows and the same as-of time. Opened on
their own (no ``snapshot``), the notebooks compute from their default parameters as before.

Before the notebooks start and again before the report is committed the input files are
fingerprinted again; a file that changed in between fails the run (exit code 1) with
:class:`InputChangedError`, naming the file.

The snapshot is a pickle written by this process into its own run folder and read back by the
kernels it starts: it is never a file a user hands over (``load_snapshot`` refuses files without
the toolkit's header). It holds what the notebooks show, not per-lead rows: the lead table is left
out, and so are the open leads' scores (the report shows their count and sum; the rows are in
``open_lead_scores.parquet`` beside it), which made it tens of MB at a million leads.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import pandas as pd

from .errors import RunError, SourceError

if TYPE_CHECKING:  # pragma: no cover
    from .io.mapping import SourceMapping
    from .pipeline import CycleResult

SNAPSHOT_FILE = "cycle.snapshot.pkl"
_MAGIC = b"sla_toolkit-snapshot-1\n"
_CHUNK = 1 << 20


class InputChangedError(RunError):
    """An input file changed between the run's read and its notebooks (exit code 1)."""


@dataclass(frozen=True)
class InputFingerprint:
    """What identified one input file when the run read it."""

    path: str
    size: int
    mtime: str
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "mtime": self.mtime, "sha256": self.sha256}

    def text(self) -> str:
        return f"{self.path} ({self.size:,} bytes, modified {self.mtime}, sha256 {self.sha256})"


def fingerprint(path: str | Path) -> InputFingerprint:
    """Size, modification time (UTC, ISO) and SHA-256 of one file."""
    path = Path(path)
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    mtime = dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).isoformat(timespec="microseconds")
    return InputFingerprint(str(path.resolve()), stat.st_size, mtime, digest.hexdigest())


def input_files(mapping: SourceMapping) -> list[Path]:
    """Every file the mapping reads (lead files, join tables, spend); SQL and hook sources have none."""
    sources = [mapping.leads, *(join for join in (mapping.joins or []))]
    if mapping.spend is not None:
        sources.append(mapping.spend)
    files = []
    for source in sources:
        if getattr(source, "sql", None) or getattr(source, "hook", None):
            continue
        files += [mapping.resolve(name) for name in source.file_list]
    return list(dict.fromkeys(Path(f).resolve() for f in files))


def fingerprint_all(paths: Iterable[Path]) -> tuple[InputFingerprint, ...]:
    return tuple(fingerprint(p) for p in paths)


def check_unchanged(before: Iterable[InputFingerprint], when: str) -> None:
    """Raise :class:`InputChangedError` if any file's content is not what the run read."""
    for old in before:
        try:
            new = fingerprint(old.path)
        except SourceError:
            raise InputChangedError(f"input {old.path} disappeared {when}; the run read it as "
                                    f"{old.size:,} bytes (sha256 {old.sha256[:12]}…). Nothing was "
                                    "reported: run again once the export is complete") from None
        if new.sha256 != old.sha256:
            raise InputChangedError(
                f"input {old.path} changed {when}: the run read {old.size:,} bytes (sha256 {old.sha256[:12]}…, "
                f"modified {old.mtime}), the file is now {new.size:,} bytes (sha256 {new.sha256[:12]}…, "
                f"modified {new.mtime}); the report would mix two inputs, so nothing was reported. "
                "Run again once the export is complete")


@dataclass(frozen=True)
class CycleSnapshot:
    """The computed cycle plus the fingerprints of the files it was computed from."""

    result: CycleResult
    inputs: tuple[InputFingerprint, ...]

    def pacing_run(self):
        """The daily pacing view of the same computation (what ``daily_pacing`` shows)."""
        from .pacing_run import PacingRun

        r = self.result
        return PacingRun(r.spec, r.as_of, r.pacing, r.quality, r.scope_note)


@dataclass(frozen=True)
class OpenScoresSummary:
    """The open leads' scores as the report shows them, in place of one row per lead.

    ``summary`` is the scores' ``to_dict()`` (count, expected conversions, the Parquet file's name), so
    the snapshot's result gives the same ``results.json`` as the full one.
    """

    title = "Open leads: probability of converting within the window"
    summary: Mapping[str, Any]
    expected_conversions: float

    @classmethod
    def of(cls, scores) -> OpenScoresSummary:
        return cls(dict(scores.to_dict()), float(scores.expected_conversions))

    @property
    def n_open_leads(self) -> int:
        return int(self.summary["n_open_leads"])

    def to_dict(self) -> dict:
        return dict(self.summary)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def _repr_html_(self) -> str:
        from .report.sanitize import frame_html

        return f"<h4>{self.title}</h4>" + frame_html(self.to_frame(), index=False)


def slim_result(result: CycleResult) -> CycleResult:
    """``result`` without per-lead rows: an empty lead table, the open leads' scores as a summary."""
    slim = replace(result, data=replace(result.data, leads=result.data.leads.iloc[:0]))
    models = getattr(result, "models", None)
    scores = getattr(models, "open_scores", None)
    if scores is not None and not isinstance(scores, OpenScoresSummary):
        slim = replace(slim, models=replace(models, open_scores=OpenScoresSummary.of(scores)))
    return slim


def snapshot_bytes(result: CycleResult, inputs: tuple[InputFingerprint, ...]) -> bytes:
    """The snapshot file's content: :func:`slim_result` (every figure is already computed) and the inputs."""
    return _MAGIC + pickle.dumps(CycleSnapshot(slim_result(result), inputs), protocol=pickle.HIGHEST_PROTOCOL)


def save_snapshot(result: CycleResult, inputs: tuple[InputFingerprint, ...], path: str | Path) -> Path:
    """Write :func:`snapshot_bytes` to ``path``."""
    path = Path(path)
    path.write_bytes(snapshot_bytes(result, inputs))
    return path


def load_snapshot(path: str | Path) -> CycleSnapshot:
    """Read a snapshot written by :func:`save_snapshot` in this run folder."""
    path = Path(path)
    with path.open("rb") as handle:
        if handle.read(len(_MAGIC)) != _MAGIC:
            raise RunError(f"{path} is not a snapshot written by sla-toolkit run")
        snapshot = pickle.load(handle)  # noqa: S301 - written by this run into its own folder
    return snapshot


# -- what the notebooks call -------------------------------------------------------------------------
def cycle_for_notebook(snapshot: str, sla_path: str, source_path: str, *, as_of: str | None = None,
                       cycle_id: str | None = None, with_models: bool = True, output_dir: str = ""):
    """The ``cycle_report`` notebook's result: the run's snapshot when given, else computed here.

    Computed here (the notebook opened on its own), the outputs go to ``output_dir`` when set; under
    ``sla-toolkit run`` the runner has already written them from the same snapshot.
    """
    if snapshot:
        return load_snapshot(snapshot).result
    from .pipeline import run_cycle

    result = run_cycle(sla_path, source_path, as_of=as_of, cycle_id=cycle_id, with_models=with_models)
    if output_dir:
        from .report.outputs import write_outputs

        write_outputs(result, output_dir)
    return result


def pacing_for_notebook(snapshot: str, sla_path: str, source_path: str, *, as_of: str | None = None,
                        output_dir: str = ""):
    """The ``daily_pacing`` notebook's result: the same snapshot as the report's, else computed here."""
    if snapshot:
        return load_snapshot(snapshot).pacing_run()
    from .pacing_run import run_pacing

    result = run_pacing(sla_path, source_path, as_of=as_of)
    if output_dir:
        from .report.outputs import write_pacing

        write_pacing(result, output_dir)
    return result
