"""Fuzzing the readers of untrusted and semi-trusted input (hypothesis, derandomized).

Random bytes and random YAML trees go to the spec and mapping loaders, random cells to the CSV lead reader.
The only exceptions allowed out are the toolkit's own (SlaToolkitError: exit code 2 with a message);
anything else (KeyError, RecursionError, TypeError...) would be a traceback for the user.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_toolkit.errors import SlaToolkitError
from sla_toolkit.io import load_leads
from sla_toolkit.io.mapping import load_mapping
from sla_toolkit.spec import load_spec, spec_from_dict

def fuzz(examples: int) -> settings:
    return settings(derandomize=True, deadline=None, max_examples=examples, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
SPEC = spec_from_dict({"name": "fuzz", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                       "funnel": {"stages": ["lead", "mql", "customer"]}})
HEADER = ["Lead ID", "Created", "MQL Date", "Won Date", "Source", "Amount"]
MAPPING = ("leads: {path: leads.csv}\ncolumns: {lead_id: Lead ID, created_at: Created, mql_at: MQL Date, "
           "customer_at: Won Date, channel: Source, revenue: Amount}\n")
SPEC_KEYS = ["name", "period", "funnel", "stages", "targets", "start", "end", "segments", "kpis", "objectives",
             "analysis", "follow_up", "channel_mix", "lead->mql", "mql->customer", "min_n"]
MAPPING_KEYS = ["leads", "path", "columns", "lead_id", "created_at", "flags", "values", "joins", "spend", "sql",
                "url_env", "query", "id", "generate", "dates", "rules", "delimiter", "preset", "hook"]
counts = {"bytes": 0, "trees": 0, "cells": 0}


def _scalars() -> st.SearchStrategy:
    return st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=12), st.sampled_from(["2024-01-01", "lead", "mql", "leads.csv", "0.5"]))


def _trees(keys: list[str]) -> st.SearchStrategy:
    return st.recursive(_scalars(), lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), children,
                                                        max_size=5)), max_leaves=25)


def _only_our_errors(load, path: Path) -> None:
    try:
        load(path)
    except SlaToolkitError:
        pass


@fuzz(300)
@given(data=st.binary(max_size=400), which=st.sampled_from(["spec", "mapping"]))
def test_random_bytes_to_the_yaml_loaders(data, which):
    counts["bytes"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{which}.yaml"
        path.write_bytes(data)
        _only_our_errors(load_spec if which == "spec" else load_mapping, path)


@fuzz(200)
@given(spec_tree=_trees(SPEC_KEYS), mapping_tree=_trees(MAPPING_KEYS))
def test_random_yaml_trees_to_the_spec_and_mapping_loaders(spec_tree, mapping_tree):
    counts["trees"] += 1
    with tempfile.TemporaryDirectory() as folder:
        for name, tree, load in (("sla.yaml", spec_tree, load_spec), ("source.yaml", mapping_tree, load_mapping)):
            path = Path(folder) / name
            path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
            _only_our_errors(load, path)


_CELLS = st.one_of(st.text(max_size=15), st.sampled_from(
    ["", "2024-02-01", "2024-02-30", "=1+1", "-", "NaN", "1e309", "  ", '"', "\x00", "2024-01-05 25:00", "𝟚𝟘𝟚𝟜"]))


@fuzz(60)
@given(rows=st.lists(st.lists(_CELLS, min_size=len(HEADER), max_size=len(HEADER)), min_size=1, max_size=6))
def test_random_cells_to_the_csv_reader(rows):
    counts["cells"] += 1
    with tempfile.TemporaryDirectory() as folder:
        pd.DataFrame(rows, columns=HEADER).to_csv(Path(folder) / "leads.csv", index=False)
        (Path(folder) / "source.yaml").write_text(MAPPING, encoding="utf-8")
        try:
            data = load_leads(SPEC, Path(folder) / "source.yaml", as_of="2024-06-30")
        except SlaToolkitError:
            return
        assert data.quality.accepted_rows + data.quality.quarantined_rows == data.quality.input_rows


def test_the_fuzzers_ran():
    """Printed with -s: how many examples each fuzzer tried (run after the three above)."""
    print(f"fuzz examples: {counts}")
    assert all(n > 0 for n in counts.values()) or not any(counts.values())
