"""Where digests are kept: ``<out>/<sla-slug>/digests/<YYYY-MM-DD>.{json,txt,md,html}``.

The JSON holds the whole digest and its ``figures``; the next day's digest compares with the latest
earlier one. Files are written beside their target and renamed into place, so a digest read by the next
run is never half-written; running twice on one day replaces that day's files.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..run.folder import check_path_component

DIGEST_FOLDER = "digests"
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2})\.json$")
SUFFIXES = {"json": ".json", "text": ".txt", "markdown": ".md", "html": ".html"}


def digest_folder(out: Path | str, sla_slug: str) -> Path:
    return Path(out) / check_path_component(sla_slug, "SLA slug") / DIGEST_FOLDER


def previous_figures(folder: Path, day: str) -> tuple[str | None, dict | None]:
    """The date and ``figures`` of the latest digest dated before ``day`` (``(None, None)`` when none)."""
    if not folder.is_dir():
        return None, None
    earlier = sorted(m.group(1) for p in folder.iterdir() if (m := _DATED.match(p.name)) and m.group(1) < day)
    if not earlier:
        return None, None
    try:
        return earlier[-1], json.loads((folder / f"{earlier[-1]}.json").read_text(encoding="utf-8"))["figures"]
    except (OSError, ValueError, KeyError) as exc:
        raise OSError(f"the previous digest {folder / earlier[-1]}.json cannot be read ({exc}); "
                      "move it aside to start the change marks afresh") from None


def write_digest_files(folder: Path, day: str, contents: dict[str, str]) -> dict[str, Path]:
    """Write ``{"json": ..., "text": ..., ...}`` as ``<day>.<suffix>``; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for kind, text in contents.items():
        path = folder / f"{day}{SUFFIXES[kind]}"
        temporary = folder / f".{path.name}.tmp-{os.getpid()}"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
        written[kind] = path
    return written
