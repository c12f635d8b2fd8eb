"""Report writing: the self-contained HTML export, escaping helpers and the failure report."""
from .export import OfflineReportError, export_html, render_html
from .failure import FailureSummary, write_failure_report
from .sanitize import escape_markdown, escape_text, find_remote_resources, frame_html

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
