"""Lead scoring: each lead's probability of converting within the window.

Two scikit-learn pipelines are compared by cross-validation on the matured leads: one-hot encoding +
logistic regression, and a histogram gradient-boosting classifier with native categorical support
(ordinal-encoded levels). When the leads have a time order (creation dates, or ``analysis.time_order:
row``), the folds chain forward in time and the model with the better **out-of-time** AUC (the latest
leads, scored by a model trained on the earlier ones) is chosen; otherwise stratified random folds and
the pooled out-of-fold AUC decide (see :mod:`.validation`). AUCs carry a DeLong interval (the
uncertainty of the test sample, not that of refitting); the fold-by-fold range is shown beside them.
The Brier score and calibration curve use the same out-of-fold predictions; permutation importance
(drop in AUC) is measured on held-out leads (the latest block when time-ordered). The chosen model is
refit on all matured leads. Columns the spec marks as leaky are excluded and listed in ``excluded_``;
columns that look like leaks are flagged and the model refit without them (see :mod:`.leaks`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Sequence

import numpy as np
import pandas as pd

from ..check_labels import format_count, plural
from ..errors import Reason
from ..results import ResultMixin, jsonable
from ..spec import SlaSpec, TimeOrder
from .auc import auc_interval, delong_auc
from .base import FitResult, Fitter, cannot_fit
from .design import MISSING_LEVEL, distinct_rows, level_labels, matured_rows, model_columns, split_columns
from .leaks import LEAK_COLUMNS, leak_note, leak_table, single_feature_auc
from .validation import ValidationPlan, plan_validation, resolve_time_order, time_sorted

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.pipeline import Pipeline

# Matured leads above which the scorer is fitted and cross-validated on a stratified random sample
# of this many (conversion share kept): the fit's cost grows with rows, its AUC interval shrinks only
# with their square root. At 50,000 rows and a 10% conversion share the interval is about ±0.01.
SCORING_SAMPLE_ROWS = 50_000

# Levels kept per categorical column (most frequent first); the rest share one code. Gradient
# boosting's native categorical support takes codes below its 255 bins.
_MAX_LEVELS = 250
SUMMARY_COLUMNS = ["model", "auc", "auc_low", "auc_high", "fold_auc_min", "fold_auc_max", "out_of_time_auc",
                   "out_of_time_low", "out_of_time_high", "brier", "chosen"]
REFIT_COLUMNS = ["model", "inputs", "auc", "auc_low", "auc_high"]
AUC_INTERVAL = "DeLong interval of the pooled out-of-fold AUC"


@dataclass(frozen=True)
class LeadScoringResult(FitResult):
    """Model comparison (``summary``), calibration of each model and permutation importance of the chosen one."""

    chosen: str = ""
    features: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    auc_interval: str = AUC_INTERVAL
    sampled_from: int = 0    # matured leads the stratified sample was drawn from (0: all rows were used)
    time_order: str = "random"   # created_at / row: forward-chaining folds and an out-of-time AUC
    validation: str = ""
    possible_leaks: tuple[str, ...] = ()
    leak_check: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LEAK_COLUMNS))
    leak_refit: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REFIT_COLUMNS))
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)

    def plot_calibration(self, ax=None):
        """Observed conversion share against mean predicted probability, per model; returns the Axes."""
        from .plots import new_axes

        ax = new_axes(ax, height=5)
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        for name, rows in self.calibration.groupby("model", sort=False):
            ax.plot(rows["mean_predicted"], rows["observed"], marker="o", label=name)
        ax.set_xlabel("mean predicted probability (out of fold)")
        ax.set_ylabel("observed conversion share")
        ax.legend()
        return ax

    def plot_importance(self, ax=None, top: int = 15):
        """Permutation importance (drop in AUC) of the chosen model's inputs; returns the Axes."""
        from .plots import new_axes

        rows = self.importance.head(top).iloc[::-1]
        ax = new_axes(ax, height=max(2.5, 0.3 * len(rows) + 1))
        ax.barh(rows["feature"], rows["importance_mean"], xerr=rows["importance_std"], color="C0")
        ax.set_xlabel("drop in ROC AUC when shuffled")
        return ax


