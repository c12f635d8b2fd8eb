"""Which cell failed: papermill's index mapped back to the notebook as written; the report files."""
from __future__ import annotations

import json

import nbformat

from sla_toolkit.report import FailureSummary, write_failure_report
from sla_toolkit.report.failure import ERROR_MARKER_TAG, INJECTED_TAG, with_failed_cell

BASE = FailureSummary(step="execute", error_name="ZeroDivisionError", error_value="division by zero",
                      notebook="cycle_report", notebook_path="notebooks/cycle_report.ipynb")


def _cell(source, tags=(), started=False, count=None):
    cell = nbformat.v4.new_code_cell(source, execution_count=count)
    cell.metadata["tags"] = list(tags)
    cell.metadata["papermill"] = {"start_time": "2025-01-01T00:00:00"} if started else {}
    return cell


def _executed(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_index_without_injected_parameters():
    executed = _executed(_cell("a = 1", count=1), _cell("\n  # why\nb = 1 / 0", count=2))
    summary = with_failed_cell(BASE, executed, 1)
    assert (summary.cell_index, summary.execution_count, summary.cell_first_line) == (1, 2, "# why")
    assert summary.where == "cell 2 (index 1, In [2]) `# why`"


def test_injected_cell_and_error_markers_are_not_counted():
    marker = nbformat.v4.new_markdown_cell("<span>error</span>")
    marker.metadata["tags"] = [ERROR_MARKER_TAG]
    executed = _executed(marker, _cell("x = 1", ["parameters"], count=1), _cell("x = 2", [INJECTED_TAG], count=2),
                         _cell("import pandas", count=3), _cell("y = 1 / 0", count=4))
    # papermill reports index 3 (it counts the injected cell, not the markers it adds afterwards)
    summary = with_failed_cell(BASE, executed, 3)
    assert (summary.cell_index, summary.cell_first_line) == (2, "y = 1 / 0")


def test_running_cell_at_a_timeout_is_the_last_started():
    executed = _executed(_cell("x = 1", ["parameters"], started=True, count=1),
                         _cell("x = 5", [INJECTED_TAG], started=True, count=2),
                         _cell("time.sleep(x)", started=True, count=3), _cell("print(x)"))
    assert with_failed_cell(BASE, executed).cell_index == 1
    assert with_failed_cell(BASE, _executed(_cell("x"))) == BASE  # nothing started: cannot say


def test_failure_report_files(tmp_path):
    summary = with_failed_cell(BASE, _executed(_cell("1 / 0", count=1)), 0)
    paths = write_failure_report(tmp_path, summary, {"sla": "acme", "cycle": "2025-q1"})
    assert [p.name for p in paths] == ["failure.md", "failure.json"]
    markdown = paths[0].read_text()
    assert markdown.startswith("# Run failed: ZeroDivisionError")
    assert "- failed at: cell 1 (index 0, In [1]) `1 / 0`" in markdown
    data = json.loads(paths[1].read_text())
    assert (data["status"], data["sla"], data["cell_index"], data["where"]) == (
        "failed", "acme", 0, "cell 1 (index 0, In [1]) `1 / 0`")


def test_traceback_is_written_without_colour_codes(tmp_path):
    summary = FailureSummary(step="execute", error_name="ZeroDivisionError", error_value="x",
                             traceback="\x1b[0;31mZeroDivisionError\x1b[0m: division by zero")
    write_failure_report(tmp_path, summary, {})
    assert "```\nZeroDivisionError: division by zero\n```" in (tmp_path / "failure.md").read_text()
