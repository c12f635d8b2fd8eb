"""Folder names for SLAs: readable, file-system safe and unique per SLA name.

``folder_slug("Q1 2025 demand generation")`` is ``Q1-2025-demand-generation``: a plain ASCII name
only loses its spaces. Any other name is transliterated (``Маркетинг`` → ``Marketing``) and gets a
short hash of the full name (``Marketing-5f1c0a2e``), so two names that transliterate alike
(``Маркетинг`` and ``Mаркетинг``) or that have no letters at all still get two folders.
"""
from __future__ import annotations

import hashlib
import re

from anyascii import anyascii

MAX_SLUG_CHARS = 80   # well under the 255-byte limit of a file name, leaving room for stamps and suffixes
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_LOSSLESS = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]*")


def name_hash(name: str) -> str:
    """Eight hex digits of the SHA-256 of ``name`` (UTF-8)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def folder_slug(name: str) -> str:
    """The report folder name of the SLA called ``name``.

    Examples
    --------
    >>> folder_slug("q1 webinar EMEA")
    'q1-webinar-EMEA'
    >>> folder_slug("Маркетинг")
    'Marketing-1c47fda6'
    """
    plain = _UNSAFE.sub("-", name).strip("-")
    if _LOSSLESS.fullmatch(name) and len(plain) <= MAX_SLUG_CHARS and not name.endswith(" "):
        return plain
    readable = _UNSAFE.sub("-", anyascii(name).replace(".", "-")).strip("-_")[:MAX_SLUG_CHARS].strip("-_")
    return f"{readable or 'sla'}-{name_hash(name)}"
