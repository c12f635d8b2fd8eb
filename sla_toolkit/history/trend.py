"""Since last cycle: each SLA check over the past cycles, whether last cycle's proposal was adopted, and
whether the metric each adjustment targeted moved.

The ledger is read once, by the runner, into a plain list of past cycles (:func:`past_cycles`), handed
to the report notebook as JSON; :func:`since_last_cycle` is pure. Movements between cycles are
associations (many things change between cycles); only the result of a randomized test run this cycle may
be worded as a cause, and it is quoted from the experiment section.
"""
from __future__ import annotations

import html
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any, Mapping

import pandas as pd
import yaml

from ..results import ResultMixin
from ..types import Direction, FindingKind
from .rows import check_rows, finding_rows
from .vocabulary import RunKind, RunStatus

MAX_PAST_CYCLES = 8
_CHANGE_LINE = re.compile(r"^#   (?P<path>[^:]+): (?P<old>.*?) -> (?P<new>.*?) \((?P<reason>.*)\)$")
Z95 = 1.959963984540054


def lineage(name: str) -> str:
    """An SLA and its proposed successors share a lineage: ``Q1 plan`` and ``Q1 plan-next``."""
    return name.removesuffix("-next")


def past_cycles(history, sla_name: str, cycle_id: str, limit: int = MAX_PAST_CYCLES) -> list[dict[str, Any]]:
    """The completed cycle runs of this SLA's lineage other than ``cycle_id`` (latest run per cycle), oldest
    first, each with its checks, its findings and its proposal, as JSON-safe dicts."""
    runs = history.list_runs()
    if runs.empty:
        return []
    names = runs["sla_name"].map(lineage) == lineage(sla_name)
    done = runs.loc[names & (runs["status"] == RunStatus.COMPLETED.value) & (runs["kind"] == RunKind.CYCLE.value)
                    & (runs["cycle_id"] != cycle_id) & runs["as_of"].notna()]
    done = done.sort_values(["as_of", "finished_at"]).drop_duplicates("cycle_id", keep="last").tail(limit)
    out = []
    for run in done.itertuples():
        checks, findings = history.run_rows(run.run_id)
        out.append({"cycle_id": run.cycle_id, "sla_name": run.sla_name, "as_of": run.as_of.isoformat(),
                    "checks": checks, "findings": [f for f in findings if f["kind"] != FindingKind.WATCH.value],
                    "proposal": history.proposal(run.run_id)})
    return out


@dataclass(frozen=True)
class ProposedChange:
    """One change last cycle proposed, and what this cycle's ``sla.yaml`` did with it."""

    path: str
    proposed: Any
    used: Any
    reason: str

    @property
    def adopted(self) -> bool:
        return _same(self.proposed, self.used)


@dataclass(frozen=True)
class MetricMove:
    """The metric an adjustment targeted, last cycle and this cycle, and the difference with its interval."""

    subject: str
    metric: str
    before: tuple[float, float, float]
    after: tuple[float, float, float]
    difference: tuple[float, float, float]
    direction: str
    causal: bool = False
    label: str = ""   # what people read ("SQL → customer conversion"); ``metric`` is the check's internal name

    @property
    def verdict(self) -> str:
        _, low, high = self.difference
        better_up = self.direction != Direction.AT_MOST.value
        if low > 0 or high < 0:
            improved = (low > 0) == better_up
            return "followed by an improvement" if improved else "followed by a decline"
        return "followed by no clear change"

    @property
    def sentence(self) -> str:
        fmt = _fmt_rate if self.metric.startswith(("rate", "follow-up")) else _fmt_number
        est, low, high = self.difference
        diff = (f"{100 * est:+.1f} points (95% CI {100 * low:+.1f} to {100 * high:+.1f})"
                if self.metric.startswith(("rate", "follow-up")) else f"{est:+,.1f} (95% CI {low:+,.1f} to {high:+,.1f})")
        wording = ("" if self.causal else " This is an association between cycles, not proof that the adjustment "
                                          "caused it.")
        return (f"{self.label or self.metric} ({self.subject}) went from {fmt(*self.before)} last cycle to {fmt(*self.after)} this "
                f"cycle, {diff}; the adjustment was {self.verdict}.{wording}")