@dataclass(frozen=True)
class ScoringInputs:
    """What :meth:`LeadScorer.prepare` hands to :meth:`LeadScorer.cross_validate`: the numeric inputs of the
    (sampled) matured rows, their outcomes, the notes so far and the result's counts."""

    inputs: pd.DataFrame
    y: np.ndarray
    notes: tuple[str, ...]
    base: dict


class LeadScorer(Fitter):
    """Compare logistic regression and gradient boosting by CV, keep the better one, score leads.

    Parameters
    ----------
    features:
        Input columns (categorical or numeric by dtype); those in ``leaky`` are excluded.
    folds:
        Cross-validation folds (needs at least that many conversions and non-conversions).
    time_order:
        ``auto`` (by ``created_at`` when every lead has one, else random folds), ``created_at``, ``row``
        (the frame is already in time order) or ``random``; see :mod:`.validation`.
    threads:
        Cap on BLAS/OpenMP threads while fitting; ``None`` leaves the libraries' default (all cores).
        The default, 1, suits the many cycles a scheduler runs side by side on one machine, where
        oversubscribed threads were measured to be 3-6 times slower; raise it for one large table.
    """

    MODELS: ClassVar[tuple[str, ...]] = ("logistic_regression", "gradient_boosting")

    def __init__(self, features: Sequence[str], *, leaky: Sequence[str] = (), folds: int = 5, seed: int = 0,
                 confidence: float = 0.95, calibration_bins: int = 10, importance_repeats: int = 5,
                 threads: int | None = 1, max_rows: int | None = SCORING_SAMPLE_ROWS, time_order: str = "auto"):
        self.features = list(features)
        self.time_order = time_order
        self.max_rows = max_rows
        self.leaky = list(leaky)
        self.folds = folds
        self.seed = seed
        self.confidence = confidence
        self.calibration_bins = calibration_bins
        self.importance_repeats = importance_repeats
        self.threads = threads

    @classmethod
    def from_spec(cls, spec: SlaSpec, **options) -> "LeadScorer":
        return cls(model_columns(spec), leaky=spec.leaky, confidence=spec.analysis.confidence,
                   seed=spec.analysis.seed, time_order=TimeOrder(spec.analysis.time_order).value, **options)

    def fit(self, frame: pd.DataFrame, outcome: str = "converted_in_window") -> "LeadScorer":
        """Cross-validate both pipelines on the matured rows, then refit the better one on all of them."""
        prepared = self.prepare(frame, outcome)
        return self if prepared is None else self.cross_validate(prepared)

    def prepare(self, frame: pd.DataFrame, outcome: str = "converted_in_window") -> ScoringInputs | None:
        """The first half of :meth:`fit`: matured rows in time order, the sample above :attr:`max_rows` and the
        numeric inputs; None when the data cannot support a model (``result_`` then says why).

        :meth:`cross_validate` on what this returns is the second half, and may run in another process
        (:mod:`sla_toolkit.run.worker`): it reads nothing but the scorer and these inputs.
        """
        read = [*self.features, outcome, "matured", "created_at", "duration_days", "event"]
        rows, n_open = matured_rows(frame[[c for c in dict.fromkeys(read) if c in frame.columns]])
        notes = [f"{format_count(n_open, 'lead')} whose window has not elapsed {plural('is', n_open, 'are')} left out"] \
            if n_open else []
        self.time_order_ = resolve_time_order(self.time_order, rows)
        rows = time_sorted(rows, self.time_order_)
        self.excluded_ = tuple(c for c in self.features if c in self.leaky)
        used = [c for c in self.features if c in rows.columns and c not in self.excluded_]
        self.categorical_, self.numeric_ = split_columns(rows, used)
        self.vocabularies_ = {c: _vocabulary(rows[c]) for c in self.categorical_}
        self.pipeline_ = None
        self.chosen_ = ""
        self.conversion_days_ = _conversion_days(rows, outcome)
        y = rows[outcome].astype(bool).to_numpy()
        base = dict(n_rows=len(y), n_events=int(y.sum()), confidence=self.confidence, features=tuple(used),
                    excluded=self.excluded_)
        if self.excluded_:
            notes.append(f"left out as leaky (spec.leaky): {', '.join(self.excluded_)}")
        problem = self._data_problem(rows, used, y)
        if problem:
            self.result_ = cannot_fit(LeadScoringResult, "lead_scoring", *problem, SUMMARY_COLUMNS,
                                      notes=tuple(notes), **base)
            return None
        if self.max_rows and len(y) > self.max_rows:
            keep = stratified_sample(y, self.max_rows, self.seed)
            notes.append(f"fitted and cross-validated on a stratified random sample of {len(keep):,} of the "
                         f"{len(y):,} matured leads (same conversion share); the AUC interval is that of the "
                         f"sample, about {np.sqrt(len(y) / len(keep)):.1f} times as wide as all rows would give")
            rows, y = rows.iloc[keep], y[keep]   # inputs are built for the sampled rows only
            base.update(n_rows=len(y), n_events=int(y.sum()), sampled_from=base["n_rows"])
        return ScoringInputs(self._inputs(rows), y, tuple(notes), base)

    def cross_validate(self, prepared: ScoringInputs) -> "LeadScorer":
        """The second half of :meth:`fit`: both pipelines cross-validated, the better one refitted (``result_``)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=self.threads):
            self.result_ = self._cross_validate(prepared.inputs, prepared.y, list(prepared.notes), dict(prepared.base))
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of converting within the window, from the chosen model."""
        from threadpoolctl import threadpool_limits

        if self.pipeline_ is None:
            raise ValueError(f"no model to score with: {self._fitted_result().message}")
        distinct, inverse = distinct_rows(self._inputs(frame).to_numpy(float))
        with threadpool_limits(limits=self.threads):
            return self.pipeline_.predict_proba(distinct)[:, 1][inverse]

    def plot_calibration(self, ax=None):
        return self._fitted_result().plot_calibration(ax)

    def plot_importance(self, ax=None, top: int = 15):
        return self._fitted_result().plot_importance(ax, top)

    # -- steps ------------------------------------------------------------------------------------
    def _data_problem(self, rows: pd.DataFrame, used: list[str], y: np.ndarray) -> tuple[Reason, str] | None:
        events = int(y.sum())
        if len(y) == 0:
            return Reason.INSUFFICIENT_N, "no matured leads to fit on"
        if events == 0:
            return Reason.NO_EVENTS, f"none of the {len(y):,} leads converted; there is nothing to score"
        if events == len(y):
            return Reason.ALL_EVENTS, f"all {len(y):,} leads converted; there is nothing to score"
        if min(events, len(y) - events) < self.folds:
            return Reason.INSUFFICIENT_N, (f"{events} conversions and {len(y) - events} non-conversions; "
                                           f"{self.folds}-fold cross-validation needs at least {self.folds} of each")
        if not used:
            return Reason.NO_COLUMN, "no input column left (after leaky and absent columns)"
        if all(rows[c].nunique(dropna=False) < 2 for c in used):
            return Reason.SINGLE_LEVEL, "every input column has a single value; there is nothing to score on"
        return None

    def _inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Numeric model inputs: categorical levels as integer codes (unseen levels missing)."""
        columns = {}
        for name in self.categorical_:
            vocabulary = self.vocabularies_[name]
            # each distinct value's label looked up once (as level_labels words it), not each row's
            distinct, values = pd.factorize(frame[name], use_na_sentinel=True)
            position = {label: i for i, label in enumerate(vocabulary)}
            lookup = np.array([position.get(str(v), -1) for v in values] + [position.get(MISSING_LEVEL, -1)],
                              dtype=float)
            codes = lookup[distinct]
            codes[codes < 0] = _MAX_LEVELS if len(vocabulary) == _MAX_LEVELS else np.nan
            columns[name] = codes
        columns.update({c: frame[c].to_numpy(float) for c in self.numeric_})
        return pd.DataFrame(columns, index=frame.index)[self.categorical_ + self.numeric_]

    def _pipelines(self, categorical: list[str] | None = None, numeric: list[str] | None = None
                   ) -> dict[str, Pipeline]:
        """Both pipelines for inputs whose columns are ``categorical`` then ``numeric``, passed as a numpy array
        (column positions, not names: a fraction of pandas' per-call cost, the same fits and scores)."""
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline, make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        n_cat = len(self.categorical_ if categorical is None else categorical)
        n_num = len(self.numeric_ if numeric is None else numeric)
        cat, num = list(range(n_cat)), list(range(n_cat, n_cat + n_num))
        linear = ColumnTransformer([
            ("categorical", OneHotEncoder(handle_unknown="ignore"), cat),
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), num)])
        boosting = HistGradientBoostingClassifier(categorical_features=[True] * n_cat + [False] * n_num,
                                                  random_state=self.seed)
        return {"logistic_regression": Pipeline([("encode", linear), ("model", LogisticRegression(max_iter=2000))]),
                "gradient_boosting": Pipeline([("model", boosting)])}

    def _cross_validate(self, inputs: pd.DataFrame, y: np.ndarray, notes: list[str], base: dict) -> LeadScoringResult:
        from sklearn.base import clone
        from sklearn.calibration import calibration_curve
        from sklearn.inspection import permutation_importance

        plan = plan_validation(y, self.time_order_, self.folds, self.seed)
        self.time_order_ = plan.order
        notes.extend(plan.notes)
        comparison, calibration, held_out_models = [], [], {}
        for name, pipeline in self._pipelines().items():
            row, out_of_fold, held_out_models[name] = self._validate(name, pipeline, inputs, y, plan, notes)
            comparison.append(row)
            scored = ~np.isnan(out_of_fold)
            observed, predicted = calibration_curve(y[scored], out_of_fold[scored], n_bins=self.calibration_bins,
                                                    strategy="quantile")
            calibration.append(pd.DataFrame(dict(model=name, mean_predicted=predicted, observed=observed)))
        summary = pd.DataFrame(comparison)
        criterion = "out_of_time_auc" if plan.time_ordered else "auc"
        self.chosen_ = str(summary.loc[summary[criterion].idxmax(), "model"])  # first (logistic) wins ties
        summary["chosen"] = summary["model"] == self.chosen_
        matrix = inputs.to_numpy(float)
        self.pipeline_ = clone(self._pipelines()[self.chosen_]).fit(matrix, y)
        held_out = plan.latest[1] if plan.time_ordered else plan.splits[0][1]
        importance = permutation_importance(held_out_models[self.chosen_], matrix[held_out], y[held_out],
                                            scoring="roc_auc", n_repeats=self.importance_repeats,
                                            random_state=self.seed)
        importance_table = pd.DataFrame(dict(feature=inputs.columns, importance_mean=importance.importances_mean,
                                             importance_std=importance.importances_std)) \
            .sort_values("importance_mean", ascending=False, ignore_index=True)
        leaks = leak_table(single_feature_auc(inputs, y, self.categorical_, self.seed), importance_table,
                           model_auc=float(summary.loc[summary["chosen"], criterion].iloc[0]))
        possible_leaks = tuple(leaks.loc[leaks["possible_leak"], "feature"])
        refit = self._refit_without(possible_leaks, summary, inputs, y, plan) if possible_leaks else None
        if possible_leaks:
            notes.append(leak_note(leaks))
        basis = "out-of-time ROC AUC on the latest leads" if plan.time_ordered else f"{self.folds}-fold CV ROC AUC"
        return LeadScoringResult(model="lead_scoring", fitted=True, reason=Reason.OK,
                                 message=f"{self.chosen_} chosen by {basis}. Validation: "
                                         f"{plan.describe(self.folds)}. Intervals: {AUC_INTERVAL}"
                                         + (" and of the out-of-time AUC" if plan.time_ordered else ""),
                                 summary=summary[SUMMARY_COLUMNS], notes=tuple(notes), chosen=self.chosen_,
                                 calibration=pd.concat(calibration, ignore_index=True), importance=importance_table,
                                 time_order=plan.order, validation=plan.describe(self.folds),
                                 possible_leaks=possible_leaks, leak_check=leaks,
                                 leak_refit=refit if refit is not None else pd.DataFrame(columns=REFIT_COLUMNS), **base)

    def _validate(self, name: str, pipeline: Pipeline, inputs: pd.DataFrame, y: np.ndarray, plan: ValidationPlan,
                  notes: list[str]) -> tuple[dict, np.ndarray, Pipeline]:
        """One model through every fold: its summary row, out-of-fold scores (NaN: never tested), held-out model."""
        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import brier_score_loss, roc_auc_score

        out_of_fold, fold_auc, held_out_models = np.full(len(y), np.nan), [], []
        matrix = inputs.to_numpy(float)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            for train, test in plan.splits:
                model = clone(pipeline).fit(matrix[train], y[train])
                out_of_fold[test] = model.predict_proba(matrix[test])[:, 1]
                fold_auc.append(roc_auc_score(y[test], out_of_fold[test]))
                held_out_models.append(model)
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            notes.append(f"{name}: the optimiser hit its iteration limit in some folds")
        scored = ~np.isnan(out_of_fold)
        auc, std_err = delong_auc(y[scored], out_of_fold[scored])
        low, high = auc_interval(auc, std_err, self.confidence)
        row = dict(model=name, auc=auc, auc_low=low, auc_high=high, fold_auc_min=min(fold_auc),
                   fold_auc_max=max(fold_auc), out_of_time_auc=np.nan, out_of_time_low=np.nan,
                   out_of_time_high=np.nan, brier=brier_score_loss(y[scored], out_of_fold[scored]))
        if plan.time_ordered:
            latest = plan.latest[1]
            oot, oot_err = delong_auc(y[latest], out_of_fold[latest])
            oot_low, oot_high = auc_interval(oot, oot_err, self.confidence)
            row.update(out_of_time_auc=oot, out_of_time_low=oot_low, out_of_time_high=oot_high)
        return row, out_of_fold, held_out_models[-1] if plan.time_ordered else held_out_models[0]

    def _refit_without(self, leaks: tuple[str, ...], summary: pd.DataFrame, inputs: pd.DataFrame, y: np.ndarray,
                       plan: ValidationPlan) -> pd.DataFrame:
        """The chosen model validated the same way without the possible leaks, beside the original."""
        prefix = "out_of_time_" if plan.time_ordered else ""
        original = summary.set_index("model").loc[self.chosen_]
        rows = [dict(model=self.chosen_, inputs="all", auc=original[f"{prefix}auc"],
                     auc_low=original[f"{prefix}low" if prefix else "auc_low"],
                     auc_high=original[f"{prefix}high" if prefix else "auc_high"])]
        kept = [c for c in inputs.columns if c not in leaks]
        if kept:
            pipeline = self._pipelines([c for c in self.categorical_ if c in kept],
                                       [c for c in self.numeric_ if c in kept])[self.chosen_]
            refit, _, _ = self._validate(self.chosen_, pipeline, inputs[kept], y, plan, [])
            rows.append(dict(model=self.chosen_, inputs=f"without {', '.join(leaks)}", auc=refit[f"{prefix}auc"],
                             auc_low=refit[f"{prefix}low" if prefix else "auc_low"],
                             auc_high=refit[f"{prefix}high" if prefix else "auc_high"]))
        return pd.DataFrame(rows, columns=REFIT_COLUMNS)


