"""Send a notice on every configured channel: retries with backoff, a log line and a ledger row each.

A notification never costs the report: it is sent after the report is in place, and a delivery that
fails after its retries is logged (stderr and ``<out>/notifications.log``) and recorded in the ledger;
whether it changes the exit code is ``notify.fail_on_error``'s call (see :func:`exit_code_after`).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .channels import DeliveryError, send_email, send_webhook
from .config import NotifySettings
from .message import Notice, matching_rules

LOG_FILE = "notifications.log"


@dataclass(frozen=True)
class Delivery:
    channel: str
    sent: bool
    attempts: int
    detail: str


@dataclass(frozen=True)
class DispatchReport:
    """What happened to one notice: the rules it matched and one :class:`Delivery` per channel."""

    rules: tuple[str, ...]
    deliveries: tuple[Delivery, ...]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.deliveries if not d.sent]


def _channels(settings: NotifySettings) -> list[tuple[str, Callable[[Notice], str]]]:
    timeout = settings.timeout_seconds
    channels = [(f"webhook:{hook.name}", lambda n, hook=hook: send_webhook(n, hook, timeout))
                for hook in settings.webhooks]
    if settings.email is not None:
        channels.append((f"email:{settings.email.host}", lambda n: send_email(n, settings.email, timeout)))
    return channels


def _attempt(send: Callable[[Notice], str], notice: Notice, settings: NotifySettings,
             sleep: Callable[[float], None]) -> tuple[bool, int, str]:
    wait = settings.backoff_seconds
    detail = ""
    for attempt in range(1, settings.retries + 2):
        try:
            return True, attempt, send(notice)
        except DeliveryError as exc:
            detail = str(exc)
        except Exception as exc:  # noqa: BLE001 - a broken channel must not cost the others or the report
            detail = f"{type(exc).__name__}: {exc}"
        if attempt <= settings.retries:
            sleep(wait)
            wait *= 2
    return False, settings.retries + 1, detail


def dispatch(notice: Notice, settings: NotifySettings, *, log_dir: Path | None = None, history=None,
             sleep: Callable[[float], None] = time.sleep) -> DispatchReport:
    """Send ``notice`` when a rule matches; log and record every channel's outcome."""
    rules = tuple(r.value for r in matching_rules(settings, notice))
    if not rules:
        return DispatchReport((), ())
    deliveries = []
    for name, send in _channels(settings):
        sent, attempts, detail = _attempt(send, notice, settings, sleep)
        delivery = Delivery(name, sent, attempts, detail)
        deliveries.append(delivery)
        _log(notice, rules, delivery, log_dir)
        _record(notice, rules, delivery, history)
    return DispatchReport(rules, tuple(deliveries))


def _log(notice: Notice, rules: tuple[str, ...], delivery: Delivery, log_dir: Path | None) -> None:
    verdict = "sent" if delivery.sent else f"FAILED after {delivery.attempts} attempt(s)"
    print(f"sla-toolkit: notification ({', '.join(rules)}) via {delivery.channel}: {verdict}: {delivery.detail}",
          file=sys.stderr, flush=True)
    if log_dir is None:
        return
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        line = {"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "sla": notice.sla,
                "command": notice.command, "rules": list(rules), "channel": delivery.channel,
                "sent": delivery.sent, "attempts": delivery.attempts, "detail": delivery.detail}
        with open(log_dir / LOG_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")
    except OSError as exc:
        print(f"sla-toolkit: warning: could not write {log_dir / LOG_FILE}: {exc}", file=sys.stderr)


def _record(notice: Notice, rules: tuple[str, ...], delivery: Delivery, history) -> None:
    if history is None:
        return
    from .ledger import record_delivery

    try:
        record_delivery(history, {"sla_name": notice.sla, "command": notice.command, "rules": ",".join(rules),
                                  "channel": delivery.channel, "status": "sent" if delivery.sent else "failed",
                                  "attempts": delivery.attempts, "detail": delivery.detail})
    except Exception as exc:  # noqa: BLE001 - the ledger is an index; never the reason a run fails
        print(f"sla-toolkit: warning: history: notification not recorded: {type(exc).__name__}: {exc}",
              file=sys.stderr)


def exit_code_after(code: int, report: DispatchReport, settings: NotifySettings) -> int:
    """The run's own exit code, or 1 when a delivery failed and ``fail_on_error`` says it matters."""
    if report.failed and settings.fail_on_error and code == 0:
        return 1
    return code
