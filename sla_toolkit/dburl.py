"""Database URLs held in environment variables: refuse ambiguous ones and mask the password whole.

A password may contain ``@`` only URL-encoded (``%40``): ``user:p@ss@host`` is read by drivers as the
password ``p`` on the host ``ss@host``, so part of the password would end up in "cannot resolve host"
messages. Such URLs are refused without being shown.
"""
from __future__ import annotations

import re

_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>.*)@(?P<rest>[^@]*)$", re.S)


def ambiguous_password(url: str) -> bool:
    """True when the URL holds more than one ``@`` before its host (an unencoded ``@`` in the password)."""
    head = url.split("?", 1)[0]
    return head.count("@") > 1


def masked_url(url: str) -> str:
    """The URL with everything between ``user:`` and the last ``@`` replaced by ``***``."""
    match = _AUTHORITY.match(url.split("?", 1)[0])
    if not match:
        return url.split("?", 1)[0]
    user, _, password = match["userinfo"].partition(":")
    shown = f"{user}:***" if password or ":" in match["userinfo"] else user
    return f"{match['scheme']}{shown}@{match['rest']}"


def ambiguous_password_message(variable: str) -> str:
    return (f"the URL in ${variable} has more than one '@' before its host: a password containing '@' must be "
            "URL-encoded as %40 (the URL is not shown because it holds a password)")
