"""Escaping helpers and the offline check used on every report."""
from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from sla_toolkit.report import escape_markdown, escape_text, find_remote_resources, frame_html, render_html


def test_escape_text():
    assert escape_text("<script>alert('x')</script> & co") == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co")
    assert escape_text(None) == "" and escape_text(3.5) == "3.5"


def test_escape_markdown_neutralises_html_and_markdown():
    assert escape_markdown("<b>Spring_sale</b> [click](http://x)") == (
        r"&lt;b&gt;Spring\_sale&lt;/b&gt; \[click\]\(http://x\)")
    assert escape_markdown("it's #1") == r"it&#x27;s \#1"


def test_frame_html_always_escapes():
    frame = pd.DataFrame({"campaign": ["<script>alert(1)</script>"], "leads": [3]})
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in frame_html(frame, index=False)
    with pytest.raises(ValueError, match="always escapes"):
        frame_html(frame, escape=False)


@pytest.mark.parametrize(("page", "found"), [
    ('<script src="https://cdn.example.com/require.js"></script>', 1),
    ("<script src='//cdn.example.com/x.js'></script>", 1),
    ('<link rel="stylesheet" href="HTTP://fonts.example.com/a.css">', 1),
    ('<iframe src="https://example.com"></iframe>', 1),
    ('<style>@import url("https://fonts.example.com/x.css");</style>', 1),
    ('<script type="module">const m = await import("https://cdn.example.com/m.mjs");</script>', 1),
    ('<script src="data:text/javascript,1"></script><link href="report.css"><a href="https://x">x</a>', 0),
    ('<svg xmlns="http://www.w3.org/2000/svg"></svg><img src="data:image/png;base64,AAAA">', 0),
    ("<style>/* @see https://developer.mozilla.org */ p { color: red }</style>", 0),
])
def test_find_remote_resources(page, found):
    assert len(find_remote_resources(page)) == found


def test_plain_nbconvert_output_would_be_caught_and_ours_is_clean():
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t $x^2$")])
    plain, _ = HTMLExporter().from_notebook_node(notebook)
    assert find_remote_resources(plain)  # require.js / MathJax from a CDN
    assert find_remote_resources(render_html(notebook, "t")) == []


def test_escaped_markdown_output_renders_as_text():
    hostile = "<script>alert(1)</script> *spring* [x](javascript:alert(2))"
    cell = nbformat.v4.new_code_cell("display(Markdown(...))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": f"Best campaign: {escape_markdown(hostile)}"})]
    page = render_html(nbformat.v4.new_notebook(cells=[cell]), "t")
    assert "Best campaign: &lt;script&gt;alert(1)&lt;/script&gt; *spring* [x](javascript:alert(2))" in page
    assert "<script>alert" not in page and "<em>" not in page and 'href="javascript' not in page
