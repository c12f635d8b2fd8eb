"""Shared by the ingest tests: write small source files into a folder and load them."""
from __future__ import annotations

from pathlib import Path

from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import mapping_from_dict

AS_OF = "2024-12-31"


def load_csv_case(tmp_path: Path, csv_text: str, mapping: dict, spec, files: dict[str, str] | None = None):
    """Write leads.csv (and any other text files) into tmp_path and load them with ``mapping``."""
    (tmp_path / "leads.csv").write_text(csv_text, encoding="utf-8")
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    mapping = mapping_from_dict({"leads": {"path": "leads.csv"}, **mapping}, base_dir=tmp_path)
    return load_leads(spec, mapping, as_of=AS_OF)
