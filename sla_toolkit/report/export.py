"""Export an executed notebook to one self-contained HTML file: no code, no prompts, nothing from the network.

nbconvert's ``lab`` template is used with a small override that drops the require.js, MathJax,
Mermaid and widget loaders (all fetched from CDNs). Images are embedded as base64 ``data:`` URIs by
nbconvert itself. After rendering, the page is scanned and refused if any script, stylesheet or frame
would still load from the network.

Cells tagged ``remove-cell`` are left out entirely, cells tagged ``remove-output`` keep no output; the
``parameters`` and papermill ``injected-parameters`` cells are always left out, and so is everything a
cell wrote to stderr (library warnings may name server paths; they stay in the executed notebook).
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import jinja2
import nbformat

from ..errors import RunError
from .sanitize import find_remote_resources

TEMPLATE_NAME = "sla_report.html.j2"
REMOVED_CELL_TAGS = frozenset({"parameters", "injected-parameters", "remove-cell", "remove_cell"})
REMOVED_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})

# Status colours are offered as classes (``sla-status-met`` ...) for tables that want them.
_REPORT_CSS = """
main { max-width: 1100px; margin: 0 auto; padding: 1em 2em; }
table.dataframe td, table.dataframe th { padding: 0.25em 0.6em; }
.sla-status-met { background: #d8f0dc; }
.sla-status-at_risk { background: #fff1c2; }
.sla-status-missed { background: #f8d4d4; }
.sla-status-insufficient_data, .sla-status-not_applicable { background: #ececec; }
nav.sla-toc { position: sticky; top: 0; z-index: 5; background: #fff; border-bottom: 1px solid #ddd;
  padding: .3em 0; font-size: .9em; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; }
nav.sla-toc a { color: #1a4d8f; text-decoration: none; margin-right: .8em; white-space: nowrap; }
nav.sla-toc b { margin-right: .8em; }
@media (min-width: 1400px) {
  main { margin-left: 15em; }
  nav.sla-toc { position: fixed; top: 1em; left: 1em; width: 12em; border: none; }
  nav.sla-toc a, nav.sla-toc b { display: block; margin: .25em 0; white-space: normal; }
}
"""
_SECTION_HEADING = re.compile(r'<h2 id="([^"]+)">(.*?)<a class="anchor-link"', re.S)

_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}<style type="text/css">""" + _REPORT_CSS + """</style>{%- endblock extra_css -%}
"""


class OfflineReportError(RunError):
    """The rendered report would load something from the network."""


_EXPORTER: dict = {}
_EXPORTER_LOCK = threading.Lock()   # one render at a time: the exporter is reused


def _exporter():
    """The report's exporter, made once per process (nbconvert's import and the template's compilation
    cost about a second); call it with ``_EXPORTER_LOCK`` held."""
    if "html" in _EXPORTER:
        return _EXPORTER["html"]
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        template_file=TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: _TEMPLATE})],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        require_js_url="",
        mathjax_url="",
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(REMOVED_CELL_TAGS),
                              remove_all_outputs_tags=set(REMOVED_OUTPUT_TAGS)),
        enabled=True)
    _EXPORTER["html"] = exporter
    return exporter


def prepare_export() -> None:
    """Import nbconvert and compile the report's template now, rendering a one-cell page (``sla-toolkit run``
    calls it in a background thread while the notebooks execute, so the export itself only renders)."""
    cell = nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/html": "<p>warm-up</p>", "text/plain": "warm-up"})])
    render_html(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# warm-up"), cell]), "warm-up")


def render_html(notebook: nbformat.NotebookNode, title: str) -> str:
    """Render an executed notebook to the report's HTML text (``title`` is escaped by the template)."""
    notebook = nbformat.from_dict(notebook)  # a copy: the caller's notebook keeps its metadata and outputs
    notebook.metadata["title"] = str(title)
    for cell in notebook.cells:   # warnings and library chatter (server paths...) stay in the .ipynb only
        if "outputs" in cell:
            cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream"
                                                            and o.get("name") == "stderr")]
    with _EXPORTER_LOCK:
        page, _ = _exporter().from_notebook_node(notebook, resources={"metadata": {"name": str(title)}})
    return with_contents(page)


def with_contents(page: str) -> str:
    """Add a table of contents of the page's section headings, fixed at the side on wide screens and
    sticky at the top on narrow ones (the exported page keeps its stylesheet; JupyterLab has its own)."""
    headings = _SECTION_HEADING.findall(page)
    if not headings or "<main>" not in page:
        return page
    links = "".join(f'<a href="#{anchor}">{re.sub(r"<[^>]+>", "", text).strip()}</a>' for anchor, text in headings)
    return page.replace("<main>", f'<main><nav class="sla-toc" aria-label="Contents"><b>Contents</b>{links}</nav>', 1)


def export_html(executed_notebook: Path | str | nbformat.NotebookNode, html_path: Path | str,
                title: str) -> Path:
    """Write ``html_path``: the executed notebook as a self-contained, code-free HTML report.

    Parameters
    ----------
    executed_notebook:
        Path of an executed ``.ipynb`` (or the notebook itself).
    title:
        The page title; user text is fine, it is escaped.

    Raises
    ------
    OfflineReportError
        If the page would still load a script, stylesheet or frame from the network.
    """
    if isinstance(executed_notebook, nbformat.NotebookNode):
        notebook = executed_notebook
    else:
        notebook = nbformat.read(str(executed_notebook), as_version=4)
    page = render_html(notebook, title)
    remote = find_remote_resources(page)
    if remote:
        raise OfflineReportError(
            f"report {html_path} would load from the network: {'; '.join(remote[:5])}"
            f"{' ...' if len(remote) > 5 else ''}; remove these outputs or embed their content")
    html_path = Path(html_path)
    html_path.write_text(page, encoding="utf-8")
    return html_path
