"""``sla-toolkit`` with the tiny fixture notebook standing in for both real notebooks.

The run machinery (planning, folders, locks, ledger, signals, exit codes) is the real one; only the
notebooks are swapped, so a run takes seconds. Used in-process (:func:`main`) and as a script run in a
child process (``python tiny_cli.py run --sla ...``) by the fault-injection tests.
"""
from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

TINY_NOTEBOOK = Path(__file__).resolve().parent / "fixtures" / "tiny_run.ipynb"


def main(argv: list[str]) -> int:
    from sla_toolkit import cli, runs

    with mock.patch.object(runs, "CYCLE_NOTEBOOK", TINY_NOTEBOOK), \
            mock.patch.object(runs, "PACING_NOTEBOOK", TINY_NOTEBOOK):
        return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
