"""Shared fixtures: where the real data lives, and how tests behave without it."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = REPO.parent / "shared" / "data" / "real"


def real_data_dir(name: str) -> Path:
    """Folder of one real dataset; fails under CI=true when missing, skips (with the reason) elsewhere."""
    folder = REAL_DATA / name
    if not folder.is_dir():
        message = f"real data {folder} is missing (it lives in ../shared/data/real beside the repo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def olist_dir() -> Path:
    return real_data_dir("olist_funnel")


@pytest.fixture(scope="session")
def bank_dir() -> Path:
    return real_data_dir("bank_marketing")


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A folder of its own holding the bundled sample's sla.yaml, source.yaml, leads and spend."""
    from sla_toolkit.datasets import example_paths

    sample = example_paths()
    for path in (sample.sla, sample.source, sample.leads, sample.spend):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path