@dataclass(frozen=True)
class SinceLastCycle(ResultMixin):
    """The "since last cycle" section of a report."""

    previous_cycle: str | None
    trend: pd.DataFrame
    changes: tuple[ProposedChange, ...]
    moves: tuple[MetricMove, ...]
    edited: tuple[str, ...]
    tested: tuple[str, ...] = ()   # results of the randomized test last cycle's proposal planned (may be causal)
    title = "Since last cycle"

    @property
    def adopted(self) -> bool | None:
        """True when every proposed change is in this cycle's sla.yaml (None without a previous proposal)."""
        return None if not self.changes else all(c.adopted for c in self.changes)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"adjustment": m.subject, "metric": m.metric, "last cycle": m.before[0],
                              "this cycle": m.after[0], "change": m.difference[0], "change low": m.difference[1],
                              "change high": m.difference[2], "verdict": m.verdict} for m in self.moves],
                            columns=["adjustment", "metric", "last cycle", "this cycle", "change", "change low",
                                     "change high", "verdict"])

    def changes_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"setting": c.path, "proposed": _show(c.proposed), "this cycle": _show(c.used),
                              "adopted": "yes" if c.adopted else "no", "why it was proposed": c.reason}
                             for c in self.changes],
                            columns=["setting", "proposed", "this cycle", "adopted", "why it was proposed"])

    def to_dict(self) -> dict:
        return {"previous_cycle": self.previous_cycle, "adopted": self.adopted,
                "trend": json.loads(self.trend.to_json(orient="records", date_format="iso")),
                "changes": json.loads(self.changes_frame().to_json(orient="records")),
                "edited": list(self.edited), "tested": list(self.tested), "moves": [{**json.loads(self.to_frame().iloc[[i]].to_json(
                    orient="records"))[0], "sentence": m.sentence, "causal": m.causal}
                    for i, m in enumerate(self.moves)]}

    def _repr_html_(self) -> str:
        if self.previous_cycle is None:
            return ('<div class="sla"><p>First cycle of this SLA in the history ledger: nothing to compare '
                    "yet.</p></div>")
        adopted = {None: "Last cycle left no proposal.", True: "Last cycle's proposal was adopted as proposed.",
                   False: "Last cycle's proposal was adopted only in part (see the table)."}[self.adopted]
        parts = [f'<div class="sla"><p>Previous cycle: <b>{html.escape(self.previous_cycle)}</b>. '
                 f"{html.escape(adopted)}</p>"]
        if self.changes:
            parts.append(self.changes_frame().to_html(index=False, escape=True))
        if self.edited:
            parts.append(f"<p>Also changed by hand: {html.escape(', '.join(self.edited))}.</p>")
        if self.moves:
            parts.append("<ul>" + "".join(f"<li>{html.escape(m.sentence)}</li>" for m in self.moves) + "</ul>")
        else:
            parts.append("<p>No adjustment with a measurable target to follow up.</p>")
        if self.tested:
            parts.append("<p>The test last cycle's proposal planned ran this cycle:</p><ul>"
                         + "".join(f"<li>{html.escape(t)}</li>" for t in self.tested) + "</ul>")
        return "".join(parts) + "</div>"

    def plot_trend(self, max_checks: int = 9):
        """Small multiples: each SLA check's estimate and interval per cycle, the target dashed."""
        import matplotlib.pyplot as plt

        names = list(dict.fromkeys(self.trend["name"]))[:max_checks] if not self.trend.empty else []
        if not names or self.trend["cycle"].nunique() < 2:
            return None   # a trend needs at least two cycles
        columns = min(3, len(names))
        rows = math.ceil(len(names) / columns)
        fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False)
        for ax, name in zip(axes.flat, names):
            part = self.trend.loc[self.trend["name"] == name]
            x = range(len(part))
            est = part["estimate"].astype(float)
            ax.errorbar(x, est, yerr=[(est - part["low"].astype(float)).clip(lower=0),
                                      (part["high"].astype(float) - est).clip(lower=0)], fmt="o-", capsize=3)
            if part["target"].notna().any():
                ax.plot(x, part["target"].astype(float), "k--", linewidth=1)
            ax.set_xticks(list(x), part["cycle"].astype(str), rotation=30, fontsize=7)
            ax.set_title(str(part["label"].iloc[0]) if "label" in part else name, fontsize=9)
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        fig.tight_layout()
        return fig


