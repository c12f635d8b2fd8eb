"""How lead scoring validates its models: random stratified folds, or forward chaining in time.

A model that scores leads is used on the *next* leads, so when the leads have a time order (their
creation date, or ``analysis.time_order: row`` for a file already in time order) each fold is trained
on earlier leads only and tested on the block that follows (scikit-learn's ``TimeSeriesSplit``). The
last block, the latest ``1 / folds`` of the leads scored by a model trained on everything before it,
gives the out-of-time AUC that decides between the models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..spec import TimeOrder

Split = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class ValidationPlan:
    """The folds used and how to describe them.

    Attributes
    ----------
    order:
        ``"created_at"``, ``"row"`` or ``"random"``: the time order used (random: none).
    splits:
        ``(train, test)`` positions into the (time-sorted) rows.
    notes:
        Plain sentences about choices made (folds skipped for lack of conversions, fallbacks).
    """

    order: str
    splits: tuple[Split, ...]
    notes: tuple[str, ...] = ()

    @property
    def time_ordered(self) -> bool:
        return self.order != TimeOrder.RANDOM.value

    @property
    def latest(self) -> Split:
        """The out-of-time split: the latest block, trained on every earlier lead."""
        return self.splits[-1]

    def describe(self, folds: int) -> str:
        if not self.time_ordered:
            return f"{folds}-fold stratified random cross-validation"
        by = "creation date" if self.order == TimeOrder.CREATED_AT.value else "row order of the file"
        return (f"forward-chaining cross-validation in time ({by}): each block of leads scored by a model "
                f"trained on the earlier ones only; out-of-time AUC on the latest {1 / folds:.0%}")


def resolve_time_order(requested: TimeOrder | str, rows: pd.DataFrame) -> str:
    """The order actually used: ``auto`` becomes ``created_at`` when every row has a creation date."""
    requested = TimeOrder(requested)
    has_dates = "created_at" in rows.columns and len(rows) > 0 and rows["created_at"].notna().all()
    if requested == TimeOrder.AUTO:
        return TimeOrder.CREATED_AT.value if has_dates else TimeOrder.RANDOM.value
    if requested == TimeOrder.CREATED_AT and not has_dates:
        raise ValueError("analysis.time_order is created_at but some leads have no creation date")
    return requested.value


def time_sorted(rows: pd.DataFrame, order: str) -> pd.DataFrame:
    """Rows by creation date (ties keep file order) for ``created_at``; unchanged otherwise."""
    if order == TimeOrder.CREATED_AT.value:
        return rows.sort_values("created_at", kind="stable")
    return rows


def plan_validation(y: np.ndarray, order: str, folds: int, seed: int) -> ValidationPlan:
    """Folds for ``y`` (already in time order when ``order`` is not random).

    Forward chaining uses ``folds - 1`` splits of ``len(y) // folds`` test rows each, so the first
    block is only ever trained on and the last split tests the latest ``1 / folds`` of the leads.
    A split whose training or test block lacks conversions or non-conversions is skipped (noted);
    when none is left, random stratified folds are used instead (noted).
    """
    from sklearn.model_selection import StratifiedKFold, TimeSeriesSplit

    if order != TimeOrder.RANDOM.value:
        chained = TimeSeriesSplit(n_splits=max(folds - 1, 1), test_size=len(y) // folds).split(np.arange(len(y)))
        kept, skipped = [], 0
        for train, test in chained:
            if all(0 < y[part].sum() < len(part) for part in (train, test)):
                kept.append((train, test))
            else:
                skipped += 1
        notes = [f"{skipped} time block(s) without both conversions and non-conversions were skipped"] if skipped else []
        if kept and kept[-1][1][-1] == len(y) - 1:
            return ValidationPlan(order, tuple(kept), tuple(notes))
        notes = [f"the latest block of leads has no conversions (or only conversions), so the {order} time order "
                 "cannot give an out-of-time AUC; random stratified folds are used instead"]
        order = TimeOrder.RANDOM.value
    else:
        notes = []
    random_folds = StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    return ValidationPlan(order, tuple(random_folds), tuple(notes))
