"""What a notification says (:class:`Notice`) and whether the rules want it sent (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from .config import NotifySettings, Rule


@dataclass(frozen=True)
class Notice:
    """One message about one SLA: a title, its text and Markdown, and what the alert rules look at.

    ``report`` is the file attached to e-mail (report.html, the digest's HTML, failure.md); ``facts`` are
    things the reader must know beyond the figures (a stale lock cleared, an abandoned run repaired).
    """

    sla: str
    command: str
    title: str
    text: str
    markdown: str
    html: str | None = None
    status: str | None = None
    probability: float | None = None
    failed: bool = False
    report: Path | None = None
    facts: tuple[str, ...] = field(default_factory=tuple)

    def with_facts(self, facts: tuple[str, ...] | list[str]) -> Notice:
        if not facts:
            return self
        lines = "\n".join(f"Note: {f}" for f in facts)
        return Notice(self.sla, self.command, self.title, f"{self.text.rstrip()}\n{lines}\n",
                      f"{self.markdown.rstrip()}\n" + "\n".join(f"_Note: {f}_" for f in facts) + "\n", self.html,
                      self.status, self.probability, self.failed, self.report, (*self.facts, *facts))


def matching_rules(settings: NotifySettings, notice: Notice) -> list[Rule]:
    """The alert rules this notice satisfies; it is sent when the list is not empty."""
    matched = []
    for rule in settings.when:
        if rule is Rule.ALWAYS \
                or (rule is Rule.FAILURE and notice.failed) \
                or (rule is Rule.MISSED and notice.status == "MISSED") \
                or (rule is Rule.PROBABILITY_BELOW and notice.probability is not None
                    and math.isfinite(notice.probability) and notice.probability < settings.probability_below):
            matched.append(rule)
    return matched


def failure_notice(command: str, sla: str, error: BaseException) -> Notice:
    """A run that failed: what failed, why, and where the failure report is."""
    folder = getattr(error, "failure_dir", None)
    report = Path(folder) / "failure.md" if folder and (Path(folder) / "failure.md").exists() else None
    where = f"\nFailure report: {report}" if report else ""
    text = f"{sla}: `sla-toolkit {command}` FAILED\n{type(error).__name__}: {error}{where}\n"
    return Notice(sla, command, f"{sla}: {command} FAILED", text, text, failed=True, report=report)
