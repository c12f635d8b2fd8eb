"""Notebook parameters: what a notebook declares, and checking given values before any kernel starts.

The parameters a notebook accepts are the literal assignments of its cell tagged ``parameters``.
Unlike papermill (which only warns), an unknown name or a value of the wrong type is a
:class:`~sla_toolkit.errors.ParameterError`. Secrets are never parameters: papermill writes
parameters into the executed notebook and ``run.log``.
"""
from __future__ import annotations

import ast
import io
import json
import os
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import nbformat

from .errors import ParameterError

_SECRET_PARTS = frozenset({"url", "uri", "dsn", "password", "passwd", "pwd", "token", "secret", "apikey"})
_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "dict": dict}
_TRUE, _FALSE = {"true", "yes", "y", "on", "1"}, {"false", "no", "n", "off", "0"}


@dataclass(frozen=True)
class ParameterInfo:
    """One declared notebook parameter: its type, default, whether ``None`` is allowed, and its comment.

    A ``None`` default without an annotation declares an optional string (``as_of = None``).
    """

    name: str
    type: type
    default: Any
    nullable: bool = False
    help: str = ""

    @property
    def type_name(self) -> str:
        return self.type.__name__ + (" or None" if self.nullable else "")


def _read_notebook(notebook_path: Path | str) -> nbformat.NotebookNode:
    return nbformat.read(str(notebook_path), as_version=4)


def _annotation_type(node: ast.expr | None) -> tuple[type, bool] | None:
    """Understand ``float``, ``str | None`` and ``Optional[str]``; anything else means 'use the default'."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _annotation_type(ast.parse(node.value, mode="eval").body)
    if isinstance(node, ast.Name) and node.id in _TYPE_NAMES:
        return _TYPE_NAMES[node.id], False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [node.left, node.right]
        nones = [s for s in sides if isinstance(s, ast.Constant) and s.value is None]
        others = [s for s in sides if s not in nones]
        if len(nones) == 1 and (inner := _annotation_type(others[0])):
            return inner[0], True
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "Optional":
        if inner := _annotation_type(node.slice):
            return inner[0], True
    return None


def _comments_by_line(source: str) -> dict[int, str]:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return {}
    return {tok.start[0]: tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT}


def parse_parameters_cell(source: str, origin: str = "parameters cell") -> dict[str, ParameterInfo]:
    """Parse the literal assignments of a parameters cell (IPython ``%``/``!`` lines are skipped)."""
    source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{origin}: not valid Python at line {exc.lineno}: {exc.msg}") from None
    comments, declared, problems = _comments_by_line(source), {}, []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, annotation = node.targets[0].id, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, annotation = node.target.id, node.annotation
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        else:
            problems.append(f"line {node.lineno}: only `name = literal` assignments belong in a parameters cell")
            continue
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            problems.append(f"line {node.lineno}: default of {name!r} is not a literal "
                            f"({ast.get_source_segment(source, node.value)})")
            continue
        declared_type = _annotation_type(annotation) or _type_of_default(default)
        declared[name] = ParameterInfo(name, declared_type[0], default, declared_type[1],
                                       comments.get(node.end_lineno or node.lineno, ""))
    if problems:
        raise ParameterError(f"{origin}: " + "; ".join(problems))
    return declared


def _type_of_default(default: Any) -> tuple[type, bool]:
    if default is None:
        return str, True
    if isinstance(default, tuple):
        return list, False
    return type(default), False


def inspect_parameters(notebook_path: Path | str) -> dict[str, ParameterInfo]:
    """The parameters a notebook declares, by name, in cell order (empty without a ``parameters`` cell).

    Examples
    --------
    >>> inspect_parameters("notebooks/daily_pacing.ipynb")["as_of"].type_name  # doctest: +SKIP
    'str or None'
    """
    notebook = _read_notebook(notebook_path)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return parse_parameters_cell(cell.source, origin=f"{notebook_path}: parameters cell")
    return {}


def looks_secret(name: str) -> bool:
    """True for names such as ``db_url``, ``api_token``, ``password``, ``warehouse_dsn``."""
    return any(part in _SECRET_PARTS for part in re.split(r"[^a-z0-9]+", name.lower())) or any(
        word in name.lower() for word in ("password", "secret", "token"))


def _check_value(info: ParameterInfo, value: Any) -> tuple[Any, str | None]:
    """Return ``(normalised value, None)`` or ``(value, problem)``."""
    if value is None:
        return (None, None) if info.nullable else (value, f"expected {info.type_name}, got None")
    if isinstance(value, os.PathLike) and info.type is str:
        return os.fspath(value), None
    if info.type is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), None
    if info.type is list and isinstance(value, tuple):
        return list(value), None
    if isinstance(value, info.type) and not (isinstance(value, bool) and info.type is not bool):
        return value, None
    return value, (f"expected {info.type_name} (default {info.default!r}), "
                   f"got {type(value).__name__} {value!r}")


def _secret_problem(name: str) -> str:
    return (f"{name}: looks like a secret and is never accepted as a parameter (parameters are saved in "
            f"the executed notebook and run.log); put it in the environment variable named in "
            f"source.yaml (e.g. `leads: sql: url_env: SLA_DB_URL`) and let the notebook read it")


def parameter_problems(declared: Mapping[str, ParameterInfo], given: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], list[str]]:
    """Check ``given`` against ``declared``; return the normalised values and every problem found."""
    normalised, problems = {}, []
    valid = ", ".join(declared) or "(none: the notebook has no parameters cell)"
    for name, value in given.items():
        if looks_secret(name):
            problems.append(_secret_problem(name))
        elif name not in declared:
            problems.append(f"{name}: unknown parameter; valid names: {valid}")
        else:
            normalised[name], problem = _check_value(declared[name], value)
            if problem:
                problems.append(f"{name}: {problem}")
    return normalised, problems


def _raise_problems(origin: str, problems: list[str], what: str = "parameter problem") -> None:
    """Raise one :class:`ParameterError` listing every problem (``what`` names one of them)."""
    if problems:
        noun = what if len(problems) == 1 else f"{what}s"
        error = ParameterError(f"{origin}: {len(problems)} {noun}:\n"
                               + "\n".join(f"  - {p}" for p in problems))
        error.problems = problems
        raise error


def validate_parameters(notebook_path: Path | str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``given`` against the notebook's declared parameters; return them normalised (int -> float).

    Raises
    ------
    ParameterError
        Listing every unknown name (with the valid names), type mismatch and secret-looking name.
    """
    normalised, problems = parameter_problems(inspect_parameters(notebook_path), given)
    _raise_problems(str(notebook_path), problems)
    return normalised


