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


def frame_html(frame: pd.DataFrame, **to_html_options: Any) -> str:
    """``frame.to_html`` with escaping forced on (an ``escape=False`` option is refused)."""
    if to_html_options.get("escape", True) is not True:
        raise ValueError("frame_html always escapes cell values; do not pass escape=False")
    to_html_options["escape"] = True
    if frame.empty:
        return '<p class="muted">Nothing to show.</p>'
    return readable(frame).to_html(**to_html_options)


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