def stratified_sample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted positions of a random sample of ``size`` rows with the conversion share of ``y`` (sklearn's split)."""
    from sklearn.model_selection import train_test_split

    chosen, _ = train_test_split(np.arange(len(y)), train_size=size, stratify=y, random_state=seed)
    return np.sort(chosen)


def _vocabulary(series: pd.Series) -> list[str]:
    """The column's levels, most frequent first, at most ``_MAX_LEVELS`` (the rest share one extra code)."""
    return level_labels(series).value_counts(sort=True).index[:_MAX_LEVELS].tolist()


def _conversion_days(rows: pd.DataFrame, outcome: str) -> np.ndarray:
    """Sorted days to convert of the matured leads that converted within the window (when times are known)."""
    if "duration_days" not in rows.columns or "event" not in rows.columns:
        return np.array([])
    timed = rows[outcome].astype(bool) & rows["event"].astype(bool) & rows["duration_days"].notna()
    return np.sort(rows.loc[timed, "duration_days"].to_numpy(float))


@dataclass(frozen=True)
class OpenLeadScores(ResultMixin):
    """Scores of the leads still open (not matured, not converted).

    ``probability`` is the chance of converting within the window counted from entry;
    ``probability_given_open`` conditions on the lead not having converted in its first
    ``days_open`` days, using the timing of past conversions (the same as ``probability`` when
    conversion times are unknown). Their sum is ``expected_conversions``.
    """

    title: ClassVar[str] = "Open leads: probability of converting within the window"
    scores: pd.DataFrame
    fitted: bool
    reason: Reason
    message: str
    expected_conversions: float

    def to_frame(self) -> pd.DataFrame:
        return self.scores

    def to_dict(self) -> dict:
        """The summary only: one row per open lead belongs in ``open_lead_scores.parquet``, not results.json."""
        return {"fitted": self.fitted, "reason": self.reason.value, "message": self.message,
                "n_open_leads": len(self.scores), "expected_conversions": jsonable(self.expected_conversions),
                "scores_file": "open_lead_scores.parquet" if len(self.scores) else None}


def score_open_leads(scorer: LeadScorer, frame: pd.DataFrame) -> OpenLeadScores:
    """Score the open leads of an :func:`~sla_toolkit.models.outcome_frame` with a fitted :class:`LeadScorer`."""
    is_open = frame["open"] if "open" in frame.columns else ~frame["matured"] & ~frame["converted"]
    leads = frame.loc[is_open.astype(bool)]
    days_open = leads["duration_days"].to_numpy(float) if "duration_days" in leads.columns \
        else np.full(len(leads), np.nan)
    scores = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy(), "days_open": days_open})
    result = scorer._fitted_result()
    if scorer.pipeline_ is None:
        scores["probability"] = scores["probability_given_open"] = np.nan
        return OpenLeadScores(scores, False, result.reason, result.message, float("nan"))
    probability = scorer.predict_proba(leads) if len(leads) else np.array([])
    scores["probability"] = probability
    scores["probability_given_open"] = _given_open(probability, days_open, scorer.conversion_days_)
    return OpenLeadScores(scores, True, Reason.OK, result.message, float(scores["probability_given_open"].sum()))


def _given_open(probability: np.ndarray, days_open: np.ndarray, conversion_days: np.ndarray) -> np.ndarray:
    """P(convert in window | not converted after t days) = p (1 - F(t)) / (1 - p F(t)), F = timing of conversions."""
    if len(conversion_days) == 0:
        return probability
    elapsed = np.searchsorted(conversion_days, np.nan_to_num(days_open, nan=0.0), side="right") / len(conversion_days)
    remaining = 1 - probability * elapsed
    safe = np.where(remaining > 0, remaining, 1.0)
    return np.where(remaining > 0, probability * (1 - elapsed) / safe, 0.0)
