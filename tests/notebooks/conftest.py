"""Shared fixtures for notebook tests: one good run of the fixture notebook, reused by several tests."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from sla_toolkit.run.notebooks import RunOutcome, RunPlan, run_notebooks

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture_plan(out_root: Path, **parameters) -> RunPlan:
    return RunPlan(notebooks=[("report", FIXTURES / "report_fixture.ipynb", parameters)], out_root=out_root,
                   sla_slug="acme-inbound", cycle_id="2025-q1", timeout_s=120,
                   extra_files={"results.json": b'{"leads": 49}\n',
                                "files_before_extras.txt": lambda folder: "\n".join(
                                    sorted(p.name for p in folder.iterdir())).encode()},
                   report_title="Acme inbound · 2025-q1", progress=False)


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def fixture_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def make_plan() -> Callable[..., RunPlan]:
    """``make_plan(out_root, **parameters)``: the fixture notebook's plan for cycle acme-inbound/2025-q1."""
    return _fixture_plan


@pytest.fixture(scope="session")
def tree_digest() -> Callable[[Path], dict[str, str]]:
    """Relative path -> sha256 of every file below a folder (byte-for-byte comparison)."""
    return _tree_digest


@pytest.fixture(scope="session")
def good_run(tmp_path_factory) -> RunOutcome:
    """A successful run of the fixture notebook, executed once per session (a few seconds)."""
    return run_notebooks(_fixture_plan(tmp_path_factory.mktemp("reports")))


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is required in CI (Debian package `chromium`; .ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install -y chromium); the browser test needs it")
    return path


def _run_chromium(binary: str, tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="session")
def run_chromium() -> Callable[..., subprocess.CompletedProcess]:
    """``run_chromium(binary, tmp_path, *arguments)``: headless Chromium with networking disabled."""
    return _run_chromium
