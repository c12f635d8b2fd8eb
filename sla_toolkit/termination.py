"""SIGTERM (cron, ``timeout``, systemd) handled like Ctrl-C, and test-only fault points.

:func:`terminate_as_exception` turns SIGTERM into a :class:`Terminated` exception, which the run
machinery treats like ``KeyboardInterrupt``: the partial folder goes to ``.failed-``, the ledger records
``failed`` and the command exits 143. Inside :func:`deferred_termination` (the two renames of a commit)
the signal is held and raised once the block is over, so a commit is never cut in half.
"""
from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

EXIT_TERMINATED = 128 + 15
FAULT_ENV = "SLA_TOOLKIT_TEST_FAULT"   # tests only: "<point>" or "<point>:<SIGNAL>"
FAULT_POINTS = ("locked", "executed", "exported", "aside", "swapped", "committed")


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM. ``committed_dir`` is set when the report was already in place."""

    committed_dir: Path | None = None
    failure_dir: Path | None = None


_state = {"depth": 0, "pending": False}


def _on_sigterm(signum: int, frame: object) -> None:
    if _state["depth"]:
        _state["pending"] = True
        return
    raise Terminated("terminated by SIGTERM")


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def deferred_termination() -> Iterator[None]:
    """Hold SIGTERM during the block; raise :class:`Terminated` after it if the signal came meanwhile."""
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
    if _state["depth"] == 0 and _state["pending"]:
        _state["pending"] = False
        raise Terminated("terminated by SIGTERM")


def fault_point(name: str) -> None:
    """Tests only: kill this process at the named point when ``$SLA_TOOLKIT_TEST_FAULT`` names it.

    The points, in the order a run passes them, are :data:`FAULT_POINTS`.
    """
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    point, _, signal_name = wanted.partition(":")
    if point == name:
        os.kill(os.getpid(), getattr(signal, signal_name or "SIGKILL", signal.SIGTERM))
