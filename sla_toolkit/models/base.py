"""What every conversion model shares: the frozen fit result and the lifelines-style fitter shape.

A fitter is configured in its constructor, ``fit()`` returns the fitter itself, and what it learnt
is kept in attributes ending in ``_``; ``result_`` is a frozen :class:`FitResult` that renders
itself (``summary``, ``to_dict()``, ``_repr_html_()``). Data that cannot support a fit (no
conversions, a single level, separation, ...) never raises: the result has ``fitted=False``, a
stable :class:`~sla_toolkit.errors.Reason` and a plain message.
"""
from __future__ import annotations

import html
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd

from ..errors import Reason, SlaToolkitError
from ..results import ResultMixin


class NotFittedError(SlaToolkitError, RuntimeError):
    """A fitter was asked for results before ``fit()`` was called."""


@dataclass(frozen=True)
class FitResult(ResultMixin):
    """Outcome of one model fit, successful or not.

    Attributes
    ----------
    model:
        Which model produced it (``"adjusted_effects"``, ``"lead_scoring"``, ``"time_to_convert"``).
    fitted:
        False when the data cannot support the model; ``reason`` and ``message`` say why.
    summary:
        One row per term (or per candidate model), with the denominators behind it.
    n_rows, n_events:
        Rows used by the fit and conversions among them.
    notes:
        Plain sentences about choices made on the way (reference levels, excluded levels or columns).
    """

    model: str
    fitted: bool
    reason: Reason
    message: str
    summary: pd.DataFrame
    n_rows: int = 0
    n_events: int = 0
    confidence: float = 0.95
    notes: tuple[str, ...] = ()

    @property
    def title(self) -> str:  # type: ignore[override]
        return self.model.replace("_", " ")

    def to_frame(self) -> pd.DataFrame:
        return self.summary

    def _repr_html_(self) -> str:
        status = "fitted" if self.fitted else f"cannot fit ({self.reason.value})"
        lines = [f"<p><b>{html.escape(status)}</b>: {html.escape(self.message)} "
                 f"(n = {self.n_rows:,}, conversions = {self.n_events:,})</p>"]
        lines += [f"<p><i>{html.escape(note)}</i></p>" for note in self.notes]
        return super()._repr_html_() + "\n".join(lines)


def cannot_fit(result_type: type[FitResult], model: str, reason: Reason, message: str, columns: list[str],
               rows: list[dict] | tuple = (), **fields) -> FitResult:
    """A ``fitted=False`` result; its summary keeps the usual columns (and any rows worth showing)."""
    return result_type(model=model, fitted=False, reason=reason, message=message,
                       summary=pd.DataFrame(list(rows), columns=columns), **fields)


class Fitter:
    """Mixin giving a fitter the shared read-only view of its ``result_``."""

    result_: FitResult | None = None

    def _fitted_result(self) -> FitResult:
        if self.result_ is None:
            raise NotFittedError(f"{type(self).__name__} has no result yet: call .fit(frame) first")
        return self.result_

    @property
    def fitted_(self) -> bool:
        return self._fitted_result().fitted

    @property
    def reason_(self) -> Reason:
        return self._fitted_result().reason

    @property
    def summary(self) -> pd.DataFrame:
        return self._fitted_result().summary

    def to_dict(self) -> dict:
        return self._fitted_result().to_dict()

    def _repr_html_(self) -> str:
        return self._fitted_result()._repr_html_()

    def __repr__(self) -> str:
        if self.result_ is None:
            return f"<{type(self).__name__}: not fitted>"
        r = self.result_
        state = "fitted" if r.fitted else f"cannot fit: {r.reason.value}"
        return f"<{type(self).__name__}: {state}, n={r.n_rows}, events={r.n_events}>"


@dataclass(frozen=True)
class FitWarnings:
    """Warnings raised inside a fit, sorted into the ones that decide whether it can be trusted."""

    convergence: list[str] = field(default_factory=list)
    separation: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)


@contextmanager
def captured_fit_warnings() -> Iterator[FitWarnings]:
    """Record statsmodels/numpy warnings during a fit instead of letting them reach the user."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    found = FitWarnings()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield found
    for item in caught:
        text = str(item.message)
        if issubclass(item.category, PerfectSeparationWarning):
            found.separation.append(text)
        elif issubclass(item.category, ConvergenceWarning):
            found.convergence.append(text)
        else:
            found.other.append(text)
