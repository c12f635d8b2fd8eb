"""Shared fixtures: where the real data lives, and how tests behave without it."""
from __future__ import annotations

import os
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
