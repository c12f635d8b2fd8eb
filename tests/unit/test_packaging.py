"""pyproject.toml and environment.yml list the same packages (issue [1]: the two lists must not drift)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# pip name -> conda-forge name, where they differ
CONDA_NAMES: dict[str, str] = {}
NOT_PACKAGES = {"python", "pip"}
ISSUE_RUNTIME = {"pandas", "numpy", "statsmodels", "scikit-learn", "matplotlib", "papermill", "ipykernel",
                 "nbconvert", "pydantic", "pandera", "pyyaml", "sqlalchemy", "jinja2"}
ISSUE_TEST = {"pytest", "hypothesis", "psycopg"}
# issue [11]: parts only some users need are extras, and the test extra holds every one of them
# (pyarrow became core: every run writes open_lead_scores.parquet; the [parquet] extra is kept as an alias)
EXTRAS = {"excel": {"openpyxl"}, "lab": {"jupyterlab", "jupytext"}, "postgres": {"psycopg"}}
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipython"}


def normalized(requirement: str) -> str:
    """'psycopg[binary]>=3.1' -> 'psycopg'; 'scikit_learn' -> 'scikit-learn' (PEP 503 style)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    name = re.sub(r"[-_.]+", "-", name).lower()
    return CONDA_NAMES.get(name, name)


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def conda_packages() -> set[str]:
    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    names = {normalized(entry) for entry in environment["dependencies"] if isinstance(entry, str)}
    return names - NOT_PACKAGES


def runtime() -> set[str]:
    return {normalized(r) for r in pyproject()["project"]["dependencies"]}


def extra_test_packages() -> set[str]:
    return {normalized(r) for r in pyproject()["project"]["optional-dependencies"]["test"]}


def test_normalized_names():
    assert normalized("psycopg[binary]>=3.1") == "psycopg"
    assert normalized("Scikit_Learn >=1.4") == "scikit-learn"
    assert normalized("pyyaml") == "pyyaml"
    assert normalized("ruamel.yaml==0.18") == "ruamel-yaml"


def test_runtime_dependencies_and_environment_agree():
    conda = conda_packages() - extra_test_packages()
    assert sorted(runtime() - conda) == [], "in pyproject.toml, missing from environment.yml"
    assert sorted(conda - runtime()) == [], "in environment.yml, missing from pyproject.toml"


def test_environment_has_the_test_extra():
    assert extra_test_packages() >= ISSUE_TEST
    assert sorted(extra_test_packages() - conda_packages()) == []


def test_the_issue_dependencies_are_declared():
    assert sorted(ISSUE_RUNTIME - runtime()) == []
    assert pyproject()["project"]["requires-python"] == ">=3.11"


def test_environment_installs_the_package_itself():
    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)]
    assert any(any(line.replace(" ", "") in ("-e.", ".", "-e.[test]") for line in section)
               for section in pip_sections)


def test_console_script_points_at_the_cli():
    assert pyproject()["project"]["scripts"]["sla-toolkit"] == "sla_toolkit.cli:console_main"


def imported_top_level_modules() -> set[str]:
    """Every third-party module the package and its notebooks import (standard library left out)."""
    import ast
    import sys

    names = set()
    for path in [*(REPO / "sla_toolkit").rglob("*.py"), *(REPO / "notebooks").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in ("sla_toolkit", "__future__")}


def test_every_imported_package_is_declared():
    optional = {module for module, _ in __import__("sla_toolkit.extras").extras.EXTRAS.values()}
    declared = runtime() | {normalized(r) for extra in pyproject()["project"]["optional-dependencies"].values()
                            for r in extra}
    missing = {DISTRIBUTIONS.get(m, m).replace("_", "-").lower() for m in imported_top_level_modules() - optional}
    # pydantic_core comes with pydantic
    assert sorted(missing - declared - {"pydantic-core"}) == []


def test_extras_and_the_test_extra_holds_them_all():
    extras = pyproject()["project"]["optional-dependencies"]
    for name, packages in EXTRAS.items():
        assert {normalized(r) for r in extras[name]} == packages, name
        assert packages <= extra_test_packages(), f"`.[test]` must run every test: add the [{name}] extra's packages"
        assert not packages & runtime(), f"{packages} is an extra, not a core dependency"


def test_notebooks_and_sample_data_ship_as_package_data():
    from sla_toolkit import bundled

    assert bundled.notebook_path("cycle_report").read_bytes() == (REPO / "notebooks" / "cycle_report.ipynb").read_bytes()
    assert (bundled.sample_folder() / "leads.csv").read_bytes() == (REPO / "data" / "sample" / "leads.csv").read_bytes()
    data = pyproject()["tool"]["setuptools"]["package-data"]
    assert "*.ipynb" in data["sla_toolkit._notebooks"] and "sample/*" in data["sla_toolkit._data"]
