"""The next-cycle SLA proposal: a new ``sla.yaml`` that loads with the same spec model.

Rules (nothing changes without a finding behind it):
- the period moves forward by its own length;
- the lead-volume objective is the smallest lead count that reaches the customer objective with
  probability ``analysis.plan_confidence`` (binomial variation and the rate's uncertainty, customers by
  the deadline when timestamps allow; :mod:`sla_toolkit.lead_plan`); without a plan it falls back to
  target customers ÷ the observed lead-to-customer rate (which reaches the objective about half the time);
- a stage target is raised to the lower bound of its interval only when the check was met with a
  margin the data confirms; a missed target is kept (the fix is the stage, not the bar);
- the channel mix moves share from channels with an ``adjust`` finding to channels with a ``worked``
  finding, no channel moving more than ``analysis.max_mix_shift`` of its own share; it is labelled a
  hypothesis to test. A randomized test's verdict on channels overrides the associations and may move
  twice as far (``RANDOMIZED_SHIFT_FACTOR``);
- the next test (``experiment:``): an undecided test continues, else the strongest association becomes a
  randomized test sized for 80% power at ``analysis.min_effect`` (see :mod:`sla_toolkit.experiments.plan`).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import pandas as pd
import yaml

from ..lead_plan import LeadPlan
from ..results import ResultMixin
from ..spec import SlaSpec, spec_from_dict
from ..types import FindingKind
from .model import Findings
from .wording import pct


@dataclass(frozen=True)
class RateEstimateView:
    """A rate with its interval, as the proposal needs it (any estimator)."""

    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class ProposalInputs:
    spec: SlaSpec
    findings: Findings
    lead_to_customer: RateEstimateView | None
    leads_needed_90: tuple[float, float, float] | None   # estimate, low, high
    step_rates: dict[str, RateEstimateView]
    channel_counts: dict[str, int]
    next_experiment: dict | None = None                    # the next cycle's ``experiment:`` block
    next_experiment_reason: str = ""
    randomized_directions: dict[str, int] = field(default_factory=dict)   # channel -> +1 / -1 from a test
    lead_plan: LeadPlan | None = None                      # the lead target at ``analysis.plan_confidence``


RANDOMIZED_SHIFT_FACTOR = 2.0


@dataclass(frozen=True)
class Change:
    path: str
    old: object
    new: object
    reason: str


@dataclass(frozen=True)
class NextCycleProposal(ResultMixin):
    """The proposed spec, its YAML text (with a comment per change) and the list of changes."""

    spec: SlaSpec
    yaml_text: str
    changes: tuple[Change, ...]
    title = "Next-cycle proposal"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"setting": c.path, "this cycle": c.old, "proposed": c.new, "why": c.reason}
                             for c in self.changes], columns=["setting", "this cycle", "proposed", "why"])

    def to_dict(self) -> dict:
        return {"spec": self.spec.to_dict(), "yaml": self.yaml_text,
                "changes": [{"path": c.path, "old": _plain(c.old), "new": _plain(c.new), "reason": c.reason}
                            for c in self.changes]}


def propose_next_cycle(inputs: ProposalInputs) -> NextCycleProposal:
    spec = inputs.spec
    data = spec.to_dict()
    changes: list[Change] = []
    comments: dict[tuple[str, ...], str] = {}

    start, end = _next_period(spec.period.start, spec.period.end)
    data["period"] = {"start": start.isoformat(), "end": end.isoformat()}
    changes.append(Change("period", f"{spec.period.start}..{spec.period.end}", f"{start}..{end}",
                          "the next cycle of the same length"))
    data["name"] = _next_name(spec.name)

    _propose_lead_volume(inputs, data, changes, comments)
    _propose_stage_targets(inputs, data, changes, comments)
    _propose_channel_mix(inputs, data, changes, comments)
    _propose_experiment(inputs, data, changes, comments)

    proposed = spec_from_dict(data, "next-cycle proposal")
    text = _emit_yaml(proposed, changes, comments)
    return NextCycleProposal(proposed, text, tuple(changes))


def _next_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Whole calendar months move by months (Q1 -> Q2); any other period by its length in days."""
    new_start = end + dt.timedelta(days=1)
    if start.day == 1 and new_start.day == 1:
        months = (new_start.year - start.year) * 12 + new_start.month - start.month
        new_end = (pd.Timestamp(new_start) + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()
        return new_start, new_end
    return new_start, new_start + (end - start)


def _next_name(name: str) -> str:
    return name if name.endswith("-next") else f"{name}-next"


def _propose_lead_volume(inputs: ProposalInputs, data: dict, changes: list[Change], comments: dict) -> None:
    spec, rate = inputs.spec, inputs.lead_to_customer
    customers = spec.objectives.customers
    plan = inputs.lead_plan
    if customers is not None and plan is not None and plan.leads:
        objectives = data.setdefault("objectives", {})
        old = objectives.get("leads")
        objectives["leads"] = plan.leads
        reason = plan_reason(plan, spec.funnel.first, spec.funnel.last)
        changes.append(Change("objectives.leads", old, plan.leads, reason))
        comments[("objectives", "leads")] = reason
        return
    if customers is None or rate is None or not rate.estimate or math.isnan(rate.estimate):
        return
    leads = math.ceil(customers / rate.estimate)
    objectives = data.setdefault("objectives", {})
    old = objectives.get("leads")
    objectives["leads"] = leads
    interval = inputs.leads_needed_90
    span = (f"; 90% interval {interval[1]:,.0f}–{interval[2]:,.0f}" if interval and not math.isnan(interval[1])
            else "")
    reason = (f"{customers:,} customers ÷ observed {spec.funnel.first}-to-{spec.funnel.last} rate "
              f"{pct(rate.estimate, 2)} ({pct(rate.low, 2)}–{pct(rate.high, 2)} at 90%){span}")
    changes.append(Change("objectives.leads", old, leads, reason))
    comments[("objectives", "leads")] = reason


def plan_reason(plan: LeadPlan, first: str, last: str) -> str:
    """The lead target's wording: the confidence it is planned at and what it rests on."""
    rate = (f"{first}-to-{last} rate by the deadline" if plan.basis.value == "by_deadline"
            else f"{first}-to-{last} rate")
    return (f"{plan.target_customers:,} customers with {pct(plan.confidence, 0)} confidence: the smallest number of "
            f"{first} leads that reaches them with probability ≥ {pct(plan.confidence, 0)} given a {rate} of "
            f"{pct(plan.rate, 2)} ({pct(plan.rate_low, 2)}–{pct(plan.rate_high, 2)} at 90%) and binomial "
            f"variation; {plan.leads_at_rate:,} (customers ÷ rate) would reach them with probability "
            f"{pct(plan.probability_at_rate, 0)}")


def _propose_stage_targets(inputs: ProposalInputs, data: dict, changes: list[Change], comments: dict) -> None:
    targets = data.get("funnel", {}).get("targets", {})
    for transition, target in list(targets.items()):
        topics = {f"check:rate {transition}", f"check:rate:{transition}"}
        finding = next((f for f in inputs.findings.items if f.topic in topics), None)
        if finding is not None and finding.kind is FindingKind.WORKED and transition in inputs.step_rates:
            observed = inputs.step_rates[transition]
            new = round(math.floor(observed.low * 1000) / 1000, 3)
            if new > target:
                targets[transition] = new
                reason = (f"raised: observed {pct(observed.estimate)} (95% CI {pct(observed.low)}–"
                          f"{pct(observed.high)}) clears the old target; new target = lower bound")
                changes.append(Change(f"funnel.targets.{transition}", target, new, reason))
                comments[("funnel", "targets", transition)] = reason
                continue
        if finding is not None and finding.kind is FindingKind.ADJUST:
            comments[("funnel", "targets", transition)] = "kept: missed this cycle; fix the stage, not the bar"
        else:
            comments[("funnel", "targets", transition)] = "kept: no clear evidence for a change"


def _propose_channel_mix(inputs: ProposalInputs, data: dict, changes: list[Change], comments: dict) -> None:
    counts = {c: n for c, n in inputs.channel_counts.items() if n > 0}
    total = sum(counts.values())
    if total == 0 or len(counts) < 2:
        return
    shares = {c: n / total for c, n in counts.items()}
    direction = _channel_directions(inputs, set(shares))
    bound = inputs.spec.analysis.max_mix_shift
    up = [c for c, d in direction.items() if d > 0]
    down = [c for c, d in direction.items() if d < 0]
    new = dict(shares)
    limit = {c: min(1.0, bound * (RANDOMIZED_SHIFT_FACTOR if c in inputs.randomized_directions else 1.0))
             for c in shares}
    if up and down:
        movable = min(sum(limit[c] * shares[c] for c in down), sum(limit[c] * shares[c] for c in up))
        down_total, up_total = sum(shares[c] for c in down), sum(shares[c] for c in up)
        for c in down:
            new[c] = shares[c] - movable * shares[c] / down_total
        for c in up:
            new[c] = shares[c] + movable * shares[c] / up_total
    rounded = {c: round(v, 4) for c, v in sorted(new.items(), key=lambda kv: -kv[1])}
    biggest = max(rounded, key=rounded.get)
    rounded[biggest] = round(rounded[biggest] + 1 - sum(rounded.values()), 4)
    data["channel_mix"] = rounded
    for c in rounded:
        if direction.get(c, 0) and abs(rounded[c] - shares[c]) > 1e-9:
            tested = c in inputs.randomized_directions
            why = ((("more: better than control in a randomized test" if tested else "more: a 'worked' finding")
                    if direction[c] > 0 else
                    ("less: beaten in a randomized test" if tested else "less: an 'adjust' finding"))
                   + f" (share {pct(shares[c])} → {pct(rounded[c])}, bounded by {pct(limit[c], 0)} of its share)")
            changes.append(Change(f"channel_mix.{c}", round(shares[c], 4), rounded[c],
                                  why + ("" if tested else "; hypothesis to test")))
            comments[("channel_mix", c)] = why
        else:
            comments[("channel_mix", c)] = "this cycle's share" + ("" if direction.get(c, 0) else
                                                                   " (no finding: unchanged)")
    if not (up and down):
        comments[("channel_mix",)] = ("unchanged: a shift needs channels that did clearly better and clearly "
                                      "worse than the rest")


def _channel_directions(inputs: ProposalInputs, channels: set[str]) -> dict[str, int]:
    spec, direction = inputs.spec, {}
    for finding in inputs.findings.items:
        channel = None
        if finding.rule == "breakdown" and finding.topic.startswith(f"breakdown:{spec.channel_column}="):
            channel = finding.topic.split("=", 1)[1].rsplit(":", 1)[0]
        elif finding.rule == "cost":
            channel = finding.topic.split(":", 1)[1]
        if channel in channels and finding.kind in (FindingKind.WORKED, FindingKind.ADJUST):
            vote = 1 if finding.kind is FindingKind.WORKED else -1
            if direction.get(channel, vote) != vote:
                direction[channel] = 0   # mixed evidence: leave it alone
            else:
                direction[channel] = vote
    # a randomized verdict outranks any association about the same channel
    direction.update({c: v for c, v in inputs.randomized_directions.items() if c in channels})
    return direction


def _propose_experiment(inputs: ProposalInputs, data: dict, changes: list[Change], comments: dict) -> None:
    """The next cycle's test: a continued or newly planned ``experiment:`` block (or none)."""
    old = data.pop("experiment", None)
    if inputs.next_experiment is not None:
        data["experiment"] = inputs.next_experiment
        changes.append(Change("experiment", _plain(old and "this cycle's test"),
                              inputs.next_experiment.get("name", "test"), inputs.next_experiment_reason))
        comments[("experiment",)] = inputs.next_experiment_reason
    elif old is not None:
        changes.append(Change("experiment", "this cycle's test", None,
                              "decided (or cannot be decided): the test ends with this cycle"))


def _emit_yaml(spec: SlaSpec, changes: list[Change], comments: dict) -> str:
    """YAML text of ``spec`` with a header summarising the changes and a comment on each changed line."""
    body = yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True, width=110)
    lines, path, out = body.splitlines(), [], []
    for line in lines:
        indent = (len(line) - len(line.lstrip(" "))) // 2
        key = line.strip().split(":", 1)[0].strip("'\"")
        path = path[:indent] + [key]
        if tuple(path[:-1]) in comments and len(path) >= 2 and tuple(path[:-1]) == ("channel_mix",) and \
                path[-1] == next(iter(spec.channel_mix or {}), None):
            out.append("  # " + _comment_text(comments[tuple(path[:-1])]))
        comment = comments.get(tuple(path))
        out.append(f"{line}  # {_comment_text(comment)}" if comment else line)
    header = ["# Next-cycle SLA proposed by sla_toolkit from this cycle's findings.",
              "# Review, edit and adopt it; every change below has a finding behind it.",
              "# Channel-mix shifts are hypotheses to test, not proven effects."]
    header += [_comment_text(f"#   {c.path}: {_plain(c.old)} -> {_plain(c.new)} ({c.reason})") for c in changes]
    text = "\n".join(header + out) + "\n"
    if yaml.safe_load(text) != yaml.safe_load(body):
        # a comment landed inside a multi-line value (a long or hostile level name): keep the data exact
        text = "\n".join(header) + "\n" + body
    return text


def _comment_text(text: str) -> str:
    """One comment line: line breaks and other control characters in names cannot end the comment."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _plain(value: object) -> object:
    return value if isinstance(value, (int, float, str)) or value is None else str(value)