def coerce_cli_value(text: str, declared_type: type, *, nullable: bool = False) -> Any:
    """Convert a command-line string (``-p name=value``) to the declared type.

    ``"none"``/``"null"`` give ``None`` when the parameter is nullable; booleans accept
    true/false, yes/no, on/off, 1/0; lists and dicts are JSON.
    """
    if nullable and text.strip().lower() in {"none", "null"}:
        return None
    try:
        if declared_type is bool:
            if text.strip().lower() in _TRUE | _FALSE:
                return text.strip().lower() in _TRUE
            raise ValueError(text)
        if declared_type in (int, float):
            return declared_type(text.strip())
        if declared_type in (list, dict):
            value = json.loads(text)
            if not isinstance(value, declared_type):
                raise ValueError(text)
            return value
        return text
    except ValueError:
        raise ParameterError(f"expected {declared_type.__name__}, got {text!r}") from None


def parse_cli_parameters(pairs: list[str], declared: Mapping[str, ParameterInfo],
                         origin: str = "-p") -> dict[str, Any]:
    """Turn ``["min_n=30", "as_of=2025-03-31"]`` into typed values, collecting every problem."""
    given, problems = {}, []
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(f"{pair!r}: expected name=value")
        elif looks_secret(name):
            problems.append(_secret_problem(name))
        elif name not in declared:
            problems.append(f"{name}: unknown parameter; valid names: {', '.join(declared) or '(none)'}")
        else:
            try:
                given[name] = coerce_cli_value(text, declared[name].type, nullable=declared[name].nullable)
            except ParameterError as exc:
                problems.append(f"{name}: {exc}")
    _raise_problems(origin, problems)
    return given


def read_parameters_file(path: Path | str, declared: Mapping[str, ParameterInfo]) -> dict[str, Any]:
    """Notebook parameters from a YAML mapping (papermill's ``-f params.yaml``), checked like ``-p`` values.

    Dates written as YAML dates (``as_of: 2025-03-24``) are read as the text the notebook expects.
    """
    import datetime as dt

    from .spec import read_yaml

    data = read_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        _raise_problems(str(path), [f"expected a mapping of parameter names to values, got {type(data).__name__}"])
    given = {str(name): value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
             for name, value in data.items()}
    normalised, problems = parameter_problems(declared, given)
    _raise_problems(str(path), problems)
    return normalised
