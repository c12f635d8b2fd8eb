"""Exceptions and stable reason codes.

Bad input raises one of the exceptions below; data too thin for a verdict does not
raise but returns a neutral result carrying a :class:`Reason` code.
"""
from __future__ import annotations

from enum import Enum


class SlaToolkitError(Exception):
    """Base class: every error the toolkit raises on purpose derives from it."""

    exit_code = 2


class SpecError(SlaToolkitError):
    """The SLA spec (or a source mapping) is invalid; lists every problem found.

    Parameters
    ----------
    source:
        The file the spec came from (or ``"<dict>"``).
    problems:
        ``(path, message)`` pairs, e.g. ``("funnel.targets.mql->sql", "must be between 0 and 1, got 1.4")``.
    """

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = list(problems)
        lines = [f"  - {path}: {message}" if path else f"  - {message}" for path, message in self.problems]
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} {noun}:\n" + "\n".join(lines))


class SourceError(SlaToolkitError):
    """A whole input file cannot be used (missing column, empty file, wrong delimiter, bad encoding).

    The message names the file, the column, what was found and what to change.
    """

    def __init__(self, file: str, problem: str, *, column: str | None = None,
                 found: str | None = None, fix: str | None = None):
        self.file = file
        self.column = column
        self.found = found
        self.fix = fix
        parts = [f"{file}: {problem}"]
        if found:
            parts.append(f"found: {found}")
        if fix:
            parts.append(f"fix: {fix}")
        super().__init__("; ".join(parts))


class RunError(SlaToolkitError):
    """A run failed after its input was accepted (a notebook cell error, a timeout)."""

    exit_code = 1


class ParameterError(SlaToolkitError):
    """A notebook parameter is unknown or has the wrong type; raised before any kernel starts."""


class Reason(str, Enum):
    """Stable codes for results that cannot give a verdict or a fit."""

    INSUFFICIENT_N = "insufficient_n"
    NO_COLUMN = "no_column"
    NO_TIMESTAMPS = "no_timestamps"
    NO_SPEND = "no_spend"
    NO_EVENTS = "no_events"
    ALL_EVENTS = "all_events"
    SINGLE_LEVEL = "single_level"
    PERFECT_SEPARATION = "perfect_separation"
    TOO_FEW_ROWS = "too_few_rows"
    NOT_CONVERGED = "not_converged"
    NOT_STARTED = "not_started"
    NO_TARGET = "no_target"
    OK = "ok"
