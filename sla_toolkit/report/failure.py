"""The short failure report of a run: ``failure.md`` for people, ``failure.json`` for schedulers."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
INJECTED_TAG = "injected-parameters"
ERROR_MARKER_TAG = "papermill-error-cell-tag"


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (IPython tracebacks carry them)."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class FailureSummary:
    """What failed, where, and with which error.

    ``cell_index`` is 0-based in the notebook as written (the papermill-injected parameters cell is
    not counted); it is ``None`` when the failure happened outside a cell (kernel start, export).
    """

    step: str
    error_name: str
    error_value: str
    notebook: str | None = None
    notebook_path: str | None = None
    cell_index: int | None = None
    execution_count: int | None = None
    cell_first_line: str | None = None
    traceback: str = ""
    executed_notebook: str | None = None

    @property
    def where(self) -> str:
        """``cell 3 (In [3]) `x = 1 / 0``` or the step name when no cell is involved."""
        if self.cell_index is None:
            return self.step
        prompt = f"In [{self.execution_count}]" if self.execution_count is not None else "not executed"
        return f"cell {self.cell_index + 1} (index {self.cell_index}, {prompt}) `{self.cell_first_line}`"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"where": self.where}


def _tags(cell: Any) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def with_failed_cell(summary: FailureSummary, executed: Any, executed_index: int | None = None) -> FailureSummary:
    """Fill in which cell failed, from the executed notebook papermill saved.

    ``executed_index`` is papermill's index (it counts the injected parameters cell, not its error
    markers); ``None`` means the last cell that started, e.g. the one running at a timeout.
    """
    cells = [cell for cell in executed.cells if ERROR_MARKER_TAG not in _tags(cell)]
    if executed_index is None:
        started = [i for i, cell in enumerate(cells)
                   if cell.get("metadata", {}).get("papermill", {}).get("start_time")]
        if not started:
            return summary
        executed_index = started[-1]
    injected = next((i for i, cell in enumerate(cells) if INJECTED_TAG in _tags(cell)), None)
    if injected == executed_index:
        return dataclasses.replace(summary, cell_first_line="(the parameters injected by papermill)")
    cell = cells[executed_index]
    first_line = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return dataclasses.replace(
        summary, cell_index=executed_index - (1 if injected is not None and injected < executed_index else 0),
        execution_count=cell.get("execution_count"), cell_first_line=first_line[:120])


def write_failure_report(folder: Path, summary: FailureSummary, context: dict[str, Any]) -> list[Path]:
    """Write ``failure.md`` and ``failure.json`` into ``folder``; return their paths.

    ``context`` holds run facts shown on top (SLA, cycle, parameters...); values are written as text.
    """
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    lines = [f"# Run failed: {summary.error_name}", "", f"- when: {when}"]
    lines += [f"- {key}: {value}" for key, value in context.items()]
    if summary.notebook:
        lines.append(f"- notebook: {summary.notebook} ({summary.notebook_path})")
    lines += [f"- failed at: {summary.where}",
              f"- error: {summary.error_name}: {summary.error_value}"]
    if summary.executed_notebook:
        lines.append(f"- executed notebook kept: {summary.executed_notebook} (open it to see every output)")
    if summary.traceback:
        lines += ["", "## Traceback", "", "```", strip_ansi(summary.traceback).rstrip(), "```"]
    markdown_path, json_path = folder / "failure.md", folder / "failure.json"
    markdown_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    payload = {"status": "failed", "when": when, **{k: str(v) for k, v in context.items()},
               **summary.to_dict()}
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return [markdown_path, json_path]
