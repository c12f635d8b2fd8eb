"""Notebook parameters: declared from the parameters cell, checked before any kernel starts."""
from __future__ import annotations

import io
from pathlib import Path

import nbformat
import pytest

from sla_toolkit.errors import ParameterError
from sla_toolkit.parameters import (
    ParameterInfo,
    coerce_cli_value,
    inspect_parameters,
    looks_secret,
    parse_cli_parameters,
    parse_parameters_cell,
    validate_parameters,
)

PARAMETERS_CELL = '''\
%matplotlib inline
sla_path = "data/sample/sla.yaml"  # the SLA spec file
min_n = 30
alpha: float = 0.05
confidence = 0.95
strict = False
as_of = None  # a date, or None for today
channels = ["web", "ads"]
cutoff: "int | None" = None
'''


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    cell = nbformat.v4.new_code_cell(PARAMETERS_CELL)
    cell.metadata["tags"] = ["parameters"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell,
                                               nbformat.v4.new_code_cell("print(min_n)")])
    path = tmp_path / "params.ipynb"
    nbformat.write(notebook, path)
    return path


def test_declared_parameters_types_defaults_and_help(notebook):
    declared = inspect_parameters(notebook)
    assert list(declared) == ["sla_path", "min_n", "alpha", "confidence", "strict", "as_of", "channels", "cutoff"]
    assert declared["sla_path"] == ParameterInfo("sla_path", str, "data/sample/sla.yaml", False,
                                                 "the SLA spec file")
    assert declared["min_n"].type is int and declared["min_n"].default == 30
    assert declared["alpha"].type is float
    assert declared["strict"].type is bool
    assert declared["as_of"] == ParameterInfo("as_of", str, None, True, "a date, or None for today")
    assert declared["as_of"].type_name == "str or None"
    assert declared["channels"].type is list
    assert (declared["cutoff"].type, declared["cutoff"].nullable) == (int, True)


def test_unknown_parameter_lists_valid_names(notebook):
    with pytest.raises(ParameterError, match=r"colour: unknown parameter; valid names: sla_path, min_n, alpha, "
                                             r"confidence, strict, as_of, channels, cutoff"):
        validate_parameters(notebook, {"colour": "red"})


def test_every_problem_is_reported_at_once(notebook):
    with pytest.raises(ParameterError) as caught:
        validate_parameters(notebook, {"colour": "red", "min_n": "thirty", "strict": 1, "alpha": None})
    message = str(caught.value)
    assert "4 parameter problems" in message
    assert "min_n: expected int (default 30), got str 'thirty'" in message
    assert "strict: expected bool (default False), got int 1" in message
    assert "alpha: expected float, got None" in message
    assert caught.value.problems[0].startswith("colour: unknown parameter")


def test_normalised_values(notebook):
    given = {"alpha": 0, "as_of": "2025-03-31", "min_n": 50, "channels": ("web",), "cutoff": None,
             "sla_path": Path("/tmp/sla.yaml")}
    assert validate_parameters(notebook, given) == {"alpha": 0.0, "as_of": "2025-03-31", "min_n": 50,
                                                    "channels": ["web"], "cutoff": None,
                                                    "sla_path": "/tmp/sla.yaml"}
    assert isinstance(validate_parameters(notebook, {"alpha": 0})["alpha"], float)


def test_bool_is_not_an_int_and_float_is_not_an_int(notebook):
    with pytest.raises(ParameterError, match="min_n: expected int"):
        validate_parameters(notebook, {"min_n": True})
    with pytest.raises(ParameterError, match="min_n: expected int"):
        validate_parameters(notebook, {"min_n": 30.0})


@pytest.mark.parametrize("name", ["db_url", "SLA_DB_URL", "password", "api_token", "client_secret",
                                  "warehouse_dsn"])
def test_secret_looking_names_are_refused(notebook, name):
    assert looks_secret(name)
    with pytest.raises(ParameterError, match=rf"{name}: looks like a secret .* environment variable named in "
                                             r"source.yaml"):
        validate_parameters(notebook, {name: "postgresql://u:p@host/db"})


@pytest.mark.parametrize("name", ["min_n", "as_of", "curl_depth", "source_path", "spend_path"])
def test_ordinary_names_are_not_secret(name):
    assert not looks_secret(name)


@pytest.mark.parametrize(("text", "declared", "nullable", "expected"), [
    ("3", int, False, 3), ("-12", int, False, -12), ("3", float, False, 3.0), ("0.05", float, False, 0.05),
    ("true", bool, False, True), ("No", bool, False, False), ("1", bool, False, True),
    ("2025-03-31", str, True, "2025-03-31"), ("none", str, True, None), ("None", int, True, None),
    ("none", str, False, "none"), ('["web", "ads"]', list, False, ["web", "ads"]),
    ('{"web": 0.5}', dict, False, {"web": 0.5}),
])
def test_coerce_cli_value(text, declared, nullable, expected):
    value = coerce_cli_value(text, declared, nullable=nullable)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("text", "declared"), [("3.5", int), ("three", float), ("maybe", bool),
                                                ('{"a": 1}', list), ("[1", list)])
def test_coerce_cli_value_rejects(text, declared):
    with pytest.raises(ParameterError, match=rf"expected {declared.__name__}, got"):
        coerce_cli_value(text, declared)


def test_parse_cli_parameters(notebook):
    declared = inspect_parameters(notebook)
    assert parse_cli_parameters(["min_n=50", "alpha=0.1", "as_of=none", "sla_path=a=b.yaml"], declared) == {
        "min_n": 50, "alpha": 0.1, "as_of": None, "sla_path": "a=b.yaml"}
    with pytest.raises(ParameterError) as caught:
        parse_cli_parameters(["colour=red", "min_n=lots", "oops", "db_url=x"], declared)
    message = str(caught.value)
    assert "colour: unknown parameter; valid names: sla_path, min_n" in message
    assert "min_n: expected int, got 'lots'" in message
    assert "'oops': expected name=value" in message
    assert "db_url: looks like a secret" in message


def test_non_literal_defaults_are_refused():
    with pytest.raises(ParameterError, match=r"line 2: default of 'as_of' is not a literal \(date.today\(\)\)"):
        parse_parameters_cell("min_n = 30\nas_of = date.today()\n")
    with pytest.raises(ParameterError, match="line 1: only `name = literal` assignments"):
        parse_parameters_cell("import os\n")


def test_notebook_without_parameters_cell(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    assert inspect_parameters(path) == {}
    assert validate_parameters(path, {}) == {}
    with pytest.raises(ParameterError, match=r"x: unknown parameter; valid names: \(none"):
        validate_parameters(path, {"x": 2})


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_cell_progress_is_one_line_on_a_terminal_and_off_otherwise():
    import nbformat
    from papermill.engines import NotebookExecutionManager

    from sla_toolkit.run.notebooks import cell_progress

    assert cell_progress(io.StringIO()) is False          # a pipe or a log file gets no progress line
    terminal = _Terminal()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1") for _ in range(4)])
    notebook.metadata.papermill = {}      # what papermill adds before it executes
    manager = NotebookExecutionManager(notebook, progress_bar=cell_progress(terminal))   # what papermill builds
    manager.notebook_start()
    for index, cell in enumerate(notebook.cells[:2]):
        manager.cell_complete(cell, cell_index=index)
    manager.pbar.refresh()
    assert "cell 2 of 4" in terminal.getvalue()
    manager.cleanup_pbar()
