"""The source mapping (``source.yaml``): how the user's files become the canonical lead table.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> mapping = load_mapping(example_paths().source)
>>> mapping.columns["lead_id"]
'Lead ID'
"""
from __future__ import annotations

import re
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import SpecError
from ..spec import _format_location, _friendly, read_yaml

PRESETS = ("hubspot", "salesforce")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HOOK = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# Spellings of the tab delimiter that YAML keeps literally (a tab itself is written "\t" in double quotes).
_TAB_ALIASES = ("tab", "\\t")
Scalar = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SqlSource(_Strict):
    """A query run through SQLAlchemy; the URL comes from an environment variable, never from the file."""

    url_env: str
    query: str = Field(min_length=1)
    timeout_s: float = Field(default=300.0, gt=0)   # to connect, and for the query to finish

    @field_validator("url_env")
    @classmethod
    def _a_variable_name(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            # never echo the value: it is often the URL itself, password included
            raise ValueError("must be the name of an environment variable holding the database URL (e.g. "
                             "SLA_DB_URL), not the URL itself; the value given is not shown because it may "
                             "hold a password")
        return value


class FileSource(_Strict):
    """Where rows come from: files, a SQL query or a Python hook (exactly one)."""

    path: str | None = None
    paths: list[str] | None = None
    format: str | None = Field(default=None, pattern="^(csv|parquet|excel)$")
    delimiter: str | None = None
    quotechar: str = '"'
    encoding: str = "utf-8"
    decimal: str = Field(default=".", min_length=1, max_length=1)   # "," for decimal-comma exports
    thousands: str | None = Field(default=None, min_length=1, max_length=1)   # e.g. "." with decimal ","
    sheet: str | int | None = None
    header_row: int = Field(default=1, ge=1)   # Excel: the row holding the column names (rows above are titles)
    skip_rows: int = Field(default=0, ge=0)    # Excel: rows right below the header to skip (units, notes)
    sql: SqlSource | None = None
    hook: str | None = None

    @field_validator("delimiter")
    @classmethod
    def _tab_alias(cls, value: str | None) -> str | None:
        return "\t" if value is not None and value.lower() in _TAB_ALIASES else value

    @model_validator(mode="after")
    def _one_origin(self) -> "FileSource":
        given = [name for name in ("path", "paths", "sql", "hook") if getattr(self, name)]
        if len(given) > 1:
            raise ValueError(f"give only one of path, paths, sql, hook; got {given}")
        if self.hook and not _HOOK.match(self.hook):
            raise ValueError(f"hook must look like 'package.module:function', got {self.hook!r}")
        return self

    @property
    def file_list(self) -> list[str]:
        return list(self.paths or ([self.path] if self.path else []))


class Join(FileSource):
    """A second file joined to the leads by lead id (e.g. a deals export supplying ``customer_at``).

    ``where`` keeps only the rows whose columns hold one of the given values (compared as text, ignoring case
    and surrounding spaces), e.g. ``{Stage: Closed Won}`` or ``{Stage: [Closed Won, Won]}``.
    """

    key: str
    # a lookup join: the lead-table column (as named in the lead file, or its canonical name) matched
    # against ``key``; each key must appear once in the lookup file (many leads to one row)
    on: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads an unquoted ``on:`` key as the boolean True; take it as ``on``."""
        if isinstance(data, dict) and True in data and "on" not in data:
            data = {("on" if key is True else key): value for key, value in data.items()}
        return data

    def allowed_values(self) -> dict[str, list[str]]:
        """``where`` as column -> accepted values, normalised the way cells are compared."""
        return {column: [_as_text(v) for v in (values if isinstance(values, list) else [values])]
                for column, values in self.where.items()}


def _as_text(value: Scalar) -> str:
    return str(value).strip().lower()


class SpendSource(FileSource):
    columns: dict[str, str] = Field(default_factory=dict)


class IdRule(str, Enum):
    ROW_NUMBER = "row_number"
    HASH = "hash"


class IdSpec(_Strict):
    """How to make ``lead_id`` when the file has no id column."""

    generate: IdRule


class Dates(_Strict):
    timezone: str | None = None
    formats: dict[str, str] = Field(default_factory=dict)
    dayfirst: bool = False


class RuleAction(str, Enum):
    QUARANTINE = "quarantine"
    FLAG = "flag"


class Rules(_Strict):
    """What to do with contract breaches that some sources legitimately contain."""

    backwards_stages: RuleAction = RuleAction.QUARANTINE
    # None: quarantine repeats of a row when the file has its own ids; keep them (and say so) when ids
    # are generated, because identical attribute rows are then usually different people.
    duplicate_rows: RuleAction | None = None
    future_dates: RuleAction = RuleAction.QUARANTINE


class LostStatus(_Strict):
    """A status column whose values say a deal is lost (``lost: {column: Stage, values: [Closed Lost]}``)."""

    column: str
    values: list[str] = Field(min_length=1)


class SourceMapping(_Strict):
    """A parsed ``source.yaml``; ``base_dir`` resolves relative paths."""

    preset: str | None = None
    leads: FileSource = FileSource()
    columns: dict[str, str] = Field(default_factory=dict)
    flags: dict[str, str] = Field(default_factory=dict)
    flag_true_values: list[str] = Field(default_factory=lambda: ["1", "yes", "y", "true", "t", "won"])
    id: IdSpec | None = None
    lost: LostStatus | None = None
    dates: Dates = Dates()
    values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    joins: list[Join] = Field(default_factory=list)
    spend: SpendSource | None = None
    rules: Rules = Rules()
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _consistent(self) -> "SourceMapping":
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {list(PRESETS)}, got {self.preset!r}")
        if "lead_id" not in self.columns and self.id is None:
            raise ValueError("columns.lead_id is missing: map your id column (columns: {lead_id: <your column>}) "
                             "or let the toolkit make one (id: {generate: row_number})")
        return self

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def preset_mapping(name: str) -> dict[str, Any]:
    """The mapping keys a preset provides (see ``sla_toolkit/presets/<name>.yaml``)."""
    text = resources.files("sla_toolkit").joinpath("presets", f"{name}.yaml").read_text(encoding="utf-8")
    import yaml

    return yaml.safe_load(text)


def mapping_from_dict(data: Any, source: str = "<dict>", base_dir: Path | None = None) -> SourceMapping:
    """Validate a parsed mapping, applying its preset first; raises :class:`SpecError` listing every problem."""
    if not isinstance(data, dict):
        raise SpecError(source, [("", f"expected a mapping of keys at the top level, got {type(data).__name__}")])
    preset = data.get("preset")
    if isinstance(preset, str) and preset in PRESETS:
        data = _merge(preset_mapping(preset), data)
    try:
        return SourceMapping.model_validate({**data, "base_dir": base_dir or Path(".")})
    except ValidationError as exc:
        raise SpecError(source, [(_format_location(e["loc"]), _friendly(e, SourceMapping))
                                 for e in exc.errors()]) from None


def load_mapping(path: str | Path) -> SourceMapping:
    """Load a ``source.yaml``; relative file paths inside it are relative to the yaml file."""
    path = Path(path)
    return mapping_from_dict(read_yaml(path), str(path), base_dir=path.resolve().parent)
