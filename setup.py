"""Package layout (everything else is in pyproject.toml).

The paired notebooks (``notebooks/``) and the bundled campaigns (``data/``) stay at the top of the
repository, where people look for them, and ship inside the package as ``sla_toolkit._notebooks`` and
``sla_toolkit._data`` (read through ``importlib.resources``; see ``sla_toolkit/bundled.py``). One copy in git,
the same files in an editable install and in a wheel.
"""
from setuptools import find_packages, setup

BUNDLED = {"sla_toolkit._notebooks": "notebooks", "sla_toolkit._data": "data"}

setup(
    packages=find_packages(include=["sla_toolkit", "sla_toolkit.*"]) + list(BUNDLED),
    package_dir=BUNDLED,
)
