"""Delivery channels: a JSON webhook (Slack- or Teams-compatible) and e-mail over SMTP with STARTTLS.

Each ``send_*`` makes one attempt and raises on failure; retries are the dispatcher's job.
"""
from __future__ import annotations

import json
import mimetypes
import os
import smtplib
import ssl
import urllib.request
from email.message import EmailMessage

from .config import Email, Webhook, WebhookStyle
from .message import Notice


class DeliveryError(Exception):
    """One attempt to deliver a notification failed (the text never contains a secret)."""


def webhook_payload(notice: Notice, style: WebhookStyle) -> dict:
    """Slack: ``{"text": mrkdwn}``. Teams (workflow webhooks): a message with one Adaptive Card."""
    if style is WebhookStyle.SLACK:
        return {"text": notice.markdown.replace("**", "*")}
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.4", "body": [
                        {"type": "TextBlock", "text": notice.title, "weight": "Bolder", "wrap": True},
                        {"type": "TextBlock", "text": notice.markdown, "wrap": True}]}}]}


def send_webhook(notice: Notice, hook: Webhook, timeout_s: float) -> str:
    """POST the payload as JSON to the URL in ``$<url_env>``; return a short receipt."""
    url = os.environ.get(hook.url_env, "").strip()
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"${hook.url_env} does not hold an http(s) URL")
    body = json.dumps(webhook_payload(notice, hook.style)).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8",
                                              "User-Agent": "sla-toolkit"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - URL is configured
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"webhook {hook.name}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:   # never echo the URL: it carries the token
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"webhook {hook.name}: {type(reason).__name__}: {reason}") from None


def email_message(notice: Notice, email: Email) -> EmailMessage:
    """Plain text with an HTML alternative when there is one; the report attached or linked."""
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = notice.title, email.sender, ", ".join(email.to)
    text = notice.text
    report = notice.report
    attach = report is not None and email.attach_report and report.exists() \
        and report.stat().st_size <= email.max_attachment_mb * 1e6
    if report is not None and not attach:
        link = f"{email.report_link_base.rstrip('/')}/{report.name}" if email.report_link_base else str(report)
        text += f"\nReport: {link}\n"
    message.set_content(text)
    if notice.html:
        message.add_alternative(notice.html, subtype="html")
    if attach:
        kind = (mimetypes.guess_type(report.name)[0] or "application/octet-stream").split("/")
        message.add_attachment(report.read_bytes(), maintype=kind[0], subtype=kind[1], filename=report.name)
    return message


def send_email(notice: Notice, email: Email, timeout_s: float) -> str:
    """Send through ``host:port``, upgrading with STARTTLS (certificate checked) before logging in."""
    message = email_message(notice, email)
    try:
        with smtplib.SMTP(email.host, email.port, timeout=timeout_s) as smtp:
            smtp.ehlo()
            if email.starttls:
                context = ssl.create_default_context(cafile=str(email.ca_file) if email.ca_file else None)
                smtp.starttls(context=context)
                smtp.ehlo()
            if email.username_env:
                smtp.login(os.environ[email.username_env], os.environ[email.password_env])
            refused = smtp.send_message(message)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"e-mail via {email.host}:{email.port}: {type(exc).__name__}: {exc}") from None
    if refused:
        raise DeliveryError(f"e-mail via {email.host}:{email.port}: refused recipients {sorted(refused)}")
    return f"accepted for {len(email.to)} recipient(s)"
