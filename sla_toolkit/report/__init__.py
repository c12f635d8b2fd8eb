"""Report writing: the self-contained HTML export, escaping helpers and the failure report.

The exporter (nbformat, nbconvert) is imported on first use only: the notebook kernels import this
package for its sections and figures, and ``import nbformat`` alone costs seconds (jsonschema's
format checks).
"""
from .failure import FailureSummary, write_failure_report
from .sanitize import escape_markdown, escape_text, find_remote_resources, frame_html

_EXPORT_NAMES = ("OfflineReportError", "export_html", "render_html")

__all__ = [
    "FailureSummary",
    "OfflineReportError",
    "escape_markdown",
    "escape_text",
    "export_html",
    "find_remote_resources",
    "frame_html",
    "render_html",
    "write_failure_report",
]


def __getattr__(name: str):
    if name in _EXPORT_NAMES:
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
