"""JSON Schema for ``sla.yaml`` and ``source.yaml``, generated from the pydantic models on demand.

Nothing is committed, so the schema cannot drift from the code: ``sla-toolkit schema sla > sla.schema.json``,
then point the editor at it (VS Code's YAML extension: ``# yaml-language-server: $schema=sla.schema.json``
as the file's first line).
"""
from __future__ import annotations

from typing import Any

from .errors import SlaToolkitError

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS = ("sla", "source")


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of ``sla.yaml`` (``kind="sla"``) or ``source.yaml`` (``kind="source"``).

    Examples
    --------
    >>> json_schema("sla")["properties"]["funnel"]["$ref"]
    '#/$defs/Funnel'
    """
    if kind == "sla":
        from .spec import SlaSpec

        schema = SlaSpec.model_json_schema()
        title = "sla_toolkit SLA spec (sla.yaml)"
    elif kind == "source":
        from .io.mapping import SourceMapping

        schema = SourceMapping.model_json_schema()
        schema["properties"].pop("base_dir", None)   # set by the loader from the file's folder, not a key
        title = "sla_toolkit source mapping (source.yaml)"
    else:
        raise SlaToolkitError(f"no schema {kind!r}; choose one of {list(KINDS)}")
    return {"$schema": SCHEMA_DIALECT, **schema, "title": title}