def since_last_cycle(current: Mapping[str, Any], past: list[Mapping[str, Any]]) -> SinceLastCycle:
    """Compare this cycle (a results dict: ``CycleResult.to_dict()`` or the same keys) with the past ones.

    ``current`` needs ``cycle_id``, ``as_of``, ``spec``, ``checks`` and ``findings``.
    """
    as_of = pd.Timestamp(current["as_of"])
    past = sorted((p for p in past if pd.Timestamp(p["as_of"]) < as_of), key=lambda p: p["as_of"])
    checks_now = check_rows(current)
    trend = _trend(past, current["cycle_id"], checks_now)
    if not past:
        return SinceLastCycle(None, trend, (), (), ())
    last = past[-1]
    spec_now = current["spec"]
    proposal_text = last.get("proposal") or ""
    changes = _proposed_changes(proposal_text, spec_now)
    proposed = yaml.safe_load(proposal_text) if proposal_text else None
    edited = tuple(p for p in _leaf_diff(proposed or {}, spec_now) if p not in {c.path for c in changes}
                   and not any(p.startswith(c.path + ".") for c in changes) and p != "name") if proposed else ()
    labels = {c.get("name"): c.get("label") for c in current.get("checks") or [] if c.get("label")}
    moves = tuple(replace(m, label=labels.get(m.metric, "")) for m in _moves(last, checks_now, changes))
    trend["label"] = trend["name"].map(lambda n: labels.get(n) or n)
    return SinceLastCycle(last["cycle_id"], trend, changes, moves, edited)


def _trend(past, cycle_id: str, checks_now) -> pd.DataFrame:
    rows = [{"cycle": p["cycle_id"], **{k: c.get(k) for k in ("name", "target", "estimate", "low", "high", "status")}}
            for p in past for c in p["checks"]]
    rows += [{"cycle": cycle_id, **{k: c.get(k) for k in ("name", "target", "estimate", "low", "high", "status")}}
             for c in checks_now]
    frame = pd.DataFrame(rows, columns=["cycle", "name", "target", "estimate", "low", "high", "status"])
    return frame.loc[frame["estimate"].notna()].reset_index(drop=True)


def _proposed_changes(proposal_text: str, spec_now: Mapping[str, Any]) -> tuple[ProposedChange, ...]:
    """The changes listed in the proposal's header, each with the value this cycle's spec uses."""
    if not proposal_text:
        return ()
    proposed = yaml.safe_load(proposal_text) or {}
    out = []
    for line in proposal_text.splitlines():
        match = _CHANGE_LINE.match(line)
        if not match or match["path"] in ("period",):
            continue
        path = match["path"]
        out.append(ProposedChange(path, _lookup(proposed, path), _lookup(spec_now, path), match["reason"]))
    return tuple(out)


def _moves(last: Mapping[str, Any], checks_now, changes) -> tuple[MetricMove, ...]:
    """Adjust findings and adopted target changes of last cycle, followed to the check they concern."""
    before = {c["name"]: c for c in last["checks"]}
    after = {c["name"]: c for c in checks_now}
    subjects: dict[str, str] = {}
    for f in last["findings"]:
        if f["kind"] == FindingKind.ADJUST.value and f["topic"].startswith("check:"):
            subjects.setdefault(f["topic"].split(":", 1)[1].replace("rate:", "rate "),
                                "flagged 'adjust' last cycle")
    for change in changes:
        if change.adopted and change.path.startswith("funnel.targets."):
            subjects.setdefault(f"rate {change.path.removeprefix('funnel.targets.')}",
                                f"target changed to {change.used} by the adopted proposal")
    moves = []
    for metric, subject in subjects.items():
        a, b = before.get(metric), after.get(metric)
        if not a or not b or any(x is None for x in (a["estimate"], a["low"], a["high"], b["estimate"], b["low"],
                                                     b["high"])) or a["low"] == a["high"] or b["low"] == b["high"]:
            continue   # no interval on one side (e.g. an actual count): nothing to test the move against
        moves.append(MetricMove(subject, metric, (a["estimate"], a["low"], a["high"]),
                                (b["estimate"], b["low"], b["high"]), _difference(a, b),
                                b.get("direction") or a.get("direction") or Direction.AT_LEAST.value))
    return tuple(moves)


