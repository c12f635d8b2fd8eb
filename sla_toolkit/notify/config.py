"""The ``notify:`` block: who is told what, and when (``notify.yaml``, given with ``--notify FILE``).

It lives in its own file, not in sla.yaml: channels and recipients belong to a deployment (one file can
serve every SLA of a team), while sla.yaml is the agreement itself. Secrets never appear in it: webhook
URLs (they embed a token) and SMTP credentials are *names of environment variables*, checked when the
file is loaded, before any run starts.

Example
-------
.. code-block:: yaml

    notify:
      when: [missed, probability_below, failure]   # or [always] (not `on:`: YAML reads it as true)
      probability_below: 0.5
      fail_on_error: false        # true: a notification that could not be delivered makes the exit code 1
      retries: 3                  # after the first attempt; waits backoff_seconds, then doubles
      backoff_seconds: 2
      webhooks:
        - name: sales-marketing
          url_env: SLA_WEBHOOK_URL
          style: slack            # or teams (an Adaptive Card)
      email:
        host: smtp.example.com
        port: 587                 # STARTTLS on the submission port
        username_env: SLA_SMTP_USER
        password_env: SLA_SMTP_PASSWORD
        sender: sla-bot@example.com
        to: [sales-leads@example.com, marketing-ops@example.com]
        attach_report: true       # else the report's path (or report_link_base + path) is linked
"""
from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import SpecError
from ..spec import _format_location, _friendly, read_yaml

_SECRET_KEYS = {"url", "password", "username", "token", "webhook_url"}


class Rule(str, Enum):
    ALWAYS = "always"
    MISSED = "missed"
    PROBABILITY_BELOW = "probability_below"
    FAILURE = "failure"


class WebhookStyle(str, Enum):
    SLACK = "slack"
    TEAMS = "teams"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Webhook(_Strict):
    name: str = "webhook"
    url_env: str = Field(min_length=1)
    style: WebhookStyle = WebhookStyle.SLACK


class Email(_Strict):
    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 587
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None
    ca_file: Path | None = None          # a private CA for the SMTP server's certificate
    sender: str
    to: Annotated[list[str], Field(min_length=1)]
    attach_report: bool = True
    max_attachment_mb: Annotated[float, Field(gt=0)] = 10.0
    report_link_base: str | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> "Email":
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("give username_env and password_env together (or neither)")
        return self


class NotifySettings(_Strict):
    when: Annotated[list[Rule], Field(min_length=1)] = [Rule.MISSED, Rule.FAILURE]
    probability_below: Annotated[float, Field(ge=0, le=1)] = 0.5
    fail_on_error: bool = False
    retries: Annotated[int, Field(ge=0, le=10)] = 3
    backoff_seconds: Annotated[float, Field(ge=0)] = 2.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    webhooks: list[Webhook] = Field(default_factory=list)
    email: Email | None = None

    def environment_problems(self) -> list[tuple[str, str]]:
        """Named environment variables that are not set, as ``(path, message)`` pairs."""
        named = [(f"webhooks.{i}.url_env", w.url_env) for i, w in enumerate(self.webhooks)]
        if self.email is not None:
            named += [(f"email.{key}", getattr(self.email, key)) for key in ("username_env", "password_env")
                      if getattr(self.email, key)]
        return [(path, f"environment variable {name} is not set") for path, name in named
                if not os.environ.get(name, "").strip()]


def _secret_problems(data: dict) -> list[tuple[str, str]]:
    """Keys that would put a secret in the file itself."""
    sections = [("webhooks." + str(i), w) for i, w in enumerate(data.get("webhooks") or []) if isinstance(w, dict)]
    if isinstance(data.get("email"), dict):
        sections.append(("email", data["email"]))
    return [(f"{path}.{key}", f"secrets are read only from environment variables: use {key}_env naming "
                              "the variable that holds it")
            for path, section in sections for key in section if key in _SECRET_KEYS]


def load_notify(path: str | Path) -> NotifySettings:
    """Read the ``notify:`` block of ``path``; every problem (and every unset variable) in one error."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("notify"), dict):
        raise SpecError(str(path), [("notify", "expected a `notify:` mapping at the top level")])
    block = data["notify"]
    problems = _secret_problems(block)
    if not problems:
        try:
            settings = NotifySettings.model_validate(block)
        except ValidationError as exc:
            problems = [("notify." + _format_location(e["loc"]), _friendly(e)) for e in exc.errors()]
        else:
            problems = [("notify." + p, m) for p, m in settings.environment_problems()]
    if problems:
        raise SpecError(str(path), [(p if p.startswith("notify") else "notify." + p, m) for p, m in problems])
    return settings
