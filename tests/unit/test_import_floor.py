"""The fixed floor of every process: what the command line, a daily `pace` and a report kernel import.

One subprocess (a fresh interpreter, as a user's) checks, in order: ``import sla_toolkit.cli`` imports
no heavy library; ``pace`` on the sample (a clean file, a local ledger that exists) adds pandas only,
neither SQLAlchemy nor pandera; the modules the two notebooks import, and those a computed result
needs when it is unpickled in the kernel (``sla_toolkit.report.warm``'s list), import neither scipy, statsmodels, scikit-learn nor SQLAlchemy.
"""
from __future__ import annotations

import json
import subprocess
import sys

from sla_toolkit.datasets import example_paths
from sla_toolkit.history import History, ensure_schema
from sla_toolkit.report.warm import NOTEBOOK_MODULES

HEAVY = ("pandas", "sqlalchemy", "pandera", "scipy", "statsmodels", "sklearn", "matplotlib", "nbformat",
         "papermill", "nbconvert")
KERNEL_MODULES = (*NOTEBOOK_MODULES, "sla_toolkit.pacing_run", "sla_toolkit.models.suite")


def test_cli_pace_and_kernel_imports_stay_light(tmp_path):
    with History.at(tmp_path) as history:   # the ledger a daily pace finds
        ensure_schema(history.engine)
    sample = example_paths()
    pace = ["pace", "--sla", str(sample.sla), "--source", str(sample.source), "--as-of", "2025-03-10",
            "--out", str(tmp_path)]
    code = f"""
import importlib, json, sys
heavy = {HEAVY!r}
loaded = lambda: [m for m in heavy if m in sys.modules]
from sla_toolkit import cli
at_import = loaded()
code = cli.main({pace!r})
after_pace = loaded()
for name in {KERNEL_MODULES!r}:
    importlib.import_module(name)
print(json.dumps({{"code": code, "at_import": at_import, "after_pace": after_pace, "kernel": loaded()}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures == {"code": 0, "at_import": [], "after_pace": ["pandas"], "kernel": ["pandas", "matplotlib"]}
    with History.at(tmp_path) as history:
        assert list(history.list_runs()["kind"]) == ["pacing"]