def _difference(a, b) -> tuple[float, float, float]:
    """B − A with a normal interval, each side's standard error read from its own 95% interval."""
    se_a = (a["high"] - a["low"]) / (2 * Z95)
    se_b = (b["high"] - b["low"]) / (2 * Z95)
    diff = b["estimate"] - a["estimate"]
    half = Z95 * math.hypot(se_a, se_b)
    return diff, diff - half, diff + half


def _lookup(data: Any, path: str) -> Any:
    """Value at a dotted path whose keys may themselves hold dots or arrows (``funnel.targets.a->b``)."""
    if not path:
        return data
    if not isinstance(data, Mapping):
        return None
    for key in sorted((k for k in data if path == k or path.startswith(f"{k}.")), key=len, reverse=True):
        return _lookup(data[key], path[len(key) + 1:])
    return None


def _leaf_diff(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for key in list(a) + [k for k in b if k not in a]:
            out += _leaf_diff(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
        return out
    return [] if _same(a, b) else [prefix]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return str(a) == str(b) if a is not None and b is not None else a is b


def _show(value: Any) -> str:
    return "–" if value is None else str(value)


def _fmt_rate(est: float, low: float, high: float) -> str:
    return f"{100 * est:.1f}% (95% CI {100 * low:.1f}%–{100 * high:.1f}%)"


def _fmt_number(est: float, low: float, high: float) -> str:
    return f"{est:,.1f} (95% CI {low:,.1f}–{high:,.1f})"


def since_last_cycle_of(result, past_cycles_json: str) -> SinceLastCycle:
    """:func:`since_last_cycle` for a :class:`~sla_toolkit.pipeline.CycleResult` and the runner's JSON."""
    from ..results import jsonable

    current = {"cycle_id": result.cycle_id, "as_of": jsonable(result.as_of), "spec": result.spec.to_dict(),
               "checks": jsonable(result.checks.to_frame()), "findings": result.findings.to_dict()}
    section = since_last_cycle(current, json.loads(past_cycles_json) if past_cycles_json else [])
    if any(c.path == "experiment" and c.adopted for c in section.changes):
        quotes = tuple(f.sentence for f in result.findings.items
                       if f.rule == "experiment" and f.kind in (FindingKind.WORKED, FindingKind.ADJUST))
        section = replace(section, tested=quotes or ("No arm differed clearly from its control yet.",))
    return section


def pacing_results(run) -> dict[str, Any]:
    """A ``pace`` run (:class:`~sla_toolkit.pacing_run.PacingRun`) as the results dict the ledger records: one
    check, customers expected by the deadline (90% interval) against the target, so the daily trend is kept."""
    from ..results import jsonable

    p = run.pacing
    check = {"name": "pacing customers by the deadline", "target": p.target_customers,
             "direction": Direction.AT_LEAST.value, "estimate": p.expected_customers, "low": p.low, "high": p.high,
             "n": p.leads_so_far, "status": p.status.value,
             "reason": f"probability of reaching the target {p.probability:.0%}" if p.probability == p.probability
             else p.note}
    return {"sla": run.spec.name, "cycle_id": f"{run.as_of:%Y-%m-%d}", "as_of": jsonable(run.as_of),
            "checks": [jsonable(check)], "findings": {"items": []}}


def record_pacing(history, run, warn) -> None:
    """Record a ``pace`` run in the ledger (kind ``pacing``); a ledger that cannot be written only warns."""
    results = pacing_results(run)
    try:
        run_id = history.start_run(run.spec.name, results["cycle_id"], sla_slug=run.spec.slug, kind=RunKind.PACING)
        history.complete_run(run_id, results)
    except Exception as exc:  # noqa: BLE001 - the pacing figures are already printed
        warn(f"the pace run was not recorded in {history.location.label}: {exc}")
