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
                 "nbconvert", "jupyterlab", "pydantic", "pandera", "pyyaml", "sqlalchemy", "jinja2", "openpyxl",
                 "pyarrow"}
ISSUE_TEST = {"pytest", "hypothesis", "psycopg"}


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
    assert pyproject()["project"]["scripts"]["sla-toolkit"] == "sla_toolkit.cli:main"
