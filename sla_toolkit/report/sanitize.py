"""Escaping helpers and the offline check of a finished HTML report.

User data (campaign names, segment labels, rep names) is never trusted: it goes into the report only
through these helpers or through pandas ``to_html(escape=True)``. Nothing here marks a string safe.
Note that a pandas ``Styler`` does *not* escape cell values unless told: use ``.format(escape="html")``.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd

from ..results import readable

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_REMOTE_URL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_REMOTE_IN_CODE = re.compile(r"(?:@import|url\(|import\()\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)
_FETCHING_ATTRIBUTES = {"script": "src", "link": "href", "iframe": "src", "embed": "src",
                        "object": "data", "frame": "src"}


def escape_text(value: Any) -> str:
    """HTML-escape any value's text (quotes included), e.g. for a heading built from a campaign name."""
    return html.escape("" if value is None else str(value), quote=True)


def escape_markdown(value: Any) -> str:
    """Make a value safe inside Markdown: HTML-escaped, and Markdown punctuation backslash-escaped.

    Use it for user text put into ``IPython.display.Markdown``, whose HTML is otherwise rendered raw.
    """
    text = "" if value is None else str(value)
    return html.escape(_MARKDOWN_SPECIALS.sub(r"\\\1", text), quote=True)


P_VALUE_COLUMNS = ("p", "q", "q (BH)", "p_value", "q_value", "p value", "q value")


def people_number(value: Any, column: str = "") -> str:
    """A cell for people: thousands separators, never e-notation; "—" for missing or infinite;
    p and q values below 0.001 as "< 0.001"; booleans as yes / no."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "—"
        if column in P_VALUE_COLUMNS:
            return "< 0.001" if value < 0.001 else f"{value:.3f}"
        size = abs(value)
        if size >= 1000:
            return f"{value:,.0f}"
        if size >= 10:
            return f"{value:,.1f}"
        if size >= 0.01 or size == 0:
            return f"{value:.3g}" if size >= 1 else f"{value:.3f}"
        return "< 0.01" if value > 0 else "> -0.01"
    text = str(value)
    return "—" if text in ("nan", "NaN", "None", "<NA>", "NaT", "inf", "-inf") else text


def frame_html(frame: pd.DataFrame, **to_html_options: Any) -> str:
    """``frame.to_html`` for people: escaping forced on (``escape=False`` is refused), no index unless asked,
    every cell through :func:`people_number` (float formats passed in are ignored)."""
    if to_html_options.get("escape", True) is not True:
        raise ValueError("frame_html always escapes cell values; do not pass escape=False")
    to_html_options["escape"] = True
    if frame.empty:
        return '<p class="muted">Nothing to show.</p>'
    to_html_options.setdefault("index", False)
    to_html_options.pop("float_format", None)
    to_html_options.pop("na_rep", None)
    shown = pd.DataFrame({column: [people_number(v, str(column)) for v in frame[column]]
                          for column in frame.columns}, index=frame.index)
    return shown.to_html(**to_html_options)


class _ResourceScanner(HTMLParser):
    """Collect every reference that would make a browser fetch something from the network."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.remote: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attribute = _FETCHING_ATTRIBUTES.get(tag)
        for name, value in attrs:
            if name == attribute and value and _REMOTE_URL.match(value):
                self.remote.append(f"<{tag} {name}={value!r}>")
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside:
            for match in _REMOTE_IN_CODE.finditer(data):
                snippet = data[match.start():match.start() + 80].split("\n")[0]
                self.remote.append(f"<{self._inside}> loads {snippet!r}")


def find_remote_resources(page: str) -> list[str]:
    """List the scripts, stylesheets, frames and CSS/JS imports in ``page`` that load from the network."""
    scanner = _ResourceScanner()
    scanner.feed(page)
    scanner.close()
    return scanner.remote
