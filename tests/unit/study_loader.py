"""Load a study script under ``studies/`` as a module, the way the study tests use it."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

STUDIES = Path(__file__).resolve().parents[2] / "studies"


def load_study(name: str) -> ModuleType:
    """``studies/<name>.py`` imported under the name ``<name>_study``."""
    spec = importlib.util.spec_from_file_location(f"{name}_study", STUDIES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
