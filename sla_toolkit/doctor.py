"""``sla-toolkit doctor``: check the environment a run needs (like ``dbt debug``).

Each check is a :class:`Probe` with a status; required ones failing make the command exit 1.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

KERNEL_NAME = "python3"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ProbeStatus(str, Enum):
    OK = "ok"
    WARN = "warn"     # optional part missing: the toolkit works without it
    FAIL = "FAIL"     # a run will not work until this is fixed


@dataclass(frozen=True)
class Probe:
    """One environment check: what was checked, its status, and what was found or what to do."""

    name: str
    status: ProbeStatus
    detail: str

    def line(self) -> str:
        return f"  {self.status.value:<4}  {self.name}: {self.detail}"


def _package() -> Probe:
    from . import __version__
    from .bundled import data_folder, notebook_path

    try:
        notebooks = [notebook_path(name).name for name in ("cycle_report", "daily_pacing")]
        sample = data_folder() / "sample" / "leads.csv"
        if not sample.is_file():
            raise FileNotFoundError(sample)
    except Exception as exc:  # a broken install: name what is missing
        return Probe("sla_toolkit", ProbeStatus.FAIL, f"{__version__}, bundled files missing ({exc}); reinstall")
    return Probe("sla_toolkit", ProbeStatus.OK,
                 f"{__version__} at {Path(__file__).parent} (bundled: {', '.join(notebooks)}, sample campaign)")


def _kernel() -> Probe:
    """The notebooks' kernel must exist and import sla_toolkit (else papermill runs another Python)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        return Probe("kernel", ProbeStatus.FAIL, f"no Jupyter kernel {KERNEL_NAME!r}; install ipykernel in this "
                     f"environment ({sys.executable} -m pip install ipykernel)")
    python = spec.argv[0]
    python = sys.executable if python in ("python", "python3") else python
    try:
        done = subprocess.run([python, "-c", "import sla_toolkit, ipykernel; print(sla_toolkit.__version__)"],
                              capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Probe("kernel", ProbeStatus.FAIL, f"{KERNEL_NAME} runs {python}, which cannot start ({exc})")
    if done.returncode != 0:
        return Probe("kernel", ProbeStatus.FAIL, f"{KERNEL_NAME} runs {python}, which cannot import sla_toolkit; "
                     f"register this environment's kernel: {sys.executable} -m ipykernel install --user")
    return Probe("kernel", ProbeStatus.OK, f"{KERNEL_NAME} runs {python} (sla_toolkit {done.stdout.strip()})")


def _ledger(out: Path, env_var: str | None) -> Probe:
    from .history import history_location

    try:
        location = history_location(out, env_var)
    except Exception as exc:
        return Probe("history ledger", ProbeStatus.FAIL, str(exc))
    if location.sqlite_path is not None:
        folder = location.sqlite_path.parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is None or not os.access(existing, os.W_OK):
            return Probe("history ledger", ProbeStatus.FAIL, f"{location.label}: {existing} is not writable")
        state = "exists" if location.sqlite_path.exists() else "created on the first run"
        return Probe("history ledger", ProbeStatus.OK, f"{location.label} ({state})")
    from .history import History

    try:
        with History(location) as history:
            history.list_runs(None)
    except Exception as exc:
        return Probe("history ledger", ProbeStatus.FAIL, f"{location.label}: cannot connect or read ({exc})")
    return Probe("history ledger", ProbeStatus.OK, f"{location.label} (connected)")


def _extras() -> list[Probe]:
    from .extras import EXTRAS, installed

    return [Probe(f"extra [{name}]", ProbeStatus.OK if installed(name) else ProbeStatus.WARN,
                  f"{purpose}: " + ("installed" if installed(name) else
                                    f"not installed (pip install 'sla_toolkit[{name}]')"))
            for name, (_, purpose) in EXTRAS.items()]


def _chromium() -> Probe:
    found = next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)
    if found:
        return Probe("chromium", ProbeStatus.OK, f"{found} (optional: screenshots of report.html)")
    return Probe("chromium", ProbeStatus.WARN, "not found (optional: only for screenshots of report.html)")


def run_probes(out: Path = Path("reports"), env_var: str | None = None) -> list[Probe]:
    """Every check, in the order they are printed."""
    python = Probe("python", ProbeStatus.OK if sys.version_info >= (3, 11) else ProbeStatus.FAIL,
                   f"{sys.version.split()[0]} at {sys.executable}")
    return [python, _package(), _kernel(), _ledger(out, env_var), *_extras(), _chromium()]
