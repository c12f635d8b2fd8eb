"""Notifications after ``run``, ``pace``, ``digest`` and ``batch``, and on any failure (``--notify FILE``).

See :mod:`sla_toolkit.notify.config` for the ``notify:`` block; :func:`dispatch` sends one notice.
"""
from .config import NotifySettings, Rule, WebhookStyle, load_notify
from .dispatch import DispatchReport, dispatch, exit_code_after
from .message import Notice, failure_notice, matching_rules

__all__ = ["DispatchReport", "Notice", "NotifySettings", "Rule", "WebhookStyle", "dispatch", "exit_code_after",
           "failure_notice", "load_notify", "matching_rules"]
